/**
 * Where two features meet, through the real Worker: combinations a merchant runs into that each feature's own tests
 * do not reach. Notifications and answers signed with node:crypto and the fixtures' throwaway keys.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { network } from '../msw'
import { ACCEPT, admin, forwardUrl, notify, orderView, ownKeys, registerOrder } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import { inOrderStore, runDueQuery } from '../support/orders'
import { ALIPAY_GATEWAY, alipayRefundNotify, holdFirstAlipayRequest, receiveEvents, tradeQueryAnswers } from '../support/refunds'
import { alipayTrade, closedOrder, saveQueryingMerchant } from '../support/closed-orders'

/** Alipay's trade query answers `first` when first asked about `outTradeNo`, and paid (1.00) from then on. */
function answeredThenPaid(outTradeNo: string, tradeNo: string, first: 'TRADE_CLOSED' | 'WAIT_BUYER_PAY'): string[] {
  let answers = 0
  return tradeQueryAnswers((asking): Record<string, string> => {
    if (asking === outTradeNo) answers += 1
    return asking === outTradeNo && answers === 1
      ? { trade_no: tradeNo, trade_status: first, total_amount: '1.00' }
      : { trade_no: tradeNo, trade_status: 'TRADE_SUCCESS', total_amount: '1.00', send_pay_date: '2026-11-22 17:59:58' }
  })
}

describe('confirmPaymentsByQuery × a payment after a close', () => {
  it('confirms by query, and forwards, a payment notified after the order was closed (the payment wins, as unconfirmed)', async () => {
    const merchantId = 'x-confirm-after-close'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked, payment } = await closedOrder(merchantId, 'CLOSEDPAID', 'paid')
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))

    // The money arrived after all: Alipay notifies the payment, and the gateway takes it (the provider stops retrying).
    expect(await (await notify('alipay', merchantId, payment())).text()).toBe(ACCEPT.alipay.body)
    await runDurableObjectAlarm(stub)
    await runDurableObjectAlarm(stub)
    // Without confirmPaymentsByQuery the payment wins over the close; confirmed, it must win too.
    expect(asked).toEqual([outTradeNo])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed', 'payment.succeeded']))
  })

  it('drops such a payment once the provider’s signed answer says the trade is closed, and asks no more', async () => {
    const merchantId = 'x-confirm-after-close-denied'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked, payment } = await closedOrder(merchantId, 'CLOSEDDENIED', 'closed')
    expect(await (await notify('alipay', merchantId, payment())).text()).toBe(ACCEPT.alipay.body)
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'closed' })
    const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ nextQueryAt: null })
    expect(plan?.unconfirmed).toBeUndefined()
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))
  })
})

describe('requireRegisteredOrders × a payment after a close', () => {
  it('refuses, as for any unregistered order, a payment of a never-registered order that was closed first, until it is registered', async () => {
    const merchantId = 'x-unregistered-after-close'
    await saveQueryingMerchant(merchantId, { requireRegisteredOrders: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, payment } = await closedOrder(merchantId, 'UNREGCLOSED', 'paid')
    expect((await notify('alipay', merchantId, payment())).status).toBe(409)
    expect((await orderView(merchantId, 'alipay', outTradeNo))!.notifications.at(-1)).toMatchObject({
      verdict: 'rejected',
      reason: 'order_not_registered',
    })
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))
    // Registered (before its query ran), Alipay's retry is accepted: once.
    await registerOrder(merchantId, outTradeNo, 100)
    expect(await (await notify('alipay', merchantId, payment())).text()).toBe('success')
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed', 'payment.succeeded']))
  })
})

