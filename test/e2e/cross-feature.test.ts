/**
 * Where two features meet, through the real Worker: combinations a merchant runs into that each feature's own tests
 * do not reach. Notifications and answers signed with node:crypto and the fixtures' throwaway keys.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { ACCEPT, forwardUrl, notify, orderView, ownKeys, registerOrder } from '../security/harness'
import { inOrderStore } from '../support/orders'
import { alipayRefundNotify, receiveEvents } from '../support/refunds'
import { closedOrder, saveQueryingMerchant } from '../support/closed-orders'

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

  it('is asked about when a refund proves a payment of an order closed first (confirmPaymentsByQuery), and a closed answer ends it', async () => {
    const merchantId = 'x-confirm-refund-after-close'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
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
