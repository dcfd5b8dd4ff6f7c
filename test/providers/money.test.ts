import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fenToYuan, yuanToFen } from '../../src/providers/core/money'

/** The same conversion by string arithmetic on BigInt: an oracle that shares no code with yuanToFen. */
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
