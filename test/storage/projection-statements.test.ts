/**
 * The projection's upserts carry a table's rows of a batch as one JSON parameter: every column lands with its value
 * and SQL type as a bound parameter would give it, a batch too large for one statement is split without losing a row,
 * and the version guards hold row by row; a recovered delivery's failure is taken back from the minute that counted it.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { applyToShard, type ProjectionRecord } from '../../src/storage/projection'
import { deliveryStatements, orderStatements } from '../../src/storage/projection/statements'
import { minuteOf, readStatsBuckets } from '../../src/storage/stats'
import type { DeliveryProjection, NotificationProjection, ObjectRecord, OrderProjection } from '../../src/storage/projection/records'

let nextMerchant = 0
const merchantId = (): string => `stmt-${++nextMerchant}`

function order(merchant: string, outTradeNo: string, fields: Partial<OrderProjection> = {}): OrderProjection {
  return {
    merchantId: merchant,
    provider: 'alipay',
    outTradeNo,
    status: 'paid',
    expectedAmount: null,
    amount: 1000,
    currency: 'JPY',
    transactionId: `2026${outTradeNo}`,
    paidAt: '2026-12-01T05:00:00Z',
    refundedAmount: 0,
    version: 2,
    updatedAt: '2026-12-01T05:00:01.000Z',
    acceptedNotifications: 1,
    lastAcceptedAt: '2026-12-01T05:00:00.500Z',
    ...fields,
  }
}

function delivery(merchant: string, outTradeNo: string, fields: Partial<DeliveryProjection> = {}): DeliveryProjection {
  return {
    id: `dlv_${merchant}_${outTradeNo}`,
    merchantId: merchant,
    provider: 'alipay',
    outTradeNo,
    subjectKey: null,
    eventId: `evt_${merchant}_${outTradeNo}`,
    type: 'payment.succeeded',
    status: 'pending',
    reason: null,
    attempts: 0,
    nextAttemptAt: '2026-12-01T05:00:02.000Z',
    lastStatusCode: null,
    createdAt: '2026-12-01T05:00:01.000Z',
    updatedAt: '2026-12-01T05:00:01.000Z',
    version: 1,
    attemptLog: [],
    deliveredAt: null,
    ...fields,
  }
}

function refused(merchant: string, outTradeNo: string): NotificationProjection {
  return {
    id: `ntf_${merchant}_${outTradeNo}`,
    merchantId: merchant,
    channel: 'alipay',
    outTradeNo,
    providerNotificationId: `notify-${outTradeNo}`,
    receivedAt: '2026-12-01T05:00:00.250Z',
    verdict: 'rejected',
    reason: 'amount_mismatch',
    source: 'notify',
    notificationType: null,
    subjectKey: null,
  }
}

function objectRecord(o: OrderProjection, d: DeliveryProjection[], n: NotificationProjection[] = []): ObjectRecord {
  return { kind: 'object', merchantId: o.merchantId, order: o, notifications: n, deliveries: d, forwardUrl: 'https://shop.test/hook' }
}

describe('the projection statements', () => {
  it('write every column with its value and SQL type, NULLs and non-ASCII text included', async () => {
    const m = merchantId()
    const outTradeNo = '订单-0001'
    await applyToShard(env.DB, [
      objectRecord(
        order(m, outTradeNo),
        [delivery(m, outTradeNo, { lastStatusCode: 503, attempts: 1, version: 2 })],
        [refused(m, outTradeNo)],
      ),
    ])

    const row = await env.DB.prepare(
      `SELECT o.*, typeof(o.expected_amount) AS t_expected, typeof(o.amount) AS t_amount, typeof(o.version) AS t_version,
         typeof(o.out_trade_no) AS t_out_trade_no
       FROM orders AS o WHERE merchant_id = ?`,
    )
      .bind(m)
      .first()
    expect(row).toMatchObject({
      merchant_id: m,
      provider: 'alipay',
      out_trade_no: outTradeNo,
      status: 'paid',
      expected_amount: null,
      amount: 1000,
      currency: 'JPY',
      transaction_id: `2026${outTradeNo}`,
      paid_at: '2026-12-01T05:00:00Z',
      refunded_amount: 0,
      version: 2,
      updated_at: '2026-12-01T05:00:01.000Z',
      accepted_notifications: 1,
      t_expected: 'null',
      t_amount: 'integer',
      t_version: 'integer',
      t_out_trade_no: 'text',
    })
    const sent = await env.DB.prepare('SELECT *, typeof(last_status_code) AS t_code FROM deliveries WHERE merchant_id = ?').bind(m).first()
    expect(sent).toMatchObject({
      id: `dlv_${m}_${outTradeNo}`,
      provider: 'alipay',
      out_trade_no: outTradeNo,
      subject_key: null,
      event_id: `evt_${m}_${outTradeNo}`,
      type: 'payment.succeeded',
      status: 'pending',
      reason: null,
      attempts: 1,
      next_attempt_at: '2026-12-01T05:00:02.000Z',
      last_status_code: 503,
      t_code: 'integer',
      created_at: '2026-12-01T05:00:01.000Z',
      updated_at: '2026-12-01T05:00:01.000Z',
      version: 2,
    })
    const listed = await env.DB.prepare('SELECT * FROM notifications WHERE merchant_id = ?').bind(m).first()
    expect(listed).toMatchObject({
      id: `ntf_${m}_${outTradeNo}`,
      channel: 'alipay',
      out_trade_no: outTradeNo,
      provider_notification_id: `notify-${outTradeNo}`,
      received_at: '2026-12-01T05:00:00.250Z',
      verdict: 'rejected',
      reason: 'amount_mismatch',
      source: 'notify',
      notification_type: null,
      subject_key: null,
    })
  })

  it('a batch larger than one statement carries lands whole, and replayed it writes nothing', async () => {
    const m = merchantId()
    // Long order numbers and transaction ids: over 2 MB of rows per table (D1's limit on one value), so several statements each.
    const pad = 'x'.repeat(1000)
    const records: ProjectionRecord[] = Array.from({ length: 1500 }, (_, i) => {
      const outTradeNo = `${pad}-${i}`
      return objectRecord(order(m, outTradeNo, { transactionId: `${pad}${i}` }), [delivery(m, outTradeNo)], [refused(m, outTradeNo)])
    })
    // D1 refuses a value over 2 MB (local D1 does not): the rows are split into statements that each stay below it.
    const objects = records as ObjectRecord[]
    expect(
      orderStatements(
        env.DB,
        objects.map((r) => r.order!),
      ).length,
    ).toBeGreaterThanOrEqual(6)
    expect(
      deliveryStatements(
        env.DB,
        objects.flatMap((r) => r.deliveries.map((d) => ({ ...d, failedMinute: null }))),
      ).length,
    ).toBeGreaterThanOrEqual(9)
    expect(
      orderStatements(
        env.DB,
        objects.slice(0, 100).map((r) => r.order!),
      ),
    ).toHaveLength(1)
    const first = await applyToShard(env.DB, records)
    const counts = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM orders WHERE merchant_id = ?1) AS orders,
         (SELECT count(*) FROM deliveries WHERE merchant_id = ?1) AS deliveries,
         (SELECT count(*) FROM notifications WHERE merchant_id = ?1) AS notifications`,
    )
      .bind(m)
      .first()
    expect(counts).toEqual({ orders: 1500, deliveries: 1500, notifications: 1500 })
    expect(first.transactions).toBe(1)
    expect(first.rowsWritten).toBeGreaterThan(4500)
    const last = await env.DB.prepare('SELECT transaction_id FROM orders WHERE merchant_id = ? AND out_trade_no = ?')
      .bind(m, `${pad}-1499`)
      .first()
    expect(last).toEqual({ transaction_id: `${pad}1499` })

    expect(await applyToShard(env.DB, records)).toMatchObject({ rowsWritten: 0, transactions: 0 })
  })

  it('in one batch, each row keeps its own version guard: a newer row lands beside an older one that does not', async () => {
    const m = merchantId()
    await applyToShard(env.DB, [
      objectRecord(order(m, 'A', { version: 5, status: 'refunded' }), []),
      objectRecord(order(m, 'B', { version: 1, status: 'pending', amount: null }), []),
    ])
    await applyToShard(env.DB, [
      objectRecord(order(m, 'A', { version: 4, status: 'paid' }), []),
      objectRecord(order(m, 'B', { version: 2, status: 'paid' }), []),
    ])
    const { results } = await env.DB.prepare(
      'SELECT out_trade_no, status, version, amount FROM orders WHERE merchant_id = ? ORDER BY out_trade_no',
    )
      .bind(m)
      .all()
    expect(results).toEqual([
      { out_trade_no: 'A', status: 'refunded', version: 5, amount: 1000 },
      { out_trade_no: 'B', status: 'paid', version: 2, amount: 1000 },
    ])
  })
})

describe("the stats' failed deliveries (two audits read a recovered delivery's failure as one still standing)", () => {
  const at = (minute: number) => new Date(minute * 60_000).toISOString()
  const failedAt = minuteOf('2026-12-01T06:00:00Z')
  /** The merchant's delivered and failed counters, minute by minute. */
  const counters = async (m: string) =>
    (await readStatsBuckets(env.DB, m, failedAt - 10, failedAt + 100, 1)).map((row) => [
      row.first_minute - failedAt,
      row.delivered,
      row.failed,
    ])
  const now = Date.parse('2026-12-02T00:00:00Z')
  /** A delivery failed for good in `failedAt`, as its object's record says. */
  const failedDelivery = (m: string, outTradeNo: string, reason: string, attempts: number) =>
    delivery(m, outTradeNo, { status: 'failed', reason, attempts, nextAttemptAt: null, updatedAt: at(failedAt), version: 5 })

  it('counts a failure in its minute, takes it back when the delivery is recovered, and counts the delivery where it landed', async () => {
    const m = merchantId()
    const o = order(m, 'F1')
    const failed = failedDelivery(m, 'F1', 'retries_exhausted', 3)
    await applyToShard(env.DB, [objectRecord(o, [failed])], now)
    expect(await counters(m)).toEqual([[0, 0, 1]])
    // The same state again (a record sent twice) changes nothing.
    await applyToShard(env.DB, [objectRecord(o, [failed])], now)
    expect(await counters(m)).toEqual([[0, 0, 1]])
    // Recovered: pending again, then delivered 30 minutes later.
    await applyToShard(
      env.DB,
      [objectRecord(o, [{ ...failed, status: 'pending', reason: null, updatedAt: at(failedAt + 20), version: 6 }])],
      now,
    )
    expect(await counters(m)).toEqual([[0, 0, 0]])
    const delivered = { ...failed, status: 'delivered' as const, reason: null, attempts: 4, updatedAt: at(failedAt + 30), version: 7 }
    await applyToShard(env.DB, [objectRecord(o, [delivered])], now)
    expect(await counters(m)).toEqual([
      [0, 0, 0],
      [30, 1, 0],
    ])
  })

  it('moves a failure to its new minute when a recovered delivery fails again; leaves one counted before failed_minute alone', async () => {
    const m = merchantId()
    const o = order(m, 'F2')
    const failed = failedDelivery(m, 'F2', 'retries_exhausted', 3)
    await applyToShard(env.DB, [objectRecord(o, [failed])], now)
    // Recovered and failed anew within one batch: the old failure goes, the new one counts.
    await applyToShard(env.DB, [objectRecord(o, [{ ...failed, attempts: 4, updatedAt: at(failedAt + 50), version: 8 }])], now)
    expect(await counters(m)).toEqual([
      [0, 0, 0],
      [50, 0, 1],
    ])
    // A failure stored before migration 0017 has no minute: a recovery leaves it counted (none to take it back from).
    await env.DB.prepare('UPDATE deliveries SET failed_minute = NULL WHERE id = ?').bind(failed.id).run()
    await applyToShard(
      env.DB,
      [objectRecord(o, [{ ...failed, status: 'delivered', reason: null, attempts: 5, updatedAt: at(failedAt + 60), version: 9 }])],
      now,
    )
    expect(await counters(m)).toEqual([
      [0, 0, 0],
      [50, 0, 1],
      [60, 1, 0],
    ])
  })

  it('takes nothing back from a minute the daily prune has dropped', async () => {
    const m = merchantId()
    const o = order(m, 'F3')
    const failed = failedDelivery(m, 'F3', 'gone', 1)
    await applyToShard(env.DB, [objectRecord(o, [failed])], now)
    await env.DB.prepare('DELETE FROM merchant_stats WHERE merchant_id = ?').bind(m).run()
    const muchLater = now + 120 * 86_400_000
    await applyToShard(
      env.DB,
      [objectRecord(o, [{ ...failed, status: 'pending', reason: null, updatedAt: at(failedAt + 10), version: 6 }])],
      muchLater,
    )
    expect(await counters(m)).toEqual([])
  })
})
