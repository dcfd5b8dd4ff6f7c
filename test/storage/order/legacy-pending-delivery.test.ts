/**
 * @module An order object written by the last table-per-kind release (order schema 3, the code before 102d18f), holding
 * a paid order whose payment.succeeded failed its first attempt (HTTP 500) and waits for its retry, is taken over by
 * the current code: its alarm converts it and sends the pending event once, with the event id and body the old release
 * stored (signed with the sealed secret it stored); a late resend of the payment is still a duplicate; a refund
 * notification applies once; D1, as the old release had projected it, ends up with the order, both deliveries and
 * stats counted once. The rows are those the old statements wrote (`git show 102d18f^:src/storage/order/`).
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { masterKeyring } from '../../../src/merchants/master-keys'
import type { OrderObject } from '../../../src/order/order-object'
import { ORDER_SCHEMA_VERSION, orderSchemaVersion } from '../../../src/storage/order'
import { migrateLegacyTables } from '../../../src/storage/order/legacy-schema'
import { verifyWebhook } from '../../../src/verify-webhook'
import { network } from '../../msw'
import {
  awaitProjection,
  deliveryRows,
  FORWARD,
  inOrderStore,
  outboxCounts,
  paymentNotification,
  refundNotification,
  SETTINGS,
  stubFor,
  uniqueOrder,
} from '../../support/orders'

/**
 * The order object's tables as release 3 of the legacy schema left them: the legacy migrations themselves (kept
 * verbatim in src/storage/order/legacy-schema.ts), and the version table the old code kept beside them.
 */
function createSchema3Tables(sql: SqlStorage): void {
  migrateLegacyTables(sql)
  sql.exec('CREATE TABLE _schema (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)')
}

