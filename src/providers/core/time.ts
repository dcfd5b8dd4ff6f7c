/** @module Provider timestamps (Beijing time, UTC+8, or RFC 3339) to ISO-8601 UTC instants. */

import { fractionToMs, parseDateTime, wallClockToMs } from '../../lib/date-time'

/** China Standard Time, UTC+8 all year: the providers' local time. */
export const BEIJING_OFFSET_MS = 8 * 3600 * 1000
const BEIJING_OFFSET_MINUTES = BEIJING_OFFSET_MS / 60_000
const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/
// Alipay's gmt_refund carries milliseconds: "2021-07-14 09:51:36.631".
const SPACED = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/

/**
 * "20261122175958" (WeChat v2 `time_end`) or "2026-11-22 17:59:58" (Alipay, WeChat v2 refunds),
 * both Beijing time, → "2026-11-22T09:59:58Z"; "2026-11-22 17:59:58.5" → "2026-11-22T09:59:58.500Z".
 * Null when the text is not such a time, or names none (a 30 February, hour 24).
 */
export function beijingTimeToIso(text: string): string | null {
  const m = COMPACT.exec(text) ?? SPACED.exec(text)
  if (!m) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const ms = wallClockToMs({ year, month, day, hour, minute, second, millisecond: fractionToMs(m[7]) }, BEIJING_OFFSET_MINUTES)
  return ms === null ? null : isoInstant(ms)
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

/** "2026-11-22T17:59:58+08:00" (WeChat v3 `success_time`) → "2026-11-22T09:59:58Z"; null for another form or no real time. */
export function rfc3339ToIso(text: string): string | null {
  if (!RFC3339.test(text)) return null
  const ms = parseDateTime(text)
  return ms === null ? null : isoInstant(ms)
}

/** An instant as the providers' times are kept: ISO-8601 UTC, milliseconds only when there are some. */
function isoInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}
