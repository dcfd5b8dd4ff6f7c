/**
 * Where two features meet, through the real Worker: combinations a merchant runs into that each feature's own tests
 * do not reach. Notifications and answers signed with node:crypto and the fixtures' throwaway keys.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { ACCEPT, admin, forwardUrl, merchantBody, notify, orderView, ownKeys, registerOrder } from '../security/harness'
import { alipayForm, alipayPaymentParams, freshOrderNo, signAlipay } from '../security/signing'
import { inOrderStore } from '../support/orders'
import { alipayRefundNotify, receiveEvents, tradeQueryAnswers, withQueryKeys } from '../support/refunds'

/** A merchant with provider ids of its own, the query keys, and `options`. */
async function saveMerchant(merchantId: string, options: Record<string, unknown>): Promise<void> {
  const body = withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) }))
  const reply = await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify({ ...body, ...options }) })
  expect(reply.status).toBe(201)
}

/** An Alipay notification of the merchant's trade: paid (TRADE_SUCCESS) or closed unpaid (TRADE_CLOSED). */
function alipayTrade(merchantId: string, outTradeNo: string, amount: number, status: 'TRADE_SUCCESS' | 'TRADE_CLOSED', tradeNo: string) {
  const { gmt_payment: paidAt, ...params } = alipayPaymentParams({ outTradeNo, amount, identity: ownKeys(merchantId).alipay })
  const fields =
    status === 'TRADE_SUCCESS'
      ? { ...params, gmt_payment: paidAt!, trade_no: tradeNo }
      : { ...params, trade_status: 'TRADE_CLOSED', gmt_close: '2026-11-22 18:29:40', trade_no: tradeNo }
  const sign = signAlipay(fields)
  return { body: alipayForm({ ...fields, sign }), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } }
}

/**
 * An unpaid order of the merchant that Alipay closed (TRADE_CLOSED, its alarm run), with `query` as Alipay's answer to
 * an order query of it: the trade paid after all, or closed.
 */
async function closedOrder(merchantId: string, prefix: string, query: 'paid' | 'closed') {
  const outTradeNo = freshOrderNo(prefix)
  const tradeNo = `2026112222001${Date.now()}`
  const answer: Record<string, string> =
    query === 'paid'
      ? { trade_no: tradeNo, trade_status: 'TRADE_SUCCESS', total_amount: '1.00', send_pay_date: '2026-11-22 17:59:58' }
      : { trade_no: tradeNo, trade_status: 'TRADE_CLOSED', total_amount: '1.00' }
  const asked = tradeQueryAnswers(() => answer)
  const stub = orderStub(env, { merchantId, provider: 'alipay', outTradeNo })
  expect(await (await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_CLOSED', tradeNo))).text()).toBe(
    'success',
  )
  await runDurableObjectAlarm(stub)
  const payment = () => alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo)
  return { outTradeNo, stub, asked, payment }
}

describe('confirmPaymentsByQuery × a payment after a close', () => {
  it('confirms by query, and forwards, a payment notified after the order was closed (the payment wins, as unconfirmed)', async () => {
    const merchantId = 'x-confirm-after-close'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
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
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
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
    await saveMerchant(merchantId, { requireRegisteredOrders: true })
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
    await saveMerchant(merchantId, { requireRegisteredOrders: true })
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

  it('is asked about when a refund proves a payment of an order closed first (confirmPaymentsByQuery), and a closed answer ends it', async () => {
    const merchantId = 'x-confirm-refund-after-close'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked } = await closedOrder(merchantId, 'REFCLOSED', 'closed')
    const refund = alipayRefundNotify({ outTradeNo, outRefundNo: 'XRF1', refundFee: 50, total: 100, identity: ownKeys(merchantId).alipay })
    expect((await notify('alipay', merchantId, { body: refund.body, headers: refund.headers })).status).toBe(409)
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    // Alipay's signed word: closed. The order stays closed and is asked about no more.
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'closed' })
    const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ nextQueryAt: null, queriesMade: 1 })
    expect(plan?.reopened).toBeUndefined()
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))
  })
})
