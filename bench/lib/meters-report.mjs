// The meters part of `npm run bench`'s report (issue #16): paygate's rows, D1 transactions and queue messages per
// notification, read from its own meter lines (bench/lib/meters.mjs), what a million new payments cost at
// Cloudflare's list prices, and the issue's targets on them.
import { costPerMillion, PRICES, QUEUE_OPERATIONS_PER_MESSAGE } from './meters.mjs'
import { fmt, table } from './stats.mjs'

export const NOT_REPORTED = 'meters: not reported by this build'
/** The step whose D1 transactions per notification issue #16 judges. */
const TARGET_CONCURRENCY = 16

/** Markdown lines for paygate's meters; `meters` is runSystem()'s `meters` (null: paygate was not metered). */
export function meterSection(meters) {
  if (!meters) return []
  const out = [
    '#### paygate meters (its own `meter.*` log lines, from a second run of the same plan with METER = "on"; the figures above come from the run without)',
    '',
  ]
  const run = meters.run
  if (run === null) return [...out, NOT_REPORTED]
  const p = run.perNewPayment
  out.push(
    table(
      ['whole run (warm-up included)', 'value'],
      [
        ['notifications sent · new payments · duplicates', `${run.notifications} · ${run.newPayments} · ${run.duplicates}`],
        [
          'order-object rows written per new payment: ingest + alarm = all',
          `${fmt(p.ingestRows, 2)} + ${fmt(p.alarmRows, 2)} = **${fmt(p.objectRows, 2)}**`,
        ],
        ['order-object rows written per duplicate', `**${fmt(run.perDuplicate.objectRows, 2)}**`],
        ['alarm runs per new payment', fmt(p.alarmRuns, 2)],
        ['D1 rows written per new payment', `**${fmt(p.d1Rows, 2)}**`],
        [
          'D1 write transactions per notification',
          `**${fmt(run.perNotification.d1Transactions, 4)}** (${run.d1.transactions} batches, ${run.d1.records} records; ${shards(run.d1.shards)})`,
        ],
        ['queue messages per notification', `${fmt(run.perNotification.queueMessages, 2)} (${run.queue.sends} sends)`],
        ...(run.alarmsSet === null ? [] : [['setAlarm() calls per new payment', fmt(run.alarmsSet / run.newPayments, 2)]]),
      ],
    ),
    '',
    table(
      ['step', 'notifications', 'new payments', 'D1 transactions', 'D1 transactions / notification', 'queue messages / notification'],
      meters.steps.map(({ label, summary: s }) => [
        label,
        String(s?.notifications ?? '—'),
        String(s?.newPayments ?? '—'),
        String(s?.d1.transactions ?? '—'),
        fmt(s?.perNotification.d1Transactions, 4),
        fmt(s?.perNotification.queueMessages, 2),
      ]),
    ),
    '',
    "Steps are told apart by when their lines reached the log: each step's lines are those read from its start until",
    'the runtime was idle and the projection had committed every queued record.',
  )
  return out
}

function shards(map) {
  const entries = Object.entries(map)
  return entries.length === 0 ? 'no shard' : entries.map(([shard, n]) => `${shard} ${n}`).join(', ')
}

