// The Markdown report of `npm run bench`: the tables docs/benchmarks.md quotes, and each target of issues #7 and
// #16 judged met or not met on this run's figures.
import { costSection, meterSection, meterTargets } from './meters-report.mjs'
import { fmt, median, table } from './stats.mjs'

/** Issue #16: paygate's sustained pace against the floor Worker's, at least this share of it. */
const FLOOR_SHARE = 0.5
const NAMES = { paygate: 'paygate', skeleton: 'skeleton Worker', floor: 'floor Worker', node: 'Node baseline', shape: 'shape Worker' }

export function report(results) {
  const out = []
  const f = results.facts
  out.push(`## Results${f.quick ? ' (--quick smoke run: not for quoting)' : ''}`)
  out.push('')
  out.push(
    `\`${f.command}\` · ${f.startedAt} · ${f.cpus} × ${f.cpuModel}, ${f.memoryGiB} GiB · Node ${f.node} · workerd ${f.workerd} · ` +
      `wrangler ${f.wrangler} · alipay-sdk ${f.alipaySdk} · load average at start ${f.loadAverageAtStart}` +
      (f.localObservability ? " · wrangler's local observability collector on" : '') +
      (f.logLevel ? ` · paygate with LOG_LEVEL = ${f.logLevel}` : ''),
  )
  if (results.micro) out.push('', ...microSection(results.micro))
  const systems = Object.keys(results.e2e)
  if (systems.length > 0) {
    out.push('', '### End to end (loopback, 50% Alipay · 35% WeChat Pay v3 · 15% v2, 20% duplicates)', '')
    for (const system of systems) {
      out.push(...systemSection(results.e2e[system]), '')
      const meters = meterSection(results.e2e[system].meters)
      if (meters.length > 0) out.push(...meters, '')
    }
    out.push(...comparison(results.e2e))
    if (results.rounds) out.push('', ...roundsSection(results.rounds))
    const cost = costSection(results.e2e.paygate?.meters)
    if (cost.length > 0) out.push('', ...cost)
  }
  const targets = judge(results)
  if (targets.length > 0) {
    out.push('', '### Targets', '')
    out.push(
      table(
        ['target', 'figures', 'verdict'],
        targets.map((t) => [t.name, t.figures, t.met === null ? '**not measured**' : t.met ? '**met**' : '**not met**']),
      ),
    )
  }
  return out.join('\n')
}

function microSection(micro) {
  const rows = micro.cases.map((c) => {
    const us = c.microseconds
    return [
      c.id,
      fmt(us.parse),
      fmt(us['parse+verify']),
      `**${fmt(us.pipeline)}**`,
      us['floor-signature'] === undefined ? fmt(us.floor) : `${fmt(us.floor)} (signature alone ${fmt(us['floor-signature'])})`,
      `${fmt(c.ratio, 2)}×`,
      fmt(c.nodeMicroseconds),
    ]
  })
  const out = [
    '### Part 1: CPU per notification inside workerd (µs, median of runs)',
    '',
    table(
      ['channel', 'parse', 'parse + verify', 'parse + verify + normalize', 'bare crypto floor', 'ratio', 'Node baseline handler'],
      rows,
    ),
  ]
  if (micro.inspected) {
    const byId = new Map(micro.inspected.map((c) => [c.id, c]))
    out.push(
      '',
      'The same code in the workerd the `wrangler dev` command starts (V8 inspector attached; a shorter run):',
      '',
      table(
        ['channel', 'pipeline µs (inspector)', 'floor µs (inspector)', 'ratio (inspector)', 'pipeline, inspector / none'],
        micro.cases.map((c) => {
          const i = byId.get(c.id)
          return [
            c.id,
            fmt(i?.microseconds.pipeline),
            fmt(i?.microseconds.floor),
            `${fmt(i?.ratio, 2)}×`,
            `${fmt(i ? i.microseconds.pipeline / c.microseconds.pipeline : null, 1)}×`,
          ]
        }),
      ),
    )
  }
  return out
}

