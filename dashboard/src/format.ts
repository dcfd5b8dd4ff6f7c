/**
 * @module What the console shows, as text: amounts from integer minor units in their currency (exact, by digits: no
 * floating point), rates, durations and instants. Pure functions, tested in test/dashboard/format.test.ts.
 */
import { groupedAmount } from '../../src/providers/core/money'

/**
 * Integer minor units → the amount in its currency, by the currency's ISO 4217 minor unit: `¥12.34` for CNY (and when
 * no currency is known; `¥1,234.50`, `-¥0.05`), `1,000 JPY`, `10.50 USD`, `1.234 KWD`. A value that is not a safe integer is shown as it is.
 */
export function money(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined) return '—'
  const code = currency ?? 'CNY'
  if (!Number.isSafeInteger(minor)) return `${minor} ${code === 'CNY' ? 'fen' : `(minor units of ${code})`}`
  if (code !== 'CNY') return `${groupedAmount(minor, code)} ${code}`
  return `${minor < 0 ? '-' : ''}¥${groupedAmount(Math.abs(minor), code)}`
}

/** 0.3333 → `33 %`; null (nothing attempted) → `—`. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)} %`
}

export function milliseconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** An instant in the viewer's own time zone (the formatter's default), e.g. `Nov 30, 2026, 18:00:00`. */
export function localTime(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(date)
}

/** An instant as a chart's time axis says it, in the viewer's zone as `localTime`: day and minute, `2 Dec, 18:00`. */
export function axisTime(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(date)
}

/**
 * The zone the console's times are shown in, said once in the header: its name and UTC offset now
 * ("Asia/Shanghai (UTC+08:00)"), since the logs, the API and the listener speak UTC.
 */
export function zoneLabel(timeZone?: string, at: Date = new Date()): string {
  const zone = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone
  if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC'
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(at)
  // "GMT+08:00", or "GMT" alone for an offset of zero.
  const offset = parts.find((part) => part.type === 'timeZoneName')?.value ?? 'GMT'
  return `${zone} (${offset === 'GMT' ? 'UTC+00:00' : offset.replace('GMT', 'UTC')})`
}

/** The same instant in UTC, for the hover title: `2026-11-30 10:00:00 UTC`. */
export function utcTime(iso: string): string {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** A `datetime-local` input's value (the viewer's zone) → an ISO instant; empty → undefined. */
export function instantFromLocalInput(value: string): string | undefined {
  if (value === '') return undefined
  const ms = new Date(value).getTime()
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

/** An instant → a `datetime-local` input's value in the viewer's zone (minutes). */
export function localInputFromMs(ms: number): string {
  const date = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}
