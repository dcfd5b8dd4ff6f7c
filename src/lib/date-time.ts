/**
 * @module ISO-8601 date-times as the admin API takes them (`2026-11-25T12:00:00Z`, `…T20:00:00.5+08:00`, `…T12:00`),
 * read strictly: no field rolls over into the next.
 */

// Seconds and the offset may be left out (no offset: UTC, as the gateway always read it); `+0800` is `+08:00`.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))?$/

const MINUTE_MS = 60_000

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * The instant a date-time names (ms since the epoch; fractions past the millisecond dropped), or null when
 * the text is not one or names no real time: `Date.parse` takes `2031-02-30` for 2 March and hour 24 for the next day.
 * A leap second (`:60`) is refused: no time the gateway keeps can be one.
 */
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
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null
  const wallClock = new Date(0)
  // setUTCFullYear, not Date.UTC, which reads the years 0–99 as 1900–1999.
  wallClock.setUTCFullYear(year, month - 1, day)
  wallClock.setUTCHours(hour, minute, second, Number((match[7] ?? '').padEnd(3, '0').slice(0, 3)))
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  return wallClock.getTime() - offset * MINUTE_MS
}