function systemSection(r) {
  const name = NAMES[r.system]
  const steps = [...r.steps, r.half]
  const forwards = r.delivery !== null
  const header = [
    'load',
    'requests (unique)',
    'accepted/s',
    'accept p50 / p95 / p99 ms',
    ...(forwards ? ['notify→merchant p50 / p99 ms'] : []),
    'errors',
    `${r.system === 'node' ? 'node' : 'workerd'} CPU s / 1k`,
    ...(r.system === 'node' ? [] : ['dev proxy CPU s / 1k']),
    'load generator (cores)',
    'peak RSS MiB',
  ]
  const rows = steps.map((s) => [
    s.label,
    `${s.requests} (${s.unique})`,
    fmt(s.acceptedPerSecond, 0),
    `${fmt(s.latencyMs.p50)} / ${fmt(s.latencyMs.p95)} / ${fmt(s.latencyMs.p99)}`,
    ...(forwards ? [`${fmt(s.notifyToMerchantMs?.p50, 0)} / ${fmt(s.notifyToMerchantMs?.p99, 0)}`] : []),
    String(s.errors),
    fmt(s.cpuPer1000.runtime, 2),
    ...(r.system === 'node' ? [] : [fmt(s.cpuPer1000.devProxy, 2)]),
    fmt(s.busyDuringLoad.loadgen, 2),
    fmt(s.peakRssMiB, 0),
  ])
  const lines = [`#### ${name}`, '', table(header, rows), '']
  const extra = [`peak memory (VmHWM) ${fmt(r.peakMemory?.hwmMiB, 0)} MiB`]
  if (forwards) {
    const d = r.delivery
    extra.push(
      `forwarded ${d.forwardedOrders} of ${d.expectedOrders} accepted orders, ${d.missing} missing, ${d.duplicateEvents} duplicate events, ${d.redeliveries} redeliveries`,
    )
  }
  if (r.storage) {
    const rows = Object.entries(r.storage.d1Rows)
    const d1 = r.storage.d1Bytes ? ` (${fmt(r.storage.d1Bytes / 1024 / 1024, 1)} MiB)` : ''
    const objects = `${r.storage.orderObjects} order objects, ${fmt((r.storage.orderObjectBytes ?? 0) / 1024, 0)} KiB of SQLite each`
    extra.push(rows.length === 0 ? objects : `D1 rows left: ${rows.map(([t, n]) => `${t} ${n}`).join(', ')}${d1}; ${objects}`)
  }
  lines.push(extra.join(' · '))
  return lines
}

/** The step with the highest throughput, sustained or not. */
function bestStep(r) {
  return r.steps.reduce((a, b) => (b.acceptedPerSecond > a.acceptedPerSecond ? b : a))
}

/** The sustained step: where throughput and CPU per notification are compared (runs saved before it: the best step). */
function sustainedStep(r) {
  return r.steps.find((s) => s.sustained) ?? bestStep(r)
}

