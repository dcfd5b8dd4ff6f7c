/** The console's formatting: amounts from integer minor units by digits (exact at any size), instants in a zone and in UTC. */
import { describe, expect, it } from 'vitest'
import { axisTime, instantFromLocalInput, localTime, money, percent, utcTime, zoneLabel } from '../../dashboard/src/format'

const yuan = (fen: number | null): string => money(fen, 'CNY')

describe('yuan', () => {
  it('shows integer fen as yuan with two decimals', () => {
    expect(yuan(1234)).toBe('¥12.34')
    expect(yuan(8888)).toBe('¥88.88')
    expect(yuan(1)).toBe('¥0.01')
    expect(yuan(10)).toBe('¥0.10')
    expect(yuan(0)).toBe('¥0.00')
    expect(yuan(-5)).toBe('-¥0.05')
    expect(yuan(123456789)).toBe('¥1,234,567.89')
  })

  it('stays exact where dividing by 100 in floating point would not', () => {
    // 0.29 * 100 is 28.999999999999996 in floating point; 9007199254740991 / 100 rounds.
    expect(yuan(29)).toBe('¥0.29')
    expect(yuan(Number.MAX_SAFE_INTEGER)).toBe('¥90,071,992,547,409.91')
  })

  it('shows a missing amount as a dash and a non-integer as it is, in fen', () => {
    expect(yuan(null)).toBe('—')
    expect(yuan(12.5)).toBe('12.5 fen')
  })
})

describe('money', () => {
  it("shows an amount by its currency's minor unit: none for JPY and KRW, thousandths for KWD, yuan when none is known", () => {
    expect(money(1000, 'JPY')).toBe('1,000 JPY')
    expect(money(5, 'KRW')).toBe('5 KRW')
    expect(money(1050, 'USD')).toBe('10.50 USD')
    expect(money(7, 'USD')).toBe('0.07 USD')
    expect(money(1234, 'KWD')).toBe('1.234 KWD')
    expect(money(-5, 'EUR')).toBe('-0.05 EUR')
    expect(money(1234, null)).toBe('¥12.34')
    expect(money(undefined, 'JPY')).toBe('—')
  })
})

describe('times', () => {
  it("shows an instant in the viewer's zone, and the same instant in UTC for the hover title", () => {
    expect(localTime('2026-11-30T01:59:58.000Z', 'en-GB', 'Asia/Shanghai')).toBe('30 Nov 2026, 09:59:58')
    expect(localTime('2026-11-30T01:59:58.000Z', 'en-GB', 'UTC')).toBe('30 Nov 2026, 01:59:58')
    expect(utcTime('2026-11-30T01:59:58.000Z')).toBe('2026-11-30 01:59:58 UTC')
  })

  it("labels a chart's time axis by day and minute in the viewer's zone, as the other times", () => {
    expect(axisTime('2026-12-02T10:00:00.000Z', 'en-GB', 'Asia/Shanghai')).toBe('2 Dec, 18:00')
    expect(axisTime('2026-12-02T22:30:00.000Z', 'en-GB', 'UTC')).toBe('2 Dec, 22:30')
    expect(axisTime('not a date')).toBe('not a date')
  })

  it('names the zone times are shown in, with its UTC offset at the time (a console audit: times without a zone)', () => {
    expect(zoneLabel('Asia/Shanghai')).toBe('Asia/Shanghai (UTC+08:00)')
    expect(zoneLabel('UTC')).toBe('UTC')
    expect(zoneLabel('Europe/London', new Date('2026-07-01T00:00:00Z'))).toBe('Europe/London (UTC+01:00)')
    expect(zoneLabel('Europe/London', new Date('2026-12-01T00:00:00Z'))).toBe('Europe/London (UTC+00:00)')
  })

  it('leaves an empty date input out of a filter', () => {
    expect(instantFromLocalInput('')).toBeUndefined()
    expect(instantFromLocalInput('not a date')).toBeUndefined()
  })

  it('shows rates as whole percentages', () => {
    expect(percent(1 / 3)).toBe('33 %')
    expect(percent(null)).toBe('—')
  })
})
