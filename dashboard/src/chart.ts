/**
 * @module A small bar chart of a merchant's hourly counts, drawn as SVG (no library), with the numbers in its label
 * and its time axis labelled below it.
 */
import type { Schemas } from './api'
import { h, svg } from './dom'
import { axisTime, localTime, utcTime } from './format'

type Bucket = NonNullable<Schemas['Stats']['series']>[number]

const SERIES = [
  { name: 'notifications accepted', tone: 'accepted', value: (b: Bucket) => b.notifications.accepted },
  { name: 'deliveries delivered', tone: 'ok', value: (b: Bucket) => b.deliveries.delivered },
  { name: 'deliveries failed', tone: 'bad', value: (b: Bucket) => b.deliveries.failed },
] as const

const BAR = 4
const GAP = 3
const HEIGHT = 80
/** The merchant's page asks for hourly buckets: each bar group is an hour wide. */
const BUCKET_MS = 3_600_000

/**
 * The axis's start, middle and end, in the viewer's zone as the header says (UTC on hover), as text under the chart:
 * SVG text would be stretched with it. Always a line high, labels or not, so that drawing the counts again (after a
 * send) moves nothing below; the middle label sits at the middle whatever the others' widths (style.css).
 */
function timeAxis(series: readonly Bucket[]): { element: HTMLElement; span: string } {
  const first = series[0]
  const last = series.at(-1)
  if (first === undefined || last === undefined) {
    return { element: h('ol', { class: 'chart-times', 'aria-label': 'Time axis' }), span: ', last 24 hours' }
  }
  const start = Date.parse(first.start)
  const end = Date.parse(last.start) + BUCKET_MS
  const iso = (ms: number) => new Date(ms).toISOString()
  const ticks = [iso(start), iso((start + end) / 2), iso(end)] as const
  const element = h(
    'ol',
    { class: 'chart-times', 'aria-label': 'Time axis' },
    ...ticks.map((iso) => h('li', {}, h('time', { datetime: iso, title: utcTime(iso) }, axisTime(iso)))),
  )
  return { element, span: ` from ${axisTime(ticks[0])} to ${axisTime(ticks[2])}` }
}

export function statsChart(series: readonly Bucket[]): HTMLElement {
  const top = Math.max(1, ...series.flatMap((b) => SERIES.map((s) => s.value(b))))
  const groupWidth = SERIES.length * BAR + GAP
  const bars = series.flatMap((bucket, i) =>
    SERIES.map((s, j) => {
      const value = s.value(bucket)
      const height = value === 0 ? 0 : Math.max(2, Math.round((value / top) * HEIGHT))
      return svg(
        'rect',
        { class: s.tone, x: i * groupWidth + j * BAR, y: HEIGHT - height, width: BAR, height },
        svg('title', {}, `${localTime(bucket.start)} (${utcTime(bucket.start)}): ${value} ${s.name}`),
      )
    }),
  )
  const totals = SERIES.map((s) => `${series.reduce((sum, b) => sum + s.value(b), 0)} ${s.name}`).join(', ')
  const width = Math.max(groupWidth, series.length * groupWidth)
  const axis = timeAxis(series)
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `Per hour${axis.span}: ${totals}` },
      svg('line', { x1: 0, x2: width, y1: HEIGHT, y2: HEIGHT, class: 'axis' }),
      ...bars,
    ),
    axis.element,
    h(
      'figcaption',
      {},
      `Per hour over the last 24 hours (highest: ${top}). `,
      ...SERIES.map((s) => h('span', { class: `key ${s.tone}` }, s.name)),
    ),
  )
}
