/**
 * @module Which order numbers (`out_trade_no`) the gateway takes: the one rule the notify path and the
 * admin API share, so every order a notification can create is one the admin API can name.
 */

export const MAX_ORDER_NUMBER_LENGTH = 64

// C0 and C1 controls and DEL: no provider lets a merchant put them in an order number.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Why `value` cannot be an order number, or null when it can. Any printable text of 1–64 characters
 * is one (providers allow fewer, merchants' systems sometimes more): never lose a signed notification
 * over an unusual character. `.` and `..` are refused because no URL can carry them as a path segment
 * (WHATWG URL parsing removes dot segments, even percent-encoded ones).
 */
export function orderNumberProblem(value: string): string | null {
  if (value === '') return 'must not be empty'
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text'
  if ([...value].length > MAX_ORDER_NUMBER_LENGTH) return `must be at most ${MAX_ORDER_NUMBER_LENGTH} characters`
  if (CONTROL.test(value)) return 'must not contain control characters'
  if (value === '.' || value === '..') return 'must not be "." or ".." (no URL path can name them)'
  return null
}
