/** @module Provider timestamps (Beijing time, UTC+8, or RFC 3339) to ISO-8601 UTC instants. */

/** China Standard Time, UTC+8 all year: the providers' local time. */
export const BEIJING_OFFSET_MS = 8 * 3600 * 1000
const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/
// Alipay's gmt_refund carries milliseconds: "2021-07-14 09:51:36.631".
const SPACED = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/

/**
 * "20261122175958" (WeChat v2 `time_end`) or "2026-11-22 17:59:58" (Alipay, WeChat v2 refunds),
 * both Beijing time, → "2026-11-22T09:59:58Z"; "2026-11-22 17:59:58.5" → "2026-11-22T09:59:58.500Z".
 * Null when the text is not such a time.
 */
export function beijingTimeToIso(text: string): string | null {
  const m = COMPACT.exec(text) ?? SPACED.exec(text)
  if (!m) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const millisecond = Number((m[7] ?? '').padEnd(3, '0'))
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millisecond) - BEIJING_OFFSET_MS
  const date = new Date(utc)
  // Reject impossible calendar values (Date.UTC would roll 2026-02-30 over to March).
  const back = new Date(utc + BEIJING_OFFSET_MS)
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return null
  }
  return date.toISOString().replace('.000Z', 'Z')
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

/** "2026-11-22T17:59:58+08:00" (WeChat v3 `success_time`) → "2026-11-22T09:59:58Z". */
export function rfc3339ToIso(text: string): string | null {
  if (!RFC3339.test(text)) return null
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) return null
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}
