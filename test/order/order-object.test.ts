import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, vi } from 'vitest'
import type { OrderObject } from '../../src/order/order-object'
import { network } from '../msw'
import {
  FORWARD,
  PROJECTION_WAIT,
  SETTINGS,
  failEventWrites,
  outboxCounts,
  paymentNotification,
  stubFor,
  uniqueOrder,
  refundNotification,
} from '../support/orders'

const ingest = (order: ReturnType<typeof uniqueOrder>, notification = paymentNotification(order)) =>
  stubFor(order).ingest({ order, notification, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })

describe('order object: exactly once', () => {
  it('applies a payment once and writes one outbox entry', async () => {
    const order = uniqueOrder()
    const result = await ingest(order)
    expect(result).toMatchObject({ verdict: 'accepted', status: 'paid' })
    expect(result.eventIds).toHaveLength(1)
    expect(await outboxCounts(order)).toEqual({ events: 1, deliveries: 1, seen: 1, audit: { accepted: 1 } })
  })

  it('accepts 20 concurrent copies and 5 sequential copies with one state change', async () => {
    const order = uniqueOrder()
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => ingest(order)))
    expect(concurrent.filter((r) => r.verdict === 'accepted')).toHaveLength(1)
    expect(concurrent.filter((r) => r.verdict === 'duplicate')).toHaveLength(19)
    for (let i = 0; i < 5; i++) expect((await ingest(order)).verdict).toBe('duplicate')
    expect(await outboxCounts(order)).toEqual({ events: 1, deliveries: 1, seen: 1, audit: { accepted: 1, duplicate: 24 } })
  })

  it('treats a second notification of the same payment under another id as no change', async () => {
    const order = uniqueOrder()
    await ingest(order)
    const v2 = paymentNotification(order, { channel: 'wechatpay.v2', notificationId: 'v2:other-digest' })
    expect(await ingest(order, v2)).toMatchObject({ verdict: 'accepted', eventIds: [] })
    expect(await outboxCounts(order)).toMatchObject({ events: 1, deliveries: 1 })
  })

  it('flags amount_mismatch against the registered amount, forwards nothing, and pays after re-registration', async () => {
    const order = uniqueOrder()
    await stubFor(order).register(order, SETTINGS, { amount: 100, currency: 'CNY' })
    const wrong = paymentNotification(order, {}, 1)
    expect(await ingest(order, wrong)).toMatchObject({ verdict: 'rejected', reason: 'amount_mismatch', status: 'amount_mismatch' })
    expect(await outboxCounts(order)).toMatchObject({ events: 0, deliveries: 0, seen: 0 })
    // The merchant corrects the registration; the provider's retry of the same notification now pays.
    await stubFor(order).register(order, SETTINGS, { amount: 1, currency: 'CNY' })
    expect(await ingest(order, wrong)).toMatchObject({ verdict: 'accepted', status: 'paid' })
    expect(await outboxCounts(order)).toMatchObject({ events: 1, deliveries: 1, audit: { rejected: 1, accepted: 1 } })
  })

  it('refuses to re-register a paid order with another amount', async () => {
    const order = uniqueOrder()
    await ingest(order)
    expect((await stubFor(order).register(order, SETTINGS, { amount: 999, currency: 'CNY' })).conflict).toMatch(/already paid/)
    expect((await stubFor(order).register(order, SETTINGS, { amount: 100, currency: 'CNY' })).conflict).toBeNull()
  })

  it('rolls back everything when storage fails before commit, and processes the retry once', async () => {
    const order = uniqueOrder()
    const stub = stubFor(order)
    // Inject a storage failure inside the transaction: the outbox insert aborts.
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      failEventWrites(state)
    })
    const failure = await ingest(order).then(
      () => null,
      (error: unknown) => error,
    )
    expect(String(failure)).toMatch(/disk full/)
    expect(await outboxCounts(order)).toEqual({ events: 0, deliveries: 0, seen: 0, audit: {} })
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      state.storage.sql.exec('DROP TRIGGER inject_failure')
    })
    expect((await ingest(order)).verdict).toBe('accepted')
    expect((await ingest(order)).verdict).toBe('duplicate')
    expect(await outboxCounts(order)).toMatchObject({ events: 1, deliveries: 1, seen: 1 })
  })

  it('moves through partial and full refunds with one event each', async () => {
    const order = uniqueOrder()
    await ingest(order)
    const refund = (no: string, amount: number) => refundNotification(order, no, amount)
    expect(await ingest(order, refund('R1', 40))).toMatchObject({ verdict: 'accepted', status: 'partially_refunded' })
    expect(await ingest(order, refund('R2', 60))).toMatchObject({ verdict: 'accepted', status: 'refunded' })
    const snapshot = await stubFor(order).snapshot()
    expect(snapshot?.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded', 'refund.succeeded'])
  })
})

describe('order object: alarm drains the outbox', () => {
  it('delivers a signed event that standardwebhooks verifies, then projects to D1', async () => {
    const order = uniqueOrder()
    const received: { headers: Record<string, string>; body: string }[] = []
    network.use(
      http.post(FORWARD.url, async ({ request }) => {
        received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
        return HttpResponse.text('ok')
      }),
    )
    const { eventIds } = await ingest(order)
    // The alarm is due at once and may fire by itself; running it here just makes that happen now.
    await runDurableObjectAlarm(stubFor(order))
    await vi.waitFor(() => expect(received).toHaveLength(1))
    const event = new Webhook(FORWARD.secret.slice('whsec_'.length)).verify(received[0]!.body, received[0]!.headers) as {
      type: string
      data: Record<string, unknown>
    }
    expect(received[0]!.headers['webhook-id']).toBe(eventIds[0])
    expect(event).toMatchObject({
      type: 'payment.succeeded',
      data: { out_trade_no: order.outTradeNo, amount: 100, currency: 'CNY', merchant_id: 'acme' },
    })

    await vi.waitFor(async () => {
      const row = await env.DB.prepare('SELECT status, attempts FROM deliveries WHERE event_id = ?').bind(eventIds[0]).first()
      expect(row).toEqual({ status: 'delivered', attempts: 1 })
    }, PROJECTION_WAIT)
    const projected = await env.DB.prepare('SELECT status, amount FROM orders WHERE out_trade_no = ?').bind(order.outTradeNo).first()
    expect(projected).toEqual({ status: 'paid', amount: 100 })
  })
})
