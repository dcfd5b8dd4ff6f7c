/**
 * @module Amounts: providers' decimal strings to integer minor units of their currency (fen for CNY, yen for JPY,
 * fils for KWD), exactly, without floating point; and back (as Alipay writes them; for people: `groupedAmount`).
 */

/**
 * The ISO 4217 currencies whose minor unit is not a hundredth (ISO 4217 list one, "Minor unit"); every other
 * code, and any code ISO does not list, has two decimals.
 */
const EXPONENTS: Readonly<Record<string, MinorUnitExponent>> = {
  // No minor unit: "1000" yen is 1000.
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // Thousandths (fils, baisa, millimes…).
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // Ten-thousandths: the Chilean and Uruguayan units of account.
  CLF: 4,
  UYW: 4,
}

/** Decimal places of a currency's minor unit. */
export type MinorUnitExponent = 0 | 2 | 3 | 4

const MAJOR = /^(0|[1-9]\d{0,11})(?:\.(\d{1,4}))?$/
const FEN = /^(0|[1-9]\d{0,14})$/

/** The number of decimals of `currency`'s minor unit per ISO 4217: 0 for JPY, 3 for KWD, 2 for CNY and by default. */
export function minorUnitExponent(currency: string): MinorUnitExponent {
  return Object.hasOwn(EXPONENTS, currency) ? EXPONENTS[currency]! : 2
}

/**
 * A major-unit decimal string in `currency` → integer minor units: "12.34" CNY → 1234, "1000" or "1000.00" JPY → 1000,
 * "1.234" KWD → 1234. Up to max(2, exponent) decimals, as Alipay writes two for every currency; decimals below the
 * minor unit must be zeros ("1000.50" JPY is no amount). Returns null for anything that is not such a plain decimal.
 */
export function majorToMinor(text: string, currency: string): number | null {
  const exponent = minorUnitExponent(currency)
  const match = MAJOR.exec(text)
  if (!match) return null
  const whole = match[1]!
  const fraction = match[2] ?? ''
  // At most 12 whole digits (11 at four decimals): every result stays below 2^53.
  if (whole.length > Math.min(12, 15 - exponent) || fraction.length > Math.max(2, exponent)) return null
  if (/[^0]/.test(fraction.slice(exponent))) return null
  const minor = exponent === 0 ? 0 : Number(fraction.slice(0, exponent).padEnd(exponent, '0'))
  return Number(whole) * 10 ** exponent + minor
}

/**
 * Integer minor units → the major-unit string in `currency` as Alipay writes it, with max(2, exponent) decimals
 * (1000 JPY → "1000.00"): the inverse of `majorToMinor`.
 */
export function minorToMajor(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError('an amount must be a non-negative integer of minor units')
  const exponent = minorUnitExponent(currency)
  const scale = 10 ** exponent
  const part = minor % scale
  const fraction = exponent === 0 ? '' : String(part).padStart(exponent, '0')
  return `${(minor - part) / scale}.${fraction.padEnd(Math.max(2, exponent), '0')}`
}

/**
 * Integer minor units → the amount as people read it in `currency`, thousands grouped and exactly as many decimals as
 * its minor unit has: 123450 USD → "1,234.50", 1000 JPY → "1,000", -5 EUR → "-0.05" (the console, `npm run listen`).
 */
export function groupedAmount(minor: number, currency: string): string {
  const exponent = minorUnitExponent(currency)
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0')
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+$)/g, ',')
  return `${minor < 0 ? '-' : ''}${exponent === 0 ? whole : `${whole}.${digits.slice(-exponent)}`}`
}

/** "100" → 100 for integer fen fields (WeChat `total_fee`); null for anything else. */
export function parseFen(text: string): number | null {
  return FEN.test(text) ? Number(text) : null
}
