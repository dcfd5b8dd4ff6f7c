// Yuan and fen for the demo tools: providers disagree (WeChat Pay counts fen, Alipay yuan); paygate's events use fen, or
// the minor unit of the event's currency (yen for JPY).
import { groupedAmount } from '../../src/providers/core/money.ts'

/** `1234` → `"12.34"`. */
export function fenToYuan(fen) {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** `"12.34"`, `"12.3"`, `"12"` → fen; null when it is not a positive yuan amount with at most two decimals. */
export function yuanToFen(text) {
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(String(text).trim())
  if (match === null) return null
  const fen = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'))
  return fen > 0 ? fen : null
}

/** An event's amount for people: `¥12.34 (1234 fen)` in CNY, else by the currency's minor unit (`1,000 JPY`, `10.50 USD`). */
export function amountText(minor, currency) {
  if (currency === undefined || currency === null || currency === 'CNY') return `¥${fenToYuan(minor)} (${minor} fen)`
  return `${groupedAmount(minor, currency)} ${currency}`
}
