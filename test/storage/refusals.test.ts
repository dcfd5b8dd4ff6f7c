/**
 * Refusals before an order, as the projection consumer writes them (the contract: "Rejected notifications are listed
 * individually, at least 1,000 per merchant per hour; beyond that they may be counted instead of stored, and the list
 * says how many were left out"): a row each up to the hour's threshold, then one counted row per channel, reason and
 * 10 minutes; a batch applied again changes nothing; a kept body follows its refusal to the row it ended up in.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { applyToShard, type RefusalRecord } from '../../src/storage/projection'
import { LISTED_REFUSALS_PER_HOUR, newRefusalId, refusalRowId } from '../../src/storage/refusals'
import { keptBody, refusedBody } from '../../src/storage/rejected-bodies'
import { readRejectedReasons } from '../../src/storage/stats'
import { admin, putMerchant } from '../support/gateway'

const HOUR_MS = 3600_000
/** The start of the current UTC hour: kept bodies older than a week are not shown, so the refusals are recent. */
const hourStart = Math.floor(Date.now() / HOUR_MS) * HOUR_MS

function refusals(merchantId: string, n: number, from: number, extra: Partial<RefusalRecord> = {}): RefusalRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'refusal',
    id: newRefusalId(),
    merchantId,
    channel: 'wechatpay.v2',
    reason: 'signature_invalid',
    receivedAt: from + i,
    ...extra,
  }))
}

/** Applies the records in batches of 100, as the queue delivers them. */
async function apply(records: readonly RefusalRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) await applyToShard(env.DB, records.slice(i, i + 100))
}

interface Row {
  id: string
  received_at: string
  reason: string
  count: number
  first_received_at: string | null
}

async function rowsOf(merchantId: string): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    // A counted row's latest time is `last_received_at`; its `received_at` is its place in the list (migration 0011).
    `SELECT id, coalesce(last_received_at, received_at) AS received_at, reason, count, first_received_at FROM notifications
     WHERE merchant_id = ? AND verdict = 'rejected' ORDER BY received_at, id`,
  )
    .bind(merchantId)
    .all<Row>()
  return results
}

const iso = (ms: number) => new Date(ms).toISOString()

