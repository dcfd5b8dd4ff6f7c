import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { groupedAmount, majorToMinor, minorToMajor, minorUnitExponent } from '../../src/providers/core/money'

const yuanToFen = (text: string): number | null => majorToMinor(text, 'CNY')
const fenToYuan = (fen: number): string => minorToMajor(fen, 'CNY')

/** The same conversion by string arithmetic on BigInt: an oracle that shares no code with majorToMinor. */
function oracleYuanToFen(text: string): number | null {
  const match = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/.exec(text)
  if (!match || match[1]!.length > 12) return null
  const fen = BigInt(match[1]!) * 100n + BigInt((match[2] ?? '').padEnd(2, '0') || '0')
  return Number(fen)
}

const digits = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength })

/** Strings shaped like amounts, plus the near misses an attacker or a sloppy encoder produces. */
const amountLike = fc.oneof(
  fc
    .tuple(digits(1, 14), fc.option(digits(0, 3), { nil: undefined }))
    .map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`)),
  fc
    .tuple(fc.constantFrom('', '-', '+', ' ', '0', '.'), digits(1, 4), fc.constantFrom('', '.', '.5', 'e2', ' ', '.00 '))
    .map(([prefix, body, suffix]) => `${prefix}${body}${suffix}`),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+eE ,_x'), maxLength: 8 }),
)

describe('money: yuan strings to integer fen', () => {
  it('round-trips every non-negative fen amount below 10^13 through fenToYuan', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 13 - 1 }), (fen) => {
        expect(yuanToFen(fenToYuan(fen))).toBe(fen)
      }),
    )
  })

  it('round-trips the edges of that range', () => {
    for (const fen of [0, 1, 9, 10, 99, 100, 101, 10 ** 13 - 1]) expect(yuanToFen(fenToYuan(fen))).toBe(fen)
  })

  it('agrees with a BigInt string-arithmetic oracle on amount-shaped and malformed strings', () => {
    fc.assert(
      fc.property(amountLike, (text) => {
        expect(yuanToFen(text)).toBe(oracleYuanToFen(text))
      }),
      { numRuns: 2000 },
    )
  })

  it('converts the documented examples exactly', () => {
    expect(yuanToFen('0.01')).toBe(1)
    expect(yuanToFen('0.10')).toBe(10)
    expect(yuanToFen('0.1')).toBe(10)
    expect(yuanToFen('12.34')).toBe(1234)
    expect(yuanToFen('20')).toBe(2000)
    expect(yuanToFen('0')).toBe(0)
    // 0.29 * 100 is 28.999999999999996 in floating point; the conversion must not go through it.
    expect(yuanToFen('0.29')).toBe(29)
    expect(yuanToFen('1.15')).toBe(115)
  })

  const notAmounts = ['1e2', '1E2', '-1.00', '+1.00', ' 1.00', '1.00 ', '1 .00', '.5', '1.', '1.234', '01.00', '00']
  it.each([...notAmounts, '1,00', '0x10', '', '.', 'NaN', 'Infinity', '１.００'])('refuses %j', (text) => {
    expect(yuanToFen(text)).toBeNull()
  })

  it('formats fen as yuan with exactly two decimals', () => {
    expect(fenToYuan(1)).toBe('0.01')
    expect(fenToYuan(1234)).toBe('12.34')
    expect(fenToYuan(2000)).toBe('20.00')
    expect(() => fenToYuan(-1)).toThrow(RangeError)
    expect(() => fenToYuan(1.5)).toThrow(RangeError)
  })
})

/** A currency per ISO 4217 exponent (CLF: the Chilean unit of account, four decimals). */
const BY_EXPONENT = [
  ['JPY', 0],
  ['CNY', 2],
  ['KWD', 3],
  ['CLF', 4],
] as const

/**
 * The conversion by BigInt on the digit string, shared with nothing in money.ts: the amount scaled to max(2, exponent)
 * decimals, then divided down to the minor unit only when nothing below it is lost.
 */
function oracleMajorToMinor(text: string, exponent: number): number | null {
  const match = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text)
  if (!match) return null
  const whole = match[1]!
  const fraction = match[2] ?? ''
  const places = Math.max(2, exponent)
  if (whole.length > (exponent === 4 ? 11 : 12) || fraction.length > places) return null
  const scaled = BigInt(whole + fraction.padEnd(places, '0'))
  const below = 10n ** BigInt(places - exponent)
  return scaled % below === 0n ? Number(scaled / below) : null
}

describe('money: major-unit strings in a currency to its minor units (ISO 4217 exponent)', () => {
  it('knows the exponents that are not 2, and defaults to 2', () => {
    for (const code of [
      'BIF',
      'CLP',
      'DJF',
      'GNF',
      'ISK',
      'JPY',
      'KMF',
      'KRW',
      'PYG',
      'RWF',
      'UGX',
      'UYI',
      'VND',
      'VUV',
      'XAF',
      'XOF',
      'XPF',
    ]) {
      expect(minorUnitExponent(code), code).toBe(0)
    }
    for (const code of ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']) expect(minorUnitExponent(code), code).toBe(3)
    for (const code of ['CLF', 'UYW']) expect(minorUnitExponent(code), code).toBe(4)
    for (const code of ['CNY', 'USD', 'HKD', 'EUR', 'IDR', 'QQQ', 'toString', '__proto__']) expect(minorUnitExponent(code), code).toBe(2)
  })

  it('reads yen as whole yen: "1000" and a zero fraction as Alipay writes it, never a non-zero fraction', () => {
    expect(majorToMinor('1000', 'JPY')).toBe(1000)
    expect(majorToMinor('1000.00', 'JPY')).toBe(1000)
    expect(majorToMinor('1000.0', 'JPY')).toBe(1000)
    expect(majorToMinor('0.00', 'KRW')).toBe(0)
    for (const text of ['1000.50', '1000.01', '1000.5', '1000.000', '1000.', '-1000', '1e3'])
      expect(majorToMinor(text, 'JPY'), text).toBeNull()
  })

  it('reads three-decimal currencies in thousandths, and four-decimal ones in ten-thousandths', () => {
    expect(majorToMinor('1.234', 'KWD')).toBe(1234)
    expect(majorToMinor('1.23', 'KWD')).toBe(1230)
    expect(majorToMinor('1.2', 'BHD')).toBe(1200)
    expect(majorToMinor('7', 'OMR')).toBe(7000)
    expect(majorToMinor('0.001', 'TND')).toBe(1)
    expect(majorToMinor('1.2345', 'KWD')).toBeNull()
    expect(majorToMinor('1.2345', 'CLF')).toBe(12345)
    expect(majorToMinor('1.23456', 'CLF')).toBeNull()
  })

  it('reads CNY (and every two-decimal currency) exactly as yuanToFen does', () => {
    fc.assert(
      fc.property(amountLike, fc.constantFrom('CNY', 'USD', 'HKD'), (text, currency) => {
        expect(majorToMinor(text, currency)).toBe(yuanToFen(text))
      }),
      { numRuns: 1000 },
    )
  })

  it.each(BY_EXPONENT)('%s: agrees with a BigInt oracle on amount-shaped and malformed strings', (currency, exponent) => {
    fc.assert(
      fc.property(amountLike, (text) => {
        expect(majorToMinor(text, currency)).toBe(oracleMajorToMinor(text, exponent))
      }),
      { numRuns: 1000 },
    )
  })

  it.each(BY_EXPONENT)('%s: round-trips every amount through minorToMajor', (currency, exponent) => {
    const max = exponent === 4 ? 10 ** 15 - 1 : 10 ** (12 + exponent) - 1
    fc.assert(
      fc.property(fc.integer({ min: 0, max }), (minor) => {
        const text = minorToMajor(minor, currency)
        expect(text).toMatch(exponent <= 2 ? /\.\d{2}$/ : new RegExp(`\\.\\d{${exponent}}$`))
        expect(majorToMinor(text, currency)).toBe(minor)
      }),
    )
    for (const minor of [0, 1, 9, 10, 99, 100, 101, 999, 1000, 1001, max])
      expect(majorToMinor(minorToMajor(minor, currency), currency)).toBe(minor)
  })

  it('writes minor units as the major-unit string, with at least two decimals', () => {
    expect(minorToMajor(1000, 'JPY')).toBe('1000.00')
    expect(minorToMajor(0, 'KRW')).toBe('0.00')
    expect(minorToMajor(1234, 'CNY')).toBe('12.34')
    expect(minorToMajor(5, 'USD')).toBe('0.05')
    expect(minorToMajor(1234, 'KWD')).toBe('1.234')
    expect(minorToMajor(5, 'KWD')).toBe('0.005')
    expect(minorToMajor(12345, 'CLF')).toBe('1.2345')
    expect(() => minorToMajor(-1, 'JPY')).toThrow(RangeError)
    expect(() => minorToMajor(0.5, 'JPY')).toThrow(RangeError)
  })
})

describe('money: amounts as people read them', () => {
  it('groups thousands and shows exactly the decimals of the currency minor unit', () => {
    expect(groupedAmount(123450, 'USD')).toBe('1,234.50')
    expect(groupedAmount(1000, 'JPY')).toBe('1,000')
    expect(groupedAmount(1234567, 'KRW')).toBe('1,234,567')
    expect(groupedAmount(1234, 'KWD')).toBe('1.234')
    expect(groupedAmount(7, 'CNY')).toBe('0.07')
    expect(groupedAmount(-5, 'EUR')).toBe('-0.05')
    expect(groupedAmount(0, 'JPY')).toBe('0')
  })
})
