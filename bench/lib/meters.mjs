// Row, transaction and queue meters of `npm run bench` (issue #16), read from paygate's own log lines. With the var
// METER = "on" paygate prints one JSON line per storage step (one object per line, possibly behind wrangler's
// noise), and this module turns them into counts. Pure: it sees text and numbers, never a file or a process, so
// test/node/bench-meters.test.ts can feed it sample lines.
//
//   {"event":"meter.object","object":"order"|"subject","op":"ingest"|"alarm"|"register"|"other",
//    "verdict":"accepted"|"duplicate"|"rejected"|null,"new_order":true|false,"rows_written":N}
//       one per Durable Object storage step; N = the sum of cursor.rowsWritten of its statements (index entries
//       included). An optional "alarms_set":K counts setAlarm() calls, which Cloudflare bills as a row each.
//   {"event":"meter.d1","shard":"DB","transactions":1,"rows_written":N,"records":K}
//       one per D1 batch() the projection consumer commits.
//   {"event":"meter.queue","messages":K,"object":K1,"duplicate":K2,"refusal":K3}
//       one per producer send / sendBatch.

/** Cloudflare's list prices (USD), Workers Paid, beyond the monthly inclusions. Checked 2026-11-29. */
export const PRICES = {
  workersRequest: { perMillion: 0.3, source: 'https://developers.cloudflare.com/workers/platform/pricing/' },
  durableObjectRequest: { perMillion: 0.15, source: 'https://developers.cloudflare.com/durable-objects/platform/pricing/' },
  durableObjectRowWritten: { perMillion: 1.0, source: 'https://developers.cloudflare.com/durable-objects/platform/pricing/' },
  d1RowWritten: { perMillion: 1.0, source: 'https://developers.cloudflare.com/d1/platform/pricing/' },
  queueOperation: { perMillion: 0.4, source: 'https://developers.cloudflare.com/queues/platform/pricing/' },
}
/** A message of at most 64 KB is written, read and deleted once: three billed operations. */
export const QUEUE_OPERATIONS_PER_MESSAGE = 3

