/**
 * @module Alipay callbacks as an operator may see them once rejected: the form body as received
 * (percent-encoded, so ASCII whatever its charset) with the `sign` parameter cut short.
 */
import { bodyText, cutSignature, pickHeaders } from '../core/redaction'
import type { RawNotification, RedactedNotification } from '../core/types'

export function redactAlipay(raw: RawNotification): RedactedNotification {
  const body = bodyText(raw.body)
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=')
      if (at < 0 || pair.slice(0, at) !== 'sign' || at === pair.length - 1) return pair
      return `sign=${cutSignature(pair.slice(at + 1))}`
    })
    .join('&')
  return { headers: pickHeaders(raw.headers, ['Content-Type']), body }
}