/** Markdown lines: cost per million new payments at list prices, from the measured counts. */
export function costSection(meters) {
  if (!meters) return []
  const cost = costPerMillion(meters.run)
  const out = ['### Cost per million new payments at list prices (from the meters above)', '']
  if (cost === null) return [...out, meters.run === null ? NOT_REPORTED : 'meters: no new payment was metered']
  const mix = new Map(cost.runMix.rows.map((r) => [r.item, r]))
  const priceOf = {
    'Workers requests': PRICES.workersRequest,
    'Durable Object requests': PRICES.durableObjectRequest,
    'Durable Object rows written': PRICES.durableObjectRowWritten,
    'D1 rows written': PRICES.d1RowWritten,
    'Queue operations': PRICES.queueOperation,
  }
  const rows = cost.perNewPayment.rows.map((r) => [
    r.item,
    `$${fmt(priceOf[r.item].perMillion, 2)} / million`,
    fmt(r.unitsPerNewPayment, 3),
    `$${fmt(r.dollarsPerMillion, 2)}`,
    fmt(mix.get(r.item)?.unitsPerNewPayment, 3),
    `$${fmt(mix.get(r.item)?.dollarsPerMillion, 2)}`,
  ])
  rows.push(['**total**', '', '', `**$${fmt(cost.perNewPayment.total, 2)}**`, '', `**$${fmt(cost.runMix.total, 2)}**`])
  out.push(
    table(
      [
        'item',
        'list price',
        'per new payment',
        '$ per million new payments',
        "per new payment, the run's duplicates included",
        '$ per million (with duplicates)',
      ],
      rows,
    ),
    '',
    `Prices: Workers ${PRICES.workersRequest.source} · Durable Objects ${PRICES.durableObjectRequest.source} · ` +
      `D1 ${PRICES.d1RowWritten.source} · Queues ${PRICES.queueOperation.source} (beyond the monthly inclusions; ` +
      'Worker CPU and Durable Object duration are not counted here).',
    `Counted: a Durable Object request per ingest RPC and per alarm run; ${QUEUE_OPERATIONS_PER_MESSAGE} queue operations per message ` +
      '(write, read, delete; no retries); one queue consumer invocation per D1 batch, counted as a Workers request; ' +
      (cost.alarmsSetReported
        ? 'setAlarm() calls as reported (`alarms_set`), a billed row each.'
        : 'one setAlarm() per alarm run, a billed row each (Cloudflare bills it as a row written; `cursor.rowsWritten` does not count it, and this build does not report `alarms_set`).'),
  )
  return out
}

/** The issue's targets on the meters, as report.mjs's judge() rows; `met: null` when they could not be measured. */
export function meterTargets(meters) {
  if (!meters) return []
  const run = meters.run
  const missing = (name) => ({ name, figures: NOT_REPORTED, met: null })
  if (run === null) {
    return [
      'object rows ≤ 6 per new payment, ≤ 1 per duplicate',
      'D1 rows ≤ 4 per new payment',
      `D1 write transactions ≤ 0.02 per notification at c=${TARGET_CONCURRENCY}`,
      'cost ≤ $12 per million new payments',
    ].map(missing)
  }
  const p = run.perNewPayment
  const targets = [
    {
      name: 'object rows ≤ 6 per new payment, ≤ 1 per duplicate',
      figures: `${fmt(p.objectRows, 2)} per new payment, ${fmt(run.perDuplicate.objectRows, 2)} per duplicate`,
      met: p.objectRows !== null && p.objectRows <= 6 && (run.perDuplicate.objectRows ?? 0) <= 1,
    },
    { name: 'D1 rows ≤ 4 per new payment', figures: `${fmt(p.d1Rows, 2)}`, met: p.d1Rows !== null && p.d1Rows <= 4 },
  ]
  const closed = meters.steps.filter((s) => s.concurrency !== null && s.summary !== null)
  const step =
    closed.find((s) => s.concurrency === TARGET_CONCURRENCY) ??
    closed.reduce((a, b) => (a === null || b.concurrency > a.concurrency ? b : a), null)
  const perNotification = step?.summary.perNotification.d1Transactions ?? null
  targets.push({
    name: `D1 write transactions ≤ 0.02 per notification at c=${TARGET_CONCURRENCY}`,
    figures:
      step === null
        ? 'no closed-loop step metered'
        : `${fmt(perNotification, 4)} at ${step.label}${step.concurrency === TARGET_CONCURRENCY ? '' : ` (this plan has no c=${TARGET_CONCURRENCY})`}`,
    met: perNotification === null ? null : perNotification <= 0.02,
  })
  const cost = costPerMillion(run)
  targets.push({
    name: 'cost ≤ $12 per million new payments',
    figures:
      cost === null
        ? 'no new payment metered'
        : `$${fmt(cost.perNewPayment.total, 2)} ($${fmt(cost.runMix.total, 2)} with the run's duplicates)`,
    met: cost === null ? null : cost.perNewPayment.total <= 12,
  })
  return targets
}