/** The meter event of one log line, or null: anything before the first `{` is ignored, as is a line that is not one. */
export function parseMeterLine(line) {
  const start = line.indexOf('{')
  if (start === -1) return null
  let value
  try {
    value = JSON.parse(line.slice(start))
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object' || typeof value.event !== 'string') return null
  if (value.event === 'meter.object') {
    return {
      kind: 'object',
      object: typeof value.object === 'string' ? value.object : 'order',
      op: typeof value.op === 'string' ? value.op : 'other',
      verdict: typeof value.verdict === 'string' ? value.verdict : null,
      newOrder: value.new_order === true,
      rowsWritten: count(value.rows_written),
      alarmsSet: value.alarms_set === undefined ? null : count(value.alarms_set),
    }
  }
  if (value.event === 'meter.d1') {
    return {
      kind: 'd1',
      shard: typeof value.shard === 'string' ? value.shard : 'DB',
      transactions: value.transactions === undefined ? 1 : count(value.transactions),
      rowsWritten: count(value.rows_written),
      records: count(value.records),
    }
  }
  if (value.event === 'meter.queue') {
    // Builds since the per-kind counts: how many of the messages were objects' state (one per alarm hand-off).
    const objects = typeof value.object === 'number' ? count(value.object) : null
    return { kind: 'queue', messages: count(value.messages), objectMessages: objects }
  }
  return null
}

function count(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** Empty counts; `addMeterText` adds to them. */
export function emptyTally() {
  return {
    lines: 0,
    ingest: {
      newPayment: { count: 0, rows: 0 },
      acceptedExisting: { count: 0, rows: 0 },
      duplicate: { count: 0, rows: 0 },
      rejected: { count: 0, rows: 0 },
    },
    alarm: { count: 0, rows: 0 },
    other: { count: 0, rows: 0 },
    /** setAlarm() calls, when the build reports them (`alarms_set`); null if no line did. */
    alarmsSet: null,
    d1: { transactions: 0, rows: 0, records: 0, shards: {} },
    queue: { sends: 0, messages: 0, objectMessages: null },
  }
}

/** Adds every meter line of `text` (any number of lines) to `tally`; returns it. */
export function addMeterText(tally, text) {
  for (const line of text.split('\n')) {
    const event = parseMeterLine(line)
    if (event !== null) addMeterEvent(tally, event)
  }
  return tally
}

export function addMeterEvent(tally, event) {
  tally.lines++
  if (event.kind === 'object') {
    const bucket =
      event.op === 'ingest'
        ? event.verdict === 'accepted'
          ? event.newOrder
            ? tally.ingest.newPayment
            : tally.ingest.acceptedExisting
          : event.verdict === 'duplicate'
            ? tally.ingest.duplicate
            : tally.ingest.rejected
        : event.op === 'alarm'
          ? tally.alarm
          : tally.other
    bucket.count++
    bucket.rows += event.rowsWritten
    if (event.alarmsSet !== null) tally.alarmsSet = (tally.alarmsSet ?? 0) + event.alarmsSet
  } else if (event.kind === 'd1') {
    tally.d1.transactions += event.transactions
    tally.d1.rows += event.rowsWritten
    tally.d1.records += event.records
    tally.d1.shards[event.shard] = (tally.d1.shards[event.shard] ?? 0) + event.transactions
  } else if (event.kind === 'queue') {
    tally.queue.sends++
    tally.queue.messages += event.messages
    if (event.objectMessages !== null) tally.queue.objectMessages = (tally.queue.objectMessages ?? 0) + event.objectMessages
  }
  return tally
}

/** The sum of several tallies (steps into the whole run). */
export function mergeTallies(tallies) {
  const total = emptyTally()
  for (const t of tallies) {
    total.lines += t.lines
    for (const key of Object.keys(total.ingest)) {
      total.ingest[key].count += t.ingest[key].count
      total.ingest[key].rows += t.ingest[key].rows
    }
    for (const key of ['alarm', 'other']) {
      total[key].count += t[key].count
      total[key].rows += t[key].rows
    }
    if (t.alarmsSet !== null) total.alarmsSet = (total.alarmsSet ?? 0) + t.alarmsSet
    total.d1.transactions += t.d1.transactions
    total.d1.rows += t.d1.rows
    total.d1.records += t.d1.records
    for (const [shard, n] of Object.entries(t.d1.shards)) total.d1.shards[shard] = (total.d1.shards[shard] ?? 0) + n
    total.queue.sends += t.queue.sends
    total.queue.messages += t.queue.messages
    if (t.queue.objectMessages !== null) total.queue.objectMessages = (total.queue.objectMessages ?? 0) + t.queue.objectMessages
  }
  return total
}

/** True once the projection consumer has committed as many records as the producers sent messages. */
export function projectionCaughtUp(tally) {
  return tally.d1.records >= tally.queue.messages
}

const ratio = (a, b) => (b > 0 ? a / b : null)

/**
 * Figures per new payment, per duplicate and per notification. `notifications`: requests sent in the same window
 * (duplicates included). Null when the window had no meter line at all (a build without meters).
 */
export function summarize(tally, notifications) {
  if (tally.lines === 0) return null
  const { ingest, alarm, other, d1, queue } = tally
  const newPayments = ingest.newPayment.count
  const ingestRows = ratio(ingest.newPayment.rows, newPayments)
  const alarmRows = ratio(alarm.rows, newPayments)
  const allObjectRows = ingest.newPayment.rows + ingest.acceptedExisting.rows + ingest.duplicate.rows + ingest.rejected.rows
  return {
    notifications,
    newPayments,
    duplicates: ingest.duplicate.count,
    ingestCalls: newPayments + ingest.acceptedExisting.count + ingest.duplicate.count + ingest.rejected.count,
    alarmRuns: alarm.count,
    otherSteps: other.count,
    alarmsSet: tally.alarmsSet,
    objectRows: { total: allObjectRows + alarm.rows + other.rows, alarm: alarm.rows, other: other.rows },
    perNewPayment: {
      ingestRows,
      alarmRows,
      objectRows: ingestRows === null ? null : ingestRows + (alarmRows ?? 0),
      d1Rows: ratio(d1.rows, newPayments),
      // A new payment's own message is its object's state; duplicates' and refusals' counts are theirs.
      queueMessages: ratio(queue.objectMessages ?? queue.messages, newPayments),
      alarmRuns: ratio(alarm.count, newPayments),
    },
    perDuplicate: { objectRows: ratio(ingest.duplicate.rows, ingest.duplicate.count) },
    perNotification: {
      d1Transactions: ratio(d1.transactions, notifications),
      queueMessages: ratio(queue.messages, notifications),
    },
    d1: { transactions: d1.transactions, rows: d1.rows, records: d1.records, shards: { ...d1.shards } },
    queue: { sends: queue.sends, messages: queue.messages, objectMessages: queue.objectMessages },
  }
}

/**
 * What a million new payments cost at list prices, from a summary: `perNewPayment` counts only what a new payment
 * causes (its request, its ingest and alarm, its rows, its D1 rows and messages); `runMix` divides everything the run
 * did (duplicates included) by its new payments. Each row: `{ item, unitsPerNewPayment, dollarsPerMillion }`.
 * Assumptions, stated in the report: one setAlarm() (a billed row) per alarm run unless the build reports
 * `alarms_set`; one queue consumer invocation per D1 batch, counted as a Workers request.
 */
export function costPerMillion(summary) {
  if (summary === null || summary.newPayments === 0) return null
  const np = summary.newPayments
  const alarmsSet = summary.alarmsSet ?? summary.alarmRuns
  const consumerInvocations = summary.d1.transactions
  const objectRowsAll = summary.objectRows.total + alarmsSet
  const build = (units) => {
    const rows = [
      { item: 'Workers requests', units: units.workers, price: PRICES.workersRequest },
      { item: 'Durable Object requests', units: units.doRequests, price: PRICES.durableObjectRequest },
      { item: 'Durable Object rows written', units: units.doRows, price: PRICES.durableObjectRowWritten },
      { item: 'D1 rows written', units: units.d1Rows, price: PRICES.d1RowWritten },
      { item: 'Queue operations', units: units.queueOps, price: PRICES.queueOperation },
    ].map(({ item, units: u, price }) => ({ item, unitsPerNewPayment: u, dollarsPerMillion: u * price.perMillion, source: price.source }))
    return { rows, total: rows.reduce((sum, r) => sum + r.dollarsPerMillion, 0) }
  }
  const p = summary.perNewPayment
  const perNewPayment = build({
    workers: 1 + consumerInvocations / np,
    doRequests: 1 + (p.alarmRuns ?? 0),
    doRows: (p.objectRows ?? 0) + alarmsSet / np,
    d1Rows: p.d1Rows ?? 0,
    queueOps: QUEUE_OPERATIONS_PER_MESSAGE * (p.queueMessages ?? 0),
  })
  const runMix = build({
    workers: (summary.notifications + consumerInvocations) / np,
    doRequests: (summary.ingestCalls + summary.alarmRuns + summary.otherSteps) / np,
    doRows: objectRowsAll / np,
    d1Rows: summary.d1.rows / np,
    queueOps: (QUEUE_OPERATIONS_PER_MESSAGE * summary.queue.messages) / np,
  })
  return { perNewPayment, runMix, alarmsSetReported: summary.alarmsSet !== null }
}
