/**
 * @module WeChat Pay callbacks as an operator may see them once rejected: v2 XML with its `sign` cut
 * short (`req_info` stays: it is ciphertext), v3 JSON as received with the `Wechatpay-*` headers and
 * the signature cut short (the resource stays encrypted).
 */
import { bodyText, cutSignature, pickHeaders, withoutSignature } from '../core/redaction'
import type { RawNotification, RedactedNotification } from '../core/types'
import { readFlatXml } from './xml'

const V3_HEADERS = ['Content-Type', 'Wechatpay-Timestamp', 'Wechatpay-Nonce', 'Wechatpay-Serial', 'Wechatpay-Signature-Type', 'Request-ID']

/**
 * From each `<sign` (any attributes: `<sign >`, `<sign a="</sign>">`) to the last `</sign>` after it, or to the end
 * when none follows. Greedy on purpose: the parser reads the value through comments, CDATA pieces and character
 * references, any of which may hold `</sign>`, so only the outermost span surely holds all of it. At most two
 * matches, each one scan of what follows it: linear in the body, whatever it holds.
 */
const SIGN_ELEMENT = /<sign(?=[\s>])([\s\S]*(?=<\/sign\s*>)|[\s\S]*$)/g
const CDATA_OPEN = '<![CDATA['

export function redactV2(raw: RawNotification): RedactedNotification {
  const text = bodyText(raw.body)
  const sign = signAsParsed(text)
  const headers = pickHeaders(raw.headers, ['Content-Type'])
  // No sign to hide (a refund notify, a FAIL message, `<sign/>`): any `<sign` left is in a comment or another value.
  if (sign === '') return { headers, body: text }
  const cut = text.replace(SIGN_ELEMENT, (_match, element: string) => {
    // What the parser read when it reads the body; else the element's text, as it most likely is.
    const content = element.slice(element.indexOf('>') + 1)
    const value = sign ?? (content.startsWith(CDATA_OPEN) ? content.slice(CDATA_OPEN.length) : content)
    const shown = value === '' ? '' : cutSignature(value)
    return `<sign>${content.includes(CDATA_OPEN) ? `${CDATA_OPEN}${shown}]]>` : shown}`
  })
  return { headers, body: sign === null ? cut : withoutSignature(cut, sign) }
}

/** The `sign` the v2 parser reads from this text (`''` for none); null when it refuses the body. */
function signAsParsed(text: string): string | null {
  try {
    return readFlatXml(text, 'xml').sign ?? ''
  } catch {
    return null
  }
}

export function redactV3(raw: RawNotification): RedactedNotification {
  const signature = raw.headers.get('Wechatpay-Signature')
  // The signature is read from its header alone; a copy anywhere else that is kept is cut short too.
  const hide = (text: string): string => (signature === null ? text : withoutSignature(text, signature))
  const headers = Object.fromEntries(Object.entries(pickHeaders(raw.headers, V3_HEADERS)).map(([name, value]) => [name, hide(value)]))
  if (signature !== null) headers['wechatpay-signature'] = cutSignature(signature)
  return { headers, body: hide(bodyText(raw.body)) }
}
