/** @module A small bar chart of a merchant's hourly counts, drawn as SVG (no library), with the numbers in its label. */
import type { Schemas } from './api'
import { h, svg } from './dom'
import { localTime, utcTime } from './format'

type Bucket = NonNullable<Schemas['Stats']['series']>[number]

const SERIES = [
  { name: 'notifications accepted', tone: 'accepted', value: (b: Bucket) => b.notifications.accepted },
  { name: 'deliveries delivered', tone: 'ok', value: (b: Bucket) => b.deliveries.delivered },
  { name: 'deliveries failed', tone: 'bad', value: (b: Bucket) => b.deliveries.failed },
] as const

const BAR = 4
const GAP = 3
const HEIGHT = 80

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
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `Per hour, last 24 hours: ${totals}` },
      svg('line', { x1: 0, x2: width, y1: HEIGHT, y2: HEIGHT, class: 'axis' }),
      ...bars,
    ),
    h(
      'figcaption',
      {},
      `Per hour over the last 24 hours (highest: ${top}). `,
      ...SERIES.map((s) => h('span', { class: `key ${s.tone}` }, s.name)),
    ),
  )
}