describe('refusals before an order', () => {
  it('lists each refusal as a row of its own, with count 1', async () => {
    const merchantId = 'refusals-three'
    const three = refusals(merchantId, 3, hourStart)
    await apply(three)
    const rows = await rowsOf(merchantId)
    expect(rows).toEqual(
      three.map((r) => ({ id: r.id, received_at: iso(r.receivedAt), reason: 'signature_invalid', count: 1, first_received_at: null })),
    )
  })

  it(`past ${LISTED_REFUSALS_PER_HOUR} listed in an hour, counts the rest of that hour in one row; the next hour lists again`, async () => {
    const merchantId = 'refusals-flood'
    const flood = refusals(merchantId, LISTED_REFUSALS_PER_HOUR + 7, hourStart)
    await apply(flood)
    const rows = await rowsOf(merchantId)
    const listed = rows.filter((r) => r.first_received_at === null)
    expect(listed).toHaveLength(LISTED_REFUSALS_PER_HOUR)
    expect(new Set(listed.map((r) => r.count))).toEqual(new Set([1]))
    // The earliest are listed; the 7 left out are one counted row saying how many.
    expect(listed.map((r) => r.id).sort()).toEqual(
      flood
        .slice(0, LISTED_REFUSALS_PER_HOUR)
        .map((r) => r.id)
        .sort(),
    )
    const leftOut = flood.slice(LISTED_REFUSALS_PER_HOUR)
    expect(rows.filter((r) => r.first_received_at !== null)).toEqual([
      {
        id: await refusalRowId(leftOut[0]!),
        received_at: iso(leftOut.at(-1)!.receivedAt),
        reason: 'signature_invalid',
        count: 7,
        first_received_at: iso(leftOut[0]!.receivedAt),
      },
    ])
    // The stats count every one of them, listed or counted.
    expect(await readRejectedReasons(env.DB, merchantId, hourStart / 60_000, (hourStart + HOUR_MS) / 60_000)).toEqual({
      signature_invalid: LISTED_REFUSALS_PER_HOUR + 7,
    })

    const nextHour = refusals(merchantId, 1, hourStart + HOUR_MS)
    await apply(nextHour)
    expect((await rowsOf(merchantId)).at(-1)).toEqual({
      id: nextHour[0]!.id,
      received_at: iso(hourStart + HOUR_MS),
      reason: 'signature_invalid',
      count: 1,
      first_received_at: null,
    })
  })

  it('the same batches applied twice (a redelivery) change no row and no count, listed or counted', async () => {
    const merchantId = 'refusals-replay'
    const records = refusals(merchantId, LISTED_REFUSALS_PER_HOUR + 5, hourStart)
    await apply(records)
    const before = await rowsOf(merchantId)
    const countedIds = () =>
      env.DB.prepare('SELECT count(*) AS n FROM counted_refusals WHERE merchant_id = ?').bind(merchantId).first<{ n: number }>()
    expect(await countedIds()).toEqual({ n: 5 })

    await apply(records)
    // One batch holding the threshold's edge, each record twice.
    const edge = records.slice(LISTED_REFUSALS_PER_HOUR - 2, LISTED_REFUSALS_PER_HOUR + 2)
    await applyToShard(env.DB, [...edge, ...edge])
    expect(await rowsOf(merchantId)).toEqual(before)
    expect(await countedIds()).toEqual({ n: 5 })
  })

  it('counts a record queued without an id (by an older version) into the counted row', async () => {
    const merchantId = 'refusals-legacy'
    const { id: _, ...legacy } = refusals(merchantId, 1, hourStart)[0]!
    await applyToShard(env.DB, [legacy, { ...legacy, receivedAt: legacy.receivedAt + 1 }])
    expect(await rowsOf(merchantId)).toEqual([
      {
        id: await refusalRowId(legacy),
        received_at: iso(legacy.receivedAt + 1),
        reason: 'signature_invalid',
        count: 2,
        first_received_at: iso(legacy.receivedAt),
      },
    ])
  })

  it('a kept body stays under its listed row; past the threshold the first body of the window becomes the counted row’s sample', async () => {
    const merchantId = 'refusals-bodies'
    const listed = refusals(merchantId, LISTED_REFUSALS_PER_HOUR, hourStart)
    const body = (text: string) => refusedBody('text/xml', {}, text)
    const over = refusals(merchantId, 3, hourStart + LISTED_REFUSALS_PER_HOUR).map((r, i) => ({ ...r, kept: body(`counted body ${i}`) }))
    const first = { ...listed[0]!, kept: body('listed body') }
    await apply([first, ...listed.slice(1), ...over])

    expect(await keptBody(env.DB, merchantId, first.id!, Date.now())).toMatchObject({ notificationId: first.id, body: 'listed body' })
    const countedId = await refusalRowId(over[0]!)
    expect(await rowsOf(merchantId).then((rows) => rows.find((r) => r.id === countedId))).toMatchObject({ count: 3 })
    expect(await keptBody(env.DB, merchantId, countedId, Date.now())).toMatchObject({ notificationId: countedId, body: 'counted body 0' })
    // The counted refusals' own bodies are not kept under their ids: no body without a row.
    for (const r of over) expect(await keptBody(env.DB, merchantId, r.id!, Date.now())).toBeNull()

    // A later refusal of the same window keeps the row's sample as it is.
    const later = refusals(merchantId, 1, hourStart + LISTED_REFUSALS_PER_HOUR + 10, { kept: body('later body') })
    await apply(later)
    expect(await keptBody(env.DB, merchantId, countedId, Date.now())).toMatchObject({ body: 'counted body 0' })
    expect(await keptBody(env.DB, merchantId, later[0]!.id!, Date.now())).toBeNull()
  })

  it('a counted row keeps its place in the list while refusals join it: a client paging through a flood sees it once', async () => {
    const merchantId = 'refusals-paging'
    await putMerchant(merchantId)
    const minute = 60_000
    await apply(refusals(merchantId, LISTED_REFUSALS_PER_HOUR, hourStart))
    // Two counted rows of one window: `signature_invalid` at minute 1, `merchant_mismatch` at minute 5 (listed first).
    await apply(refusals(merchantId, 1, hourStart + minute))
    await apply(refusals(merchantId, 1, hourStart + 5 * minute, { reason: 'merchant_mismatch' }))
    const counted = await refusalRowId(refusals(merchantId, 1, hourStart + minute)[0]!)

    const list = (cursor?: string) =>
      admin(
        `/admin/merchants/${merchantId}/notifications?limit=1${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      ).then(
        (r) =>
          r.json() as Promise<{
            notifications: { id: string; count: number; received_at: string; first_received_at: string | null }[]
            next_cursor: string | null
          }>,
      )
    const first = await list()
    expect(first.notifications.map((n) => n.count)).toEqual([1])
    expect(first.notifications[0]!.id).not.toBe(counted)
    // While the client reads, a refusal joins the older counted row.
    await apply(refusals(merchantId, 1, hourStart + 6 * minute))

    const second = await list(first.next_cursor!)
    expect(second.notifications).toEqual([
      expect.objectContaining({
        id: counted,
        count: 2,
        received_at: iso(hourStart + 6 * minute),
        first_received_at: iso(hourStart + minute),
      }),
    ])
  })

  it('a refusal naming its order keeps it on its listed row, counts toward the hour’s listed ones, and is counted under no order past them', async () => {
    const merchantId = 'refusals-orders'
    const named = refusals(merchantId, LISTED_REFUSALS_PER_HOUR + 3, hourStart, { reason: 'merchant_mismatch', outTradeNo: 'T-NAMED' })
    await apply(named)
    const byOrder = async () => {
      const { results } = await env.DB.prepare(
        `SELECT out_trade_no, first_received_at IS NOT NULL AS counted, count(*) AS rows, sum(count) AS refusals FROM notifications
         WHERE merchant_id = ? GROUP BY 1, 2 ORDER BY 1, 2`,
      )
        .bind(merchantId)
        .all()
      return results
    }
    expect(await byOrder()).toEqual([
      { out_trade_no: null, counted: 1, rows: 1, refusals: 3 },
      { out_trade_no: 'T-NAMED', counted: 0, rows: LISTED_REFUSALS_PER_HOUR, refusals: LISTED_REFUSALS_PER_HOUR },
    ])
    // Applied again (a redelivery): nothing more.
    await apply(named)
    expect(await byOrder()).toHaveLength(2)
    expect(await readRejectedReasons(env.DB, merchantId, hourStart / 60_000, (hourStart + HOUR_MS) / 60_000)).toEqual({
      merchant_mismatch: LISTED_REFUSALS_PER_HOUR + 3,
    })
  })

  it('a listed refusal naming its order expires with the others after 30 days', async () => {
    const merchantId = 'refusals-orders-expire'
    await apply(refusals(merchantId, 2, hourStart - 45 * 24 * HOUR_MS, { outTradeNo: 'T-OLD' }))
    expect(await rowsOf(merchantId)).toHaveLength(2)
    const recent = refusals(merchantId, 1, hourStart, { outTradeNo: 'T-NEW' })
    await apply(recent)
    expect((await rowsOf(merchantId)).map((r) => r.id)).toEqual([recent[0]!.id])
  })

  it('are counted in the stats once, at their own minute, and stay counted after their audit rows expire', async () => {
    const merchantId = 'refusals-counted'
    const minutes = (from: number, to: number) => [from / 60_000, to / 60_000] as const
    const old = hourStart - 45 * 24 * HOUR_MS
    const early = refusals(merchantId, 3, old)
    await apply(early)
    // Sent again (a queue redelivery): counted once.
    await apply(early)
    expect(await readRejectedReasons(env.DB, merchantId, ...minutes(old, old + HOUR_MS))).toEqual({ signature_invalid: 3 })
    // A refusal now prunes the audit rows older than 30 days; the counters keep what they counted.
    await apply(refusals(merchantId, 1, hourStart))
    expect((await rowsOf(merchantId)).map((r) => r.received_at)).toEqual([iso(hourStart)])
    expect(await readRejectedReasons(env.DB, merchantId, ...minutes(old, old + HOUR_MS))).toEqual({ signature_invalid: 3 })
    expect(await readRejectedReasons(env.DB, merchantId, ...minutes(hourStart, hourStart + HOUR_MS))).toEqual({ signature_invalid: 1 })
  })
})