function comparison(e2e) {
  const rows = Object.values(e2e).map((r) => {
    const sustained = sustainedStep(r)
    const best = bestStep(r)
    return [
      NAMES[r.system],
      `${fmt(sustained.acceptedPerSecond, 0)} (${sustained.label})`,
      `${fmt(best.acceptedPerSecond, 0)} (${best.label})`,
      fmt(sustained.cpuPer1000.runtime, 2),
      fmt((sustained.cpuPer1000.runtime / 1000) * 1e6, 0),
      fmt(r.peakMemory?.hwmMiB, 0),
    ]
  })
  const out = [
    '### Side by side',
    '',
    'Throughput and CPU per notification from the sustained step; the best of all steps beside it.',
    '',
    table(
      [
        'system',
        'sustained accepted/s',
        'best step accepted/s',
        'runtime CPU s / 1k notifications',
        'µs / notification',
        'peak memory MiB',
      ],
      rows,
    ),
  ]
  const p = e2e.paygate
  const ratios = []
  const pairs = [
    ...['skeleton', 'shape', 'floor', 'node'].map((other) => [p, e2e[other]]),
    // How much of the floor's pace paygate's fixed shape leaves at all.
    [e2e.shape, e2e.floor],
  ]
  for (const [one, other] of pairs) {
    if (!one || !other) continue
    ratios.push([
      `${NAMES[one.system]} / ${NAMES[other.system]}`,
      `${fmt(pace(one, other).ratio, 2)}×`,
      `${fmt(bestStep(one).acceptedPerSecond / bestStep(other).acceptedPerSecond, 2)}×`,
      `${fmt(sustainedStep(one).cpuPer1000.runtime / sustainedStep(other).cpuPer1000.runtime, 2)}×`,
    ])
  }
  if (ratios.length > 0) out.push('', table(['ratio', 'throughput, sustained', 'throughput, best steps', 'CPU per notification'], ratios))
  return out
}

/** One system's sustained pace over another's: the ratio, both paces, and at which step they were compared. */
function pace(one, other) {
  const [a, b] = [sustainedStep(one), sustainedStep(other)]
  return {
    one: a.acceptedPerSecond,
    other: b.acceptedPerSecond,
    ratio: a.acceptedPerSecond / b.acceptedPerSecond,
    versus: `${fmt(a.acceptedPerSecond, 0)} vs ${fmt(b.acceptedPerSecond, 0)}`,
    cpu: `${fmt(a.cpuPer1000.runtime, 2)} / ${fmt(b.cpuPer1000.runtime, 2)}`,
    busy: `${fmt(a.busyDuringLoad.runtime, 2)} / ${fmt(b.busyDuringLoad.runtime, 2)}`,
    where: a.sustained && b.sustained ? 'sustained' : 'at the best step',
  }
}

/**
 * A ratio as `0.57×`, with as many more digits as it takes for the figure to fall on the same side of `share` as the
 * ratio itself: 0.498 against 0.5 reads `0.498×`, never a `0.50×` judged not met.
 */
function ratioText(ratio, share) {
  let digits = 2
  while (digits < 6 && Number(ratio.toFixed(digits)) >= share !== ratio >= share) digits++
  return `${fmt(ratio, digits)}×`
}

/** A throughput target on one pair of runs. */
function paceTarget(name, share, one, other) {
  const { ratio, versus, where } = pace(one, other)
  return { name, figures: `${versus} /s ${where} (${ratioText(ratio, share)})`, met: ratio >= share }
}

/** Each round's paygate / floor pace, and the median of their ratios: what the table shows and the target judges. */
function roundPaces(rounds) {
  const paces = rounds.map((round) => pace(round.paygate, round.floor))
  return { paces, median: median(paces.map((p) => p.ratio)) }
}

function roundsSection(rounds) {
  const { paces, median: middle } = roundPaces(rounds)
  const rows = rounds.map((round, i) => [
    String(round.round),
    fmt(paces[i].one, 0),
    fmt(paces[i].other, 0),
    ratioText(paces[i].ratio, FLOOR_SHARE),
    paces[i].cpu,
    paces[i].busy,
    String(errorsOf(round.paygate).errors),
    deliverySummary(round.paygate.delivery),
  ])
  return [
    `### paygate against the floor Worker, ${rounds.length} rounds`,
    '',
    'Each round runs both from fresh state through the whole plan, alternating which goes first; the first round is the one above.',
    "Runtime busy is the runtime process's CPU seconds per second of the step's load (1.00: one core all the time); a",
    'pace is about that share over the CPU per notification.',
    '',
    table(
      [
        'round',
        'paygate sustained /s',
        'floor sustained /s',
        'paygate / floor',
        'runtime CPU s / 1k, paygate / floor',
        'runtime busy, paygate / floor',
        'paygate errors',
        'paygate forwards',
      ],
      rows,
    ),
    '',
    `Median paygate / floor: **${ratioText(middle, FLOOR_SHARE)}**`,
  ]
}

