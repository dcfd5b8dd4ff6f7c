/** @module Amounts: providers' strings to integer minor units (fen), exactly, without floating point. */

const YUAN = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/
const FEN = /^(0|[1-9]\d{0,14})$/

/** "12.34" → 1234, "0.1" → 10, "20" → 2000. Returns null for anything that is not a plain decimal. */
export function yuanToFen(text: string): number | null {
  const match = YUAN.exec(text)
  if (!match) return null
  const whole = Number(match[1])
  const fraction = Number((match[2] ?? '').padEnd(2, '0'))
  return whole * 100 + fraction
}

/** "100" → 100 for integer fen fields (WeChat `total_fee`); null for anything else. */
export function parseFen(text: string): number | null {
  return FEN.test(text) ? Number(text) : null
}

/** 1234 → "12.34", the inverse of `yuanToFen` (for signing simulated notifies and queries). */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError('fen must be a non-negative integer')
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}
