/**
 * Events of one order reach the merchant in the order they happened (contract, "Forwarded events"), also when an
 * earlier event's delivery failed: a new event of the order takes the failed ones back into the line ahead of it,
 * with their own webhook-ids. Through the real Worker; msw is the merchant. Found by an exactly-once audit: the refund
 * used to be sent first, and the payment only after a recover.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { admin, forwardUrl, freshPayment, notify, ownKeys, registerMerchant } from '../security/harness'
import { deliveryStates, merchantEndpoint, runAlarmsUntil } from '../support/operations'
import { awaitProjection } from '../support/orders'
import { alipayRefundNotify, v3RefundNotify } from '../support/refunds'

afterEach(() => {
  vi.useRealTimers()
})

/** The webhook-id of the order's first event, as the admin API shows its delivery. */
async function firstEventId(order: OrderRef): Promise<string> {
  const response = await admin(`/admin/merchants/${order.merchantId}/orders/${order.outTradeNo}?provider=${order.provider}`)
  return ((await response.json()) as { deliveries: { event_id: string }[] }).deliveries[0]!.event_id
}

/**
 * An Alipay payment whose delivery failed for good while its merchant was down (time moved through every retry from
 * `start`), and a refund of it: notified while the payment was being retried (`whileRetrying`), or not yet. The
 * merchant's endpoint answers 200 once `merchant.up` is set; only what it receives from then on is recorded.
 */
async function failedPayment(M: string, start: string, { refundWhileRetrying = false } = {}) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.parse(start))
  const ids = ownKeys(M)
  await registerMerchant(M, { identity: ids })
  const merchant = { up: false }
  const received = merchantEndpoint(forwardUrl(M), () => (merchant.up ? 200 : 503))
  const payment = freshPayment('alipay', { identity: ids, amount: 1000 })
  expect((await notify('alipay', M, payment)).status).toBe(200)
  const order: OrderRef = { merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo }
  const refund = alipayRefundNotify({
    outTradeNo: payment.outTradeNo,
    outRefundNo: `${M}-R1`,
    refundFee: 300,
    total: 1000,
    identity: ids.alipay,
  })
  if (refundWhileRetrying) {
    await runDurableObjectAlarm(orderStub(env, order))
    expect(await (await notify('alipay', M, refund)).text()).toBe('success')
  }
  await runAlarmsUntil([order], (ds) => ds[0]!.status === 'failed')
  received.length = 0
  return { order, refund, received, merchant }
}

/** A WeChat Pay v3 payment notified while the merchant's endpoint (answering 200) was disabled: its delivery failed. */
async function paymentWhileDisabled(M: string) {
  const ids = ownKeys(M)
  await registerMerchant(M, { identity: ids })
  const received = merchantEndpoint(forwardUrl(M), () => 200)
  expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
  const payment = freshPayment('wechatpay.v3', { identity: ids, amount: 1000 })
  expect((await notify('wechatpay.v3', M, payment)).status).toBe(204)
  const order: OrderRef = { merchantId: M, provider: 'wechatpay', outTradeNo: payment.outTradeNo }
  await runDurableObjectAlarm(orderStub(env, order))
  return { ids, payment, order, received }
}