/** An id as the old release made them (`newId`: prefix, then a UUID without its dashes). */
const oldId = (prefix: 'evt' | 'dlv' | 'ntf'): string => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`

const iso = (ms: number): string => new Date(ms).toISOString()

interface Received {
  id: string
  body: string
  type: string
}

describe('an order object of the table-per-kind layout with a delivery waiting for its retry', () => {
  it('is converted on first use: the pending event goes once, as stored; a duplicate stays one; a refund applies once; D1 gets it', async () => {
    // A merchant of its own: the stats below are this object's only.
    const order = { ...uniqueOrder('OLD-PENDING'), merchantId: 'oldobj-merchant' }
    const stub = stubFor(order)
    const paidAt = Date.now() - 60_000
    const firstAttemptAt = paidAt + 50
    const retryDueAt = Date.now() - 1_000
    const payment = paymentNotification(order)
    const eventId = oldId('evt')
    const deliveryId = oldId('dlv')
    const auditId = oldId('ntf')
    // The body the old release built (outbox.ts then) and stored: what the merchant must receive, byte for byte.
    const body = JSON.stringify({
      type: 'payment.succeeded',
      timestamp: '2026-11-25T07:59:58Z',
      data: {
        merchant_id: order.merchantId,
        provider: order.provider,
        channel: 'wechatpay.v3',
        out_trade_no: order.outTradeNo,
        transaction_id: '4200000001',
        amount: 100,
        currency: 'CNY',
        paid_at: '2026-11-25T07:59:58Z',
        refund: null,
        raw: payment.raw,
      },
    })
    const sealedSecret = await masterKeyring(env).seal(order.merchantId, FORWARD.secret)

    await runInDurableObject(stub, async (_o: OrderObject, state) => {
      const { sql } = state.storage
      createSchema3Tables(sql)
      sql.exec('INSERT INTO _schema (singleton, version) VALUES (1, 3)')
      // Registered for 100 fen, then paid (version 2), projected to D1 by the old alarm.
      sql.exec(
        `INSERT INTO order_state (singleton, merchant_id, provider, out_trade_no, status, expected_amount, expected_currency, amount, currency,
           transaction_id, paid_at, refunded_amount, version, projected_version, updated_at)
         VALUES (1, ?, ?, ?, 'paid', 100, 'CNY', 100, 'CNY', '4200000001', '2026-11-25T07:59:58Z', 0, 2, 2, ?)`,
        order.merchantId,
        order.provider,
        order.outTradeNo,
        iso(paidAt),
      )
      sql.exec('INSERT INTO seen_notifications (provider_notification_id, accepted_at) VALUES (?, ?)', payment.notificationId, iso(paidAt))
      sql.exec(
        `INSERT INTO notifications (id, channel, provider_notification_id, received_at, verdict, reason, source, projected, notification_type)
         VALUES (?, 'wechatpay.v3', ?, ?, 'accepted', NULL, 'notify', 1, NULL)`,
        auditId,
        payment.notificationId,
        iso(paidAt),
      )
      sql.exec(
        `INSERT INTO events (seq, id, type, channel, body, created_at) VALUES (1, ?, 'payment.succeeded', 'wechatpay.v3', ?, ?)`,
        eventId,
        body,
        iso(paidAt),
      )
      // Its first attempt got a 500: pending, one attempt made, the retry now due; the lease cleared by the update.
      sql.exec(
        `INSERT INTO deliveries (id, event_seq, status, attempts, next_attempt_at, last_status_code, last_error, lease_until, version,
           projected_version, created_at, updated_at, failure_reason, counted_status, counted_attempts)
         VALUES (?, 1, 'pending', 1, ?, 500, 'HTTP 500', NULL, 2, 2, ?, ?, NULL, NULL, 1)`,
        deliveryId,
        retryDueAt,
        iso(paidAt),
        iso(firstAttemptAt + 120),
      )
      sql.exec(
        `INSERT INTO delivery_attempts (delivery_id, number, started_at, status_code, latency_ms, outcome, error, response_snippet)
         VALUES (?, 1, ?, 500, 120, 'retry', NULL, 'upstream unavailable')`,
        deliveryId,
        iso(firstAttemptAt),
      )
      // The registration's plan, stopped by the payment.
      sql.exec(
        'INSERT INTO reconciliation (singleton, next_query_at, queries_made, expires_at, last_query_at, last_result) VALUES (1, NULL, 0, ?, NULL, NULL)',
        paidAt + 86_400_000,
      )
      sql.exec(
        `INSERT INTO forward_target (singleton, url, sealed_secret, sealed_previous_secret, merchant_version, disabled_at, updated_at)
         VALUES (1, ?, ?, NULL, 1, NULL, ?)`,
        FORWARD.url,
        sealedSecret,
        iso(paidAt),
      )
      // The old alarm set the next one at the retry's time.
      await state.storage.setAlarm(retryDueAt)
      expect(orderSchemaVersion(sql)).toBe(3)
    })

    // D1 as the old release projected the object (then migrated by 0007): the order, its delivery at version 2, the
    // accepted notification, and the stats of both (accepted 1, the first attempt's latency).
    const minute = Math.floor(paidAt / 60_000) * 60_000
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO orders (merchant_id, provider, out_trade_no, status, expected_amount, amount, currency, transaction_id, paid_at,
           refunded_amount, version, updated_at, accepted_notifications)
         VALUES (?, ?, ?, 'paid', 100, 100, 'CNY', '4200000001', '2026-11-25T07:59:58Z', 0, 2, ?, 1)`,
      ).bind(order.merchantId, order.provider, order.outTradeNo, iso(paidAt)),
      env.DB.prepare(
        `INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, event_id, type, status, attempts, next_attempt_at,
           last_status_code, created_at, updated_at, version, reason)
         VALUES (?, ?, ?, ?, ?, 'payment.succeeded', 'pending', 1, ?, 500, ?, ?, 2, NULL)`,
      ).bind(
        deliveryId,
        order.merchantId,
        order.provider,
        order.outTradeNo,
        eventId,
        iso(retryDueAt),
        iso(paidAt),
        iso(firstAttemptAt + 120),
      ),
      env.DB.prepare(
        `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, provider_notification_id, received_at, verdict, reason, source)
         VALUES (?, ?, 'wechatpay.v3', ?, ?, ?, 'accepted', NULL, 'notify')`,
      ).bind(auditId, order.merchantId, order.outTradeNo, payment.notificationId, iso(paidAt)),
      env.DB.prepare('INSERT INTO merchant_stats (merchant_id, minute, accepted) VALUES (?, ?, 1)').bind(order.merchantId, minute),
    ])

    // The current code's first instance meets the old tables, as after a deploy.
    await evictDurableObject(stub)
    const received: Received[] = []
    network.use(
      http.post(FORWARD.url, async ({ request }) => {
        const text = await request.text()
        const event = await verifyWebhook(FORWARD.secret, request.headers, text)
        received.push({ id: request.headers.get('webhook-id') ?? '', body: text, type: event.type })
        return HttpResponse.text('ok')
      }),
    )

    // The old alarm fires under the current code: converted, and the pending event sent once, as the old release stored it.
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(received).toEqual([{ id: eventId, body, type: 'payment.succeeded' }])
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      expect(orderSchemaVersion(state.storage.sql)).toBe(ORDER_SCHEMA_VERSION)
    })
    expect(await deliveryRows(order)).toEqual([
      {
        id: deliveryId,
        status: 'delivered',
        attempts: 2,
        next_attempt_at: null,
        last_status_code: 200,
        last_error: null,
        failure_reason: null,
      },
    ])
    // Both attempts in its log: the old release's first (500) and the current code's second.
    expect(
      await inOrderStore(order, (store) => store.deliveries.attempts(deliveryId).map((a) => [a.number, a.statusCode, a.outcome])),
    ).toEqual([
      [1, 500, 'retry'],
      [2, 200, 'delivered'],
    ])
    // Nothing more to send: another alarm sends nothing.
    await runDurableObjectAlarm(stub)
    expect(received).toHaveLength(1)

    // The provider's late resend of the payment is still a duplicate, as the old dedupe set says.
    const late = await stub.ingest({ order, notification: payment, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    expect(late).toMatchObject({ verdict: 'duplicate', status: 'paid', eventIds: [] })

    // A refund applies once: its resend is a duplicate, and the same refund under another notification id adds nothing.
    const refund = refundNotification(order, 'R-OLD-1', 40)
    const refunded = await stub.ingest({ order, notification: refund, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    expect(refunded).toMatchObject({ verdict: 'accepted', status: 'partially_refunded' })
    expect(refunded.eventIds).toHaveLength(1)
    const resent = await stub.ingest({ order, notification: refund, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    expect(resent).toMatchObject({ verdict: 'duplicate', eventIds: [] })
    const again = { ...refund, notificationId: `${refund.notificationId}-again` }
    const restated = await stub.ingest({ order, notification: again, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    expect(restated).toMatchObject({ status: 'partially_refunded', eventIds: [] })
    await runDurableObjectAlarm(stub)
    expect(received.map((r) => [r.id, r.type])).toEqual([
      [eventId, 'payment.succeeded'],
      [refunded.eventIds[0], 'refund.succeeded'],
    ])
    const refundEvent = JSON.parse(received[1]!.body) as { data: { refund: unknown; amount: number } }
    expect(refundEvent.data).toMatchObject({ amount: 100, refund: { out_refund_no: 'R-OLD-1', amount: 40, total_refunded: 40 } })
    expect(await inOrderStore(order, (store) => store.order.get())).toMatchObject({ status: 'partially_refunded', refundedAmount: 40 })
    expect(await outboxCounts(order)).toMatchObject({ events: 2, deliveries: 2 })

    // D1 gets the order and both deliveries, and counts the refund's acceptance and each outcome once.
    await awaitProjection([order])
    const row = await env.DB.prepare(
      'SELECT status, amount, refunded_amount, accepted_notifications FROM orders WHERE merchant_id = ? AND provider = ? AND out_trade_no = ?',
    )
      .bind(order.merchantId, order.provider, order.outTradeNo)
      .first()
    expect(row).toEqual({ status: 'partially_refunded', amount: 100, refunded_amount: 40, accepted_notifications: 3 })
    const deliveries = await env.DB.prepare(
      'SELECT id, event_id, status, attempts FROM deliveries WHERE merchant_id = ? ORDER BY created_at, id',
    )
      .bind(order.merchantId)
      .all()
    expect(deliveries.results).toEqual([
      { id: deliveryId, event_id: eventId, status: 'delivered', attempts: 2 },
      { id: expect.any(String), event_id: refunded.eventIds[0], status: 'delivered', attempts: 1 },
    ])
    await vi.waitFor(async () => {
      const stats = await env.DB.prepare(
        'SELECT sum(accepted) AS accepted, sum(delivered) AS delivered, sum(failed) AS failed FROM merchant_stats WHERE merchant_id = ?',
      )
        .bind(order.merchantId)
        .first()
      expect(stats).toEqual({ accepted: 3, delivered: 2, failed: 0 })
    })
  })
})
