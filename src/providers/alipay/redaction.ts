/**
 * @module Alipay callbacks as an operator may see them once rejected: the form body as received
 * (percent-encoded, so ASCII whatever its charset) with the `sign` parameter cut short.
 */
import { utf8 } from '../../crypto/encoding'
import { percentDecode } from '../core/form'
import { bodyText, cutSignature, pickHeaders } from '../core/redaction'
import type { RawNotification, RedactedNotification } from '../core/types'

export function redactAlipay(raw: RawNotification): RedactedNotification {
  const body = bodyText(raw.body)
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=')
      if (at < 0 || at === pair.length - 1 || !isSignName(pair.slice(0, at))) return pair
      return `${pair.slice(0, at + 1)}${cutSignature(pair.slice(at + 1))}`
    })
    .join('&')
  return { headers: pickHeaders(raw.headers, ['Content-Type']), body }
}

/** Whether the parser reads this raw name as `sign`: it percent-decodes names, so `si%67n` is one. */
function isSignName(rawName: string): boolean {
  try {
    return bodyText(percentDecode(utf8(rawName))) === 'sign'
  } catch {
    // A malformed escape: the parser refuses the whole body, so it reads no sign at all.
    return false
  }
}