/** The order's alarm runs: the merchant gets the payment (under its webhook-id), then the refund; both delivered. */
async function expectPaymentThenRefund(order: OrderRef, received: { type: string; id: string }[], paymentEventId: string) {
  await runDurableObjectAlarm(orderStub(env, order))
  expect(received.map((r) => r.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
  expect(received[0]!.id).toBe(paymentEventId)
  expect((await deliveryStates(order)).map((d) => d.status)).toEqual(['delivered', 'delivered'])
}

/** A WeChat Pay v3 refund of 3.00 of the order's payment (10.00), notified; then the order's alarm runs. */
async function refundNotified(order: OrderRef, ids: ReturnType<typeof ownKeys>): Promise<void> {
  const refund = v3RefundNotify({
    outTradeNo: order.outTradeNo,
    outRefundNo: `${order.merchantId}-R1`,
    refund: 300,
    total: 1000,
    identity: ids.wechat,
  })
  expect((await notify('wechatpay.v3', order.merchantId, refund)).status).toBe(204)
  await runDurableObjectAlarm(orderStub(env, order))
}

describe('a new event of an order whose earlier delivery failed', () => {
  it('endpoint disabled during the payment, enabled again, then a refund: payment.succeeded first, with its webhook-id', async () => {
    const M = 'order-after-disabled'
    const { ids, payment, order, received } = await paymentWhileDisabled(M)
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'endpoint_disabled' }])
    const paymentEventId = await firstEventId(order)

    expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    const refund = v3RefundNotify({ outTradeNo: payment.outTradeNo, outRefundNo: 'ORD-R1', refund: 300, total: 1000, identity: ids.wechat })
    expect((await notify('wechatpay.v3', M, refund)).status).toBe(204)
    await expectPaymentThenRefund(order, received, paymentEventId)
  })

  it('payment retries exhausted while the merchant was down; back up, a refund: the payment goes first', async () => {
    const { order, refund, received, merchant } = await failedPayment('order-after-exhausted', '2032-01-01T00:00:00Z')
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'retries_exhausted' }])
    const paymentEventId = await firstEventId(order)
    merchant.up = true
    expect(await (await notify('alipay', order.merchantId, refund)).text()).toBe('success')
    await expectPaymentThenRefund(order, received, paymentEventId)
  })

  it('the merchant still down when the refund arrives: the payment retries on a whole schedule ahead of it', async () => {
    const { order, refund, received, merchant } = await failedPayment('order-still-down', '2032-02-01T00:00:00Z')
    expect(await (await notify('alipay', order.merchantId, refund)).text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, order))
    // Still down: the payment failed its first attempt since, and is retried later, the refund waiting behind it.
    expect(await deliveryStates(order)).toMatchObject([{ status: 'pending' }, { status: 'pending' }])

    vi.setSystemTime(Date.now() + 3600_000)
    merchant.up = true
    received.length = 0
    await runAlarmsUntil([order], (ds) => ds.every((d) => d.status !== 'pending'))
    expect(received.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
  })

  it('the payment runs out of retries while its refund waits behind it: nothing more is sent until it is sent again', async () => {
    const { order, received, merchant } = await failedPayment('order-exhausted-behind', '2032-03-01T00:00:00Z', {
      refundWhileRetrying: true,
    })
    // The payment failed for good; the refund, never attempted, waits behind it (no retry of its own).
    expect(await deliveryStates(order)).toMatchObject([
      { status: 'failed', failure_reason: 'retries_exhausted' },
      { status: 'pending', attempts: 0 },
    ])
    merchant.up = true
    vi.setSystemTime(Date.now() + 24 * 3600_000)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received).toEqual([])
    // A recover of the payment: the payment, then the refund behind it.
    await awaitProjection([order])
    const recovered = await admin(`/admin/merchants/${order.merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since: new Date(Date.now() - 30 * 24 * 3600_000).toISOString(), status: 'failed' }),
    })
    expect(await recovered.json()).toMatchObject({ recovered: 1 })
    await runAlarmsUntil([order], (ds) => ds.every((d) => d.status === 'delivered'))
    expect(received.map((r) => r.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
  })

  it('a replay of the refund, or a recover whose window starts after the failed payment, sends the payment first', async () => {
    for (const how of ['replay', 'recover'] as const) {
      const M = `order-${how}-behind`
      const { ids, order, received } = await paymentWhileDisabled(M)
      const refundCreatedAfter = new Date(Date.now() + 1).toISOString()
      await new Promise((resolve) => setTimeout(resolve, 5))
      await refundNotified(order, ids)
      expect((await deliveryStates(order)).map((d) => [d.status, d.failure_reason])).toEqual([
        ['failed', 'endpoint_disabled'],
        ['failed', 'endpoint_disabled'],
      ])
      expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
      await awaitProjection([order])
      if (how === 'replay') {
        const [, refundDelivery] = await deliveryStates(order)
        expect((await admin(`/admin/deliveries/${refundDelivery!.id}/replay`, { method: 'POST' })).status).toBe(202)
      } else {
        const recovered = await admin(`/admin/merchants/${M}/deliveries/recover`, {
          method: 'POST',
          body: JSON.stringify({ since: refundCreatedAfter, status: 'failed' }),
        })
        expect(await recovered.json()).toMatchObject({ recovered: 2 })
      }
      await runDurableObjectAlarm(orderStub(env, order))
      expect(
        received.map((r) => r.type),
        how,
      ).toEqual(['payment.succeeded', 'refund.succeeded'])
    }
  })

  it('a replay of a refund waiting behind its payment’s retries sends both at once, the payment first, not hours later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2033-02-01T00:00:00Z'))
    const M = 'order-replay-behind-retries'
    const ids = ownKeys(M)
    await registerMerchant(M, { identity: ids })
    const merchant = { up: false }
    const received = merchantEndpoint(forwardUrl(M), () => (merchant.up ? 200 : 503))
    const payment = freshPayment('wechatpay.v3', { identity: ids, amount: 1000 })
    expect((await notify('wechatpay.v3', M, payment)).status).toBe(204)
    const order: OrderRef = { merchantId: M, provider: 'wechatpay', outTradeNo: payment.outTradeNo }
    // Seven failed attempts: the payment's next retry is some 3 hours away, and the refund waits behind it.
    await runAlarmsUntil([order], (ds) => ds[0]!.attempts >= 7)
    await refundNotified(order, ids)
    const [paymentDelivery, refundDelivery] = await deliveryStates(order)
    expect([paymentDelivery!.status, refundDelivery!.status, refundDelivery!.attempts]).toEqual(['pending', 'pending', 0])
    expect(paymentDelivery!.next_attempt_at! - Date.now()).toBeGreaterThan(2 * 3600_000)

    // The merchant is back; the operator sends the refund again.
    merchant.up = true
    received.length = 0
    await awaitProjection([order])
    expect((await admin(`/admin/deliveries/${refundDelivery!.id}/replay`, { method: 'POST' })).status).toBe(202)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received.map((r) => r.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
    expect((await deliveryStates(order)).map((d) => d.status)).toEqual(['delivered', 'delivered'])
  })

  it('a delivery that starts waiting behind a replayed one shows no time of its own in the D1 list either', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2033-01-01T00:00:00Z'))
    const M = 'order-waiting-listed'
    const ids = ownKeys(M)
    await registerMerchant(M, { identity: ids })
    let up = true
    merchantEndpoint(forwardUrl(M), () => (up ? 200 : 503))
    const payment = freshPayment('wechatpay.v3', { identity: ids, amount: 1000 })
    expect((await notify('wechatpay.v3', M, payment)).status).toBe(204)
    const order: OrderRef = { merchantId: M, provider: 'wechatpay', outTradeNo: payment.outTradeNo }
    await runDurableObjectAlarm(orderStub(env, order))
    // The merchant goes down: the refund's first attempt fails, its retry due in a few seconds.
    up = false
    await refundNotified(order, ids)
    await awaitProjection([order])
    const [paymentDelivery] = await deliveryStates(order)
    // The delivered payment is sent again, ahead of the refund, and fails: the refund now waits behind it.
    expect((await admin(`/admin/deliveries/${paymentDelivery!.id}/replay`, { method: 'POST' })).status).toBe(202)
    await runDurableObjectAlarm(orderStub(env, order))
    await awaitProjection([order])
    const listed = (await (await admin(`/admin/merchants/${M}/deliveries`)).json()) as {
      deliveries: { type: string; status: string; next_attempt_at: string | null }[]
    }
    const byType = Object.fromEntries(listed.deliveries.map((d) => [d.type, [d.status, d.next_attempt_at === null]]))
    expect(byType).toEqual({ 'payment.succeeded': ['pending', false], 'refund.succeeded': ['pending', true] })
  })
})