function errorsOf(r) {
  const steps = [...r.steps, r.half]
  return { errors: steps.reduce((n, s) => n + s.errors, 0), requests: steps.reduce((n, s) => n + s.requests, 0) }
}

function deliverySummary(d) {
  return `${d.duplicateEvents} duplicate events, ${d.redeliveries} redeliveries, ${d.missing} of ${d.expectedOrders} orders not forwarded`
}

/** The floor target: on the median of the rounds' ratios when there are several, else on the one pair. */
function floorTarget(paygate, floor, rounds) {
  const name = 'throughput ≥ 0.5× floor'
  if (!rounds || rounds.length < 2) return paceTarget(name, FLOOR_SHARE, paygate, floor)
  const { paces, median: ratio } = roundPaces(rounds)
  const ratios = paces.map((p) => ratioText(p.ratio, FLOOR_SHARE)).join(', ')
  return {
    name,
    figures: `median of ${rounds.length} rounds ${ratioText(ratio, FLOOR_SHARE)} (${ratios}; ${paces.map((p) => p.versus).join(', ')} /s ${paces[0].where})`,
    met: ratio >= FLOOR_SHARE,
  }
}

function judge(results) {
  const targets = []
  if (results.micro) {
    for (const c of results.micro.cases) {
      targets.push({
        name: `verification CPU ≤ 2× floor: ${c.id}`,
        figures: `${fmt(c.microseconds.pipeline)} µs vs ${fmt(c.microseconds.floor)} µs (${fmt(c.ratio, 2)}×)`,
        met: c.ratio <= 2,
      })
    }
  }
  const { paygate, skeleton, floor, node } = results.e2e
  if (paygate && skeleton) targets.push(paceTarget('throughput ≥ 0.8× skeleton', 0.8, paygate, skeleton))
  if (paygate && floor) targets.push(floorTarget(paygate, floor, results.rounds))
  if (paygate) {
    // Every paygate run of the report counts: the first round's and any later round's.
    const runs = results.rounds ? results.rounds.map((r) => r.paygate) : [paygate]
    const errors = runs.map(errorsOf).reduce((sum, e) => ({ errors: sum.errors + e.errors, requests: sum.requests + e.requests }))
    const runsNote = runs.length > 1 ? ` in ${runs.length} runs` : ''
    targets.push({ name: 'zero errors', figures: `${errors.errors} of ${errors.requests} requests${runsNote}`, met: errors.errors === 0 })
    const total = (key) => runs.reduce((n, r) => n + r.delivery[key], 0)
    const d = Object.fromEntries(['duplicateEvents', 'redeliveries', 'missing', 'expectedOrders'].map((key) => [key, total(key)]))
    targets.push({
      name: 'zero duplicate forwards',
      figures: `${deliverySummary(d)}${runsNote}`,
      met: d.duplicateEvents === 0 && d.redeliveries === 0 && d.missing === 0,
    })
    const p99 = paygate.half.latencyMs.p99
    targets.push({
      name: 'p99 accept latency < 50 ms at half max throughput',
      figures: `p99 ${fmt(p99)} ms at ${paygate.half.rate}/s`,
      met: p99 !== null && p99 < 50 && paygate.half.errors === 0,
    })
  }
  if (paygate) targets.push(...meterTargets(paygate.meters))
  if (paygate && node) {
    const a = sustainedStep(paygate).cpuPer1000.runtime
    const b = sustainedStep(node).cpuPer1000.runtime
    targets.push({
      name: 'CPU per notification ≤ Node baseline',
      figures: `${fmt((a / 1000) * 1e6, 0)} µs vs ${fmt((b / 1000) * 1e6, 0)} µs (${fmt(a / b, 2)}×)`,
      met: a <= b,
    })
  }
  return targets
}
