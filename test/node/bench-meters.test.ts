/**
 * bench/lib/meters.mjs: the bench's reading of paygate's `meter.*` log lines (issue #16). Fed sample lines in the
 * shapes paygate prints with METER = "on", with wrangler's noise around them, since the parser cannot run against
 * a real build until the storage rework lands.
 */
import { describe, expect, it } from 'vitest'
import {
  addMeterText,
  costPerMillion,
  emptyTally,
  mergeTallies,
  parseMeterLine,
  projectionCaughtUp,
  summarize,
} from '../../bench/lib/meters.mjs'

const object = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 'info', event: 'meter.object', object: 'order', new_order: false, verdict: null, ...fields })
const ingestNew = (rows: number) => object({ op: 'ingest', verdict: 'accepted', new_order: true, rows_written: rows })
const ingestDuplicate = (rows: number) => object({ op: 'ingest', verdict: 'duplicate', rows_written: rows })
const alarm = (rows: number) => object({ op: 'alarm', rows_written: rows })
const d1 = (rows: number, records: number) =>
  JSON.stringify({ level: 'info', event: 'meter.d1', shard: 'DB', transactions: 1, rows_written: rows, records })
const queue = (messages: number) => JSON.stringify({ level: 'info', event: 'meter.queue', messages })

describe('parseMeterLine', () => {
  it('reads the JSON after any prefix wrangler puts before it', () => {
    expect(parseMeterLine(`[wrangler:info] ${ingestNew(5)}`)).toEqual({
      kind: 'object',
      object: 'order',
      op: 'ingest',
      verdict: 'accepted',
      newOrder: true,
      rowsWritten: 5,
      alarmsSet: null,
    })
    expect(parseMeterLine(`  ${d1(8, 2)}`)).toEqual({ kind: 'd1', shard: 'DB', transactions: 1, rowsWritten: 8, records: 2 })
    expect(parseMeterLine(queue(3))).toEqual({ kind: 'queue', messages: 3, objectMessages: null })
    // Builds that say what the messages were: an object's state is its new payment's own message.
    expect(parseMeterLine(JSON.stringify({ event: 'meter.queue', messages: 3, object: 1, duplicate: 2, refusal: 0 }))).toEqual({
      kind: 'queue',
      messages: 3,
      objectMessages: 1,
    })
  })

  it('ignores other log lines, broken JSON and noise', () => {
    expect(parseMeterLine(JSON.stringify({ level: 'info', event: 'notification', outcome: 'accepted' }))).toBeNull()
    expect(parseMeterLine('{"event":"meter.object","rows_written":')).toBeNull()
    expect(parseMeterLine('⎔ Starting local server...')).toBeNull()
    expect(parseMeterLine('')).toBeNull()
    expect(parseMeterLine('{} trailing')).toBeNull()
    expect(parseMeterLine('null')).toBeNull()
  })

  it('counts a missing or nonsensical number as zero', () => {
    expect(parseMeterLine(object({ op: 'alarm', rows_written: -3 }))).toMatchObject({ rowsWritten: 0 })
    expect(parseMeterLine(JSON.stringify({ event: 'meter.queue' }))).toEqual({ kind: 'queue', messages: 0, objectMessages: null })
  })
})

