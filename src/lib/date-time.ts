/**
 * @module Date-times read strictly, whatever their form: one check that a wall-clock time names a real instant (no
 * field rolls over into the next, as `Date.parse` and `Date.UTC` let `2031-02-30` become 2 March and hour 24 the next
 * day), and the ISO-8601 forms the admin API takes (`2026-11-25T12:00:00Z`, `…T20:00:00.5+08:00`, `…T12:00`).
 */

/** A wall-clock time as its text gives it: month 1–12, a millisecond 0–999. */
export interface WallClock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * The instant (ms since the epoch) a wall-clock time names at UTC `offsetMinutes` east, or null when it names no real
 * time. A leap second (`:60`) is refused: no time the gateway keeps can be one.
 */
export function wallClockToMs(time: WallClock, offsetMinutes = 0): number | null {
  const { year, month, day, hour, minute, second, millisecond } = time
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59) return null
  const utc = new Date(0)
  // setUTCFullYear, not Date.UTC, which reads the years 0–99 as 1900–1999.
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, millisecond)
  return utc.getTime() - offsetMinutes * 60_000
}

/** A fraction of a second as its digits give it, in whole milliseconds (digits past the third dropped). */
export function fractionToMs(digits: string | undefined): number {
  return Number((digits ?? '').padEnd(3, '0').slice(0, 3))
}

// Seconds and the offset may be left out (no offset: UTC, as the gateway always read it); `+0800` is `+08:00`.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))?$/

/** The instant an ISO-8601 date-time names (ms since the epoch), or null when the text is not one or names no real time. */
export function parseDateTime(text: string): number | null {
  const match = DATE_TIME.exec(text)
  if (match === null) return null
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((field) => Number(field ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const [offsetHours, offsetMinutes] = [Number(match[9] ?? 0), Number(match[10] ?? 0)]
  if (offsetHours > 23 || offsetMinutes > 59) return null
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  return wallClockToMs({ year, month, day, hour, minute, second, millisecond: fractionToMs(match[7]) }, offset)
}