describe('a doubtful report about a closed order', () => {
  it('is asked about, for a merchant that requires registered orders and has query keys, and the answer pays it once', async () => {
    const merchantId = 'x-unregistered-closed-keys'
    await saveQueryingMerchant(merchantId, { requireRegisteredOrders: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked, payment } = await closedOrder(merchantId, 'UNREGCLOSEDQ', 'paid')
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))
    expect((await notify('alipay', merchantId, payment())).status).toBe(409)
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    // Alipay's retry finds the order paid: a duplicate of the payment, nothing more forwarded.
    expect(await (await notify('alipay', merchantId, payment())).text()).toBe('success')
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed', 'payment.succeeded']))
    const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ nextQueryAt: null })
    expect(plan?.reopened).toBeUndefined()
  })

  it('that arrives while a query is in flight is asked about again, even in the same millisecond', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const merchantId = 'x-reopened-race'
      await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
      // The endpoint takes payment.closed (a retry due within the minute would put the query off to its run).
      receiveEvents(forwardUrl(merchantId))
      const { outTradeNo, tradeNo, stub, asked } = await closedOrder(merchantId, 'RACE', 'closed')
      const identity = ownKeys(merchantId).alipay
      const first = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-1', refundFee: 40, total: 100, tradeNo, identity })
      expect(await (await notify('alipay', merchantId, first)).text()).toBe('failure')
      // While the first report's query is in flight, a second arrives (the clock does not move).
      const second = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-2', refundFee: 60, total: 100, tradeNo, identity })
      let sent = false
      network.use(
        http.post(ALIPAY_GATEWAY, async () => {
          if (!sent) {
            sent = true
            expect(await (await notify('alipay', merchantId, second)).text()).toBe('failure')
          }
          return undefined
        }),
      )
      await runDurableObjectAlarm(stub)
      expect(sent).toBe(true)
      expect(asked).toEqual([outTradeNo])
      // The "closed" answer came from a query sent before the second report: it does not answer it.
      const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
      expect(plan?.nextQueryAt).not.toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('a doubtful report while a query is in flight', () => {
  it('is asked about after the earlier query’s answer closes the order, at once, and the answer to it pays the order', async () => {
    const merchantId = 'x-doubt-during-query'
    await saveQueryingMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const outTradeNo = freshOrderNo('DOUBTRACE')
    const tradeNo = `2026112222001${Date.now()}`
    const order = { merchantId, provider: 'alipay' as const, outTradeNo }
    await registerOrder(merchantId, outTradeNo, 100)
    // Alipay closed the trade when first asked, and reports it paid (the registered 1.00) when asked after the report.
    const asked = answeredThenPaid(outTradeNo, tradeNo, 'TRADE_CLOSED')
    // The first query's answer is held until the report has been refused.
    const { sent, release } = holdFirstAlipayRequest()
    const alarm = runDueQuery(order)
    await sent
    // A payment of the wrong amount: refused as doubtful, a query planned to settle it.
    expect((await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 90, 'TRADE_SUCCESS', tradeNo))).status).toBe(409)
    expect((await orderView(merchantId, 'alipay', outTradeNo))!.notifications.at(-1)).toMatchObject({ reason: 'amount_mismatch' })
    release()
    await alarm
    // The "closed" answer came from a query sent before the report and does not answer it: the report's query stays
    // planned, due at once (the alarm comes back by itself, no time travel), not minutes later on the first query's
    // schedule. Alipay's answer to it pays the order.
    await vi.waitFor(() => expect(asked.filter((no) => no === outTradeNo)).toHaveLength(2))
    await vi.waitFor(async () => expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'paid', amount: 100 }))
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed', 'payment.succeeded']))
  })
})

describe('a payment kept for confirmation while a query is in flight', () => {
  it('is asked about at once after the earlier query’s answer, not on its schedule, and the answer pays the order', async () => {
    const merchantId = 'x-confirm-during-query'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const outTradeNo = freshOrderNo('CONFRACE')
    const tradeNo = `2026112222001${Date.now()}`
    const order = { merchantId, provider: 'alipay' as const, outTradeNo }
    await registerOrder(merchantId, outTradeNo, 100)
    // Alipay says "waiting for the buyer" when first asked, and paid when asked after the buyer paid.
    const asked = answeredThenPaid(outTradeNo, tradeNo, 'WAIT_BUYER_PAY')
    // The first query's answer is held until the payment's notification has been kept.
    const { sent, release } = holdFirstAlipayRequest()
    const alarm = runDueQuery(order)
    await sent
    // The buyer pays; Alipay's notification is kept for confirmation (accepted: Alipay stops retrying).
    const reply = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo))
    expect(await reply.text()).toBe(ACCEPT.alipay.body)
    release()
    await alarm
    // "Waiting for the buyer" came from a query sent before the payment: it neither denies nor confirms it. The
    // confirming query stays due at once (the alarm comes back by itself, no time travel), not minutes later on the
    // first query's schedule.
    const plan = await inOrderStore(order, (store) => store.reconciliation.get())
    expect(plan?.unconfirmed).toBeDefined()
    expect(plan!.nextQueryAt! - Date.now()).toBeLessThan(5_000)
    await vi.waitFor(() => expect(asked.filter((no) => no === outTradeNo)).toHaveLength(2))
    await vi.waitFor(async () => expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'paid', amount: 100 }))
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded']))
  })

  it('in a sync of an order the gateway had not seen: its query stays due at once too', async () => {
    const merchantId = 'x-confirm-during-sync'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const outTradeNo = freshOrderNo('SYNCKEPT')
    const tradeNo = `2026112222001${Date.now()}`
    answeredThenPaid(outTradeNo, tradeNo, 'WAIT_BUYER_PAY')
    // The sync's query is held until the payment's notification has been kept.
    const { sent, release } = holdFirstAlipayRequest()
    const sync = admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })
    await sent
    const reply = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo))
    expect(await reply.text()).toBe(ACCEPT.alipay.body)
    release()
    expect((await sync).status).toBe(200)
    const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
    expect(plan?.unconfirmed).toBeDefined()
    expect(plan!.nextQueryAt! - Date.now()).toBeLessThan(5_000)
  })
})
