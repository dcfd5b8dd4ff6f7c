/**
 * @module WeChat Pay callbacks as an operator may see them once rejected: v2 XML with its `sign` cut
 * short (`req_info` stays: it is ciphertext), v3 JSON as received with the `Wechatpay-*` headers and
 * the signature cut short (the resource stays encrypted).
 */
import { bodyText, cutSignature, pickHeaders } from '../core/redaction'
import type { RawNotification, RedactedNotification } from '../core/types'

const V3_HEADERS = ['Content-Type', 'Wechatpay-Timestamp', 'Wechatpay-Nonce', 'Wechatpay-Serial', 'Wechatpay-Signature-Type', 'Request-ID']

export function redactV2(raw: RawNotification): RedactedNotification {
  const body = bodyText(raw.body).replace(
    /(<sign>\s*(?:<!\[CDATA\[)?)([^<\]]*)/g,
    (_match, open: string, sign: string) => `${open}${sign === '' ? '' : cutSignature(sign)}`,
  )
  return { headers: pickHeaders(raw.headers, ['Content-Type']), body }
}

export function redactV3(raw: RawNotification): RedactedNotification {
  const headers = pickHeaders(raw.headers, V3_HEADERS)
  const signature = raw.headers.get('Wechatpay-Signature')
  if (signature !== null) headers['wechatpay-signature'] = cutSignature(signature)
  return { headers, body: bodyText(raw.body) }
}
