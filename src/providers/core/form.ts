/**
 * @module `application/x-www-form-urlencoded` parsed at the byte level: values are percent-decoded to
 * bytes exactly once and stay bytes until their charset is known (Alipay signs GBK or UTF-8 bytes).
 * Never `request.formData()` (workerd refuses non-UTF-8 bodies) nor `decodeURIComponent` on text.
 */
import type { Bytes } from '../../crypto/primitives'
import { refuse } from './rejection'

const AMPERSAND = 0x26
const EQUALS = 0x3d
const PLUS = 0x2b
const PERCENT = 0x25
const SPACE = 0x20
// Names are checked to be ASCII first, so any decoder gives the same text.
const asciiDecoder = new TextDecoder('utf-8')

/**
 * Splits on `&` and each pair's first `=`, then percent-decodes (`+` → space, `%XX` → byte).
 * Keys are printable ASCII and unique; the map keeps body order. Empty pairs (`a=1&&b=2`) are
 * skipped and a pair without `=` has an empty value, as the WHATWG URL standard parses them.
 * Throws `NotifyRejection('malformed_body')` on a bad escape, a non-ASCII key or a repeated key.
 */
export function parseFormBytes(body: Uint8Array): Map<string, Bytes> {
  // One pass over index ranges of the body: no per-pair views, so a notify's ~30 fields cost ~30 small copies.
  const fields = new Map<string, Bytes>()
  const length = body.length
  let start = 0
  while (start <= length) {
    let end = start
    let equals = -1
    for (; end < length; end++) {
      const byte = body[end]!
      if (byte === AMPERSAND) break
      if (byte === EQUALS && equals === -1) equals = end
    }
    if (end > start) {
      const keyEnd = equals === -1 ? end : equals
      const key = asciiKey(decodeRange(body, start, keyEnd))
      if (fields.has(key)) refuse('malformed_body', `form field ${key} appears more than once`)
      fields.set(key, equals === -1 ? new Uint8Array(0) : decodeRange(body, equals + 1, end))
    }
    start = end + 1
  }
  return fields
}

/** One pass of form decoding: `+` is a space, `%XX` one byte; any other `%` is an error. */
export function percentDecode(encoded: Uint8Array): Bytes {
  return decodeRange(encoded, 0, encoded.length)
}

/** `percentDecode` of `bytes[from, to)`, copying the range as is when it holds no `+` or `%`. */
function decodeRange(bytes: Uint8Array, from: number, to: number): Bytes {
  let i = from
  while (i < to && bytes[i] !== PLUS && bytes[i] !== PERCENT) i++
  if (i === to) return bytes.slice(from, to) as Bytes
  const out = new Uint8Array(to - from)
  out.set(bytes.subarray(from, i), 0)
  let length = i - from
  for (; i < to; i++) {
    const byte = bytes[i]!
    if (byte === PLUS) {
      out[length++] = SPACE
    } else if (byte === PERCENT) {
      const high = i + 1 < to ? hexValue(bytes[i + 1]) : -1
      const low = i + 2 < to ? hexValue(bytes[i + 2]) : -1
      if (high === -1 || low === -1) refuse('malformed_body', 'form body has a malformed percent escape')
      out[length++] = (high << 4) | low
      i += 2
    } else {
      out[length++] = byte
    }
  }
  return length === out.length ? out : out.slice(0, length)
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10
  return -1
}

function asciiKey(bytes: Uint8Array): string {
  if (bytes.length === 0) refuse('malformed_body', 'form field without a name')
  for (const byte of bytes) {
    if (byte < 0x21 || byte > 0x7e) refuse('malformed_body', 'form field name is not printable ASCII')
  }
  return asciiDecoder.decode(bytes)
}