describe('summarize', () => {
  // Four new payments, one duplicate, four alarm runs, one queue message per new payment, two D1 batches.
  const text = [
    'noise before',
    ingestNew(5),
    ingestNew(5),
    `[wrangler:inf] ${ingestDuplicate(1)}`,
    queue(1),
    queue(1),
    alarm(1),
    alarm(1),
    ingestNew(6),
    ingestNew(4),
    queue(2),
    alarm(1),
    alarm(1),
    d1(6, 2),
    '{"level":"warn","event":"delivery.retry"}',
    d1(6, 2),
    object({ op: 'register', rows_written: 3 }),
  ].join('\n')

  it('gives rows per new payment, per duplicate and transactions per notification', () => {
    const summary = summarize(addMeterText(emptyTally(), text), 5)
    expect(summary).not.toBeNull()
    expect(summary?.newPayments).toBe(4)
    expect(summary?.duplicates).toBe(1)
    expect(summary?.alarmRuns).toBe(4)
    expect(summary?.perNewPayment.ingestRows).toBe(5)
    expect(summary?.perNewPayment.alarmRows).toBe(1)
    expect(summary?.perNewPayment.objectRows).toBe(6)
    expect(summary?.perNewPayment.d1Rows).toBe(3)
    expect(summary?.perNewPayment.queueMessages).toBe(1)
    expect(summary?.perDuplicate.objectRows).toBe(1)
    expect(summary?.perNotification.d1Transactions).toBe(0.4)
    expect(summary?.perNotification.queueMessages).toBe(0.8)
    expect(summary?.objectRows).toEqual({ total: 28, alarm: 4, other: 3 })
    expect(summary?.d1.shards).toEqual({ DB: 2 })
  })

  it('is null for a build that prints no meter line', () => {
    expect(summarize(addMeterText(emptyTally(), 'just noise\n{"event":"notification"}'), 100)).toBeNull()
  })

  it('adds steps up to the whole run', () => {
    const lines = text.split('\n')
    const first = addMeterText(emptyTally(), lines.slice(0, 8).join('\n'))
    const second = addMeterText(emptyTally(), lines.slice(8).join('\n'))
    expect(mergeTallies([first, second])).toEqual(addMeterText(emptyTally(), text))
  })

  it('knows when the projection has caught up with the queue', () => {
    const tally = addMeterText(emptyTally(), [queue(3), d1(6, 2)].join('\n'))
    expect(projectionCaughtUp(tally)).toBe(false)
    addMeterText(tally, d1(3, 1))
    expect(projectionCaughtUp(tally)).toBe(true)
  })
})

describe('costPerMillion', () => {
  it('prices a new payment from its measured counts at list prices', () => {
    // Per new payment: 5 + 1 object rows, 1 setAlarm (assumed: one per alarm run), 3 D1 rows, 1 message, 0.5 batches.
    const summary = summarize(
      addMeterText(emptyTally(), [ingestNew(5), ingestNew(5), alarm(1), alarm(1), queue(2), d1(6, 2)].join('\n')),
      2,
    )
    const cost = costPerMillion(summary)
    expect(cost?.alarmsSetReported).toBe(false)
    const units = Object.fromEntries(cost?.perNewPayment.rows.map((r) => [r.item, r.unitsPerNewPayment]) ?? [])
    expect(units).toEqual({
      'Workers requests': 1.5,
      'Durable Object requests': 2,
      'Durable Object rows written': 7,
      'D1 rows written': 3,
      'Queue operations': 3,
    })
    // 1.5 × 0.30 + 2 × 0.15 + 7 × 1.00 + 3 × 1.00 + 3 × 0.40
    expect(cost?.perNewPayment.total).toBeCloseTo(0.45 + 0.3 + 7 + 3 + 1.2, 10)
    for (const row of cost?.perNewPayment.rows ?? []) expect(row.source).toMatch(/^https:\/\/developers\.cloudflare\.com\//)
  })

  it('charges duplicates to the run mix only, and uses reported setAlarm counts', () => {
    const summary = summarize(
      addMeterText(
        emptyTally(),
        [
          object({ op: 'ingest', verdict: 'accepted', new_order: true, rows_written: 4, alarms_set: 1 }),
          ingestDuplicate(1),
          alarm(2),
          queue(1),
          d1(3, 1),
        ].join('\n'),
      ),
      2,
    )
    const cost = costPerMillion(summary)
    expect(cost?.alarmsSetReported).toBe(true)
    const newPayment = Object.fromEntries(cost?.perNewPayment.rows.map((r) => [r.item, r.unitsPerNewPayment]) ?? [])
    const mix = Object.fromEntries(cost?.runMix.rows.map((r) => [r.item, r.unitsPerNewPayment]) ?? [])
    expect(newPayment['Durable Object rows written']).toBe(7)
    expect(mix['Durable Object rows written']).toBe(8)
    expect(newPayment['Durable Object requests']).toBe(2)
    expect(mix['Durable Object requests']).toBe(3)
    expect(mix['Workers requests']).toBe(3)
  })

  it('is null without meters or without a new payment', () => {
    expect(costPerMillion(null)).toBeNull()
    expect(costPerMillion(summarize(addMeterText(emptyTally(), ingestDuplicate(1)), 1))).toBeNull()
  })
})
