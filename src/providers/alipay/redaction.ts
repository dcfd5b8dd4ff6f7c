/**
 * @module Alipay callbacks as an operator may see them once rejected: the form body as received
 * (percent-encoded, so ASCII whatever its charset) with the `sign` parameter cut short.
 */
import { utf8 } from '../../crypto/encoding'
import { percentDecode } from '../core/form'
import { bodyText, cutSignature, pickHeaders, withoutSignature } from '../core/redaction'
import type { RawNotification, RedactedNotification } from '../core/types'

export function redactAlipay(raw: RawNotification): RedactedNotification {
  const pairs = bodyText(raw.body).split('&')
  const signs = pairs.flatMap((pair) => {
    const [name, value] = split(pair)
    const decoded = value !== '' && isSignName(name) ? decodedOrNull(value) : null
    return decoded === null ? [] : [decoded]
  })
  const body = pairs
    .map((pair) => {
      const [name, value] = split(pair)
      if (value === '') return pair
      if (isSignName(name)) return `${name}=${cutSignature(value)}`
      // A whole copy of the sign in another field, however that field encodes it, is cut short too.
      const decoded = decodedOrNull(value)
      if (decoded === null || !signs.some((sign) => decoded.includes(sign))) return pair
      return `${name}=${encodeURIComponent(signs.reduce(withoutSignature, decoded))}`
    })
    .join('&')
  return { headers: pickHeaders(raw.headers, ['Content-Type']), body }
}

/** A pair's raw name and raw value (`''` when it has none). */
function split(pair: string): [string, string] {
  const at = pair.indexOf('=')
  return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
}

/** The text the parser reads from a raw name or value; null for a malformed escape (the parser refuses the body). */
function decodedOrNull(raw: string): string | null {
  try {
    return bodyText(percentDecode(utf8(raw)))
  } catch {
    return null
  }
}

/** Whether the parser reads this raw name as `sign`: it percent-decodes names, so `si%67n` is one. */
function isSignName(rawName: string): boolean {
  return decodedOrNull(rawName) === 'sign'
}
