/**
 * @module What an Alipay signature covers (protocols.md §4.3): the parameters sorted by name, `sign` (and for `v1`
 * `sign_type`) left out, values that are empty as Alipay's Java SDK means it skipped, `name=value` joined by `&`, over
 * the received bytes in the message's own charset.
 */
import { concatBytes, utf8 } from '../../crypto/encoding'
import type { Bytes } from '../../crypto/primitives'

/** `charset` values Alipay sends, and the decoder for each (WHATWG decodes the GB family as GB18030). */
export const DECODER_LABELS = { 'utf-8': 'utf-8', gbk: 'gbk', gb2312: 'gb2312', gb18030: 'gb18030' } as const
export type AlipayCharset = keyof typeof DECODER_LABELS

/**
 * Which sign content matched: `v1` (Java `rsaCheckV1`: without `sign` and `sign_type`) for trade
 * notifies, `v2` (keeps `sign_type`) for the other message kinds Alipay signs that way.
 */
export type AlipaySignContentVersion = 'v1' | 'v2'

/**
 * The bytes Alipay signs: parameters sorted by name, `sign` (and for `v1` also `sign_type`) left
 * out, empty values skipped as the Java SDK does, `name=valueBytes` joined by `&`. Values are the
 * received bytes in the notify's charset, never re-encoded text.
 */
export function alipaySignContent(
  fields: ReadonlyMap<string, Uint8Array>,
  version: AlipaySignContentVersion,
  charset: AlipayCharset = 'utf-8',
): Bytes {
  const excluded = version === 'v1' ? ['sign', 'sign_type'] : ['sign']
  const names = [...fields.keys()].filter((name) => !excluded.includes(name) && !isBlank(fields.get(name)!, charset)).sort()
  // Names from a parsed form are printable ASCII: write them byte by byte into one buffer, sized up front.
  if (!names.every((name) => ASCII_NAME.test(name))) return joinEncoded(fields, names)
  let size = Math.max(0, names.length - 1)
  for (const name of names) size += name.length + 1 + fields.get(name)!.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const [index, name] of names.entries()) {
    if (index > 0) out[offset++] = 0x26 // &
    for (let i = 0; i < name.length; i++) out[offset++] = name.charCodeAt(i)
    out[offset++] = 0x3d // =
    const value = fields.get(name)!
    out.set(value, offset)
    offset += value.length
  }
  return out
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: any ASCII byte, control characters included
const ASCII_NAME = /^[\x00-\x7f]*$/

/** The same content for names that are not ASCII (never seen from Alipay), each name UTF-8 encoded. */
function joinEncoded(fields: ReadonlyMap<string, Uint8Array>, names: string[]): Bytes {
  const parts: Uint8Array[] = []
  for (const name of names) {
    parts.push(utf8(`${parts.length === 0 ? '' : '&'}${name}=`), fields.get(name)!)
  }
  return concatBytes(...parts)
}

/**
 * "Empty" as the Java SDK's `StringUtils.isEmpty` means it, and so as Alipay signs: nothing, or nothing but characters
 * Java's `Character.isWhitespace` accepts (ASCII tab to carriage return, the four separators U+001C–U+001F, and
 * Unicode space, line and paragraph separators other than the no-break ones).
 */
export function isBlank(value: Uint8Array, charset: AlipayCharset): boolean {
  // A blank value starts with whitespace: beyond ASCII, only these bytes can start one (UTF-8 E1–E3 for U+1680,
  // U+2000–U+205F and U+3000; in the GB charsets A1 A1 and, as WHATWG decodes it, A3 A0 for U+3000, and GB18030's
  // four-byte 81–84 for the rest), so text such as a Chinese subject is told apart at its first byte, without decoding.
  const first = value[0]
  if (first !== undefined && first >= 0x80 && !MAY_START_WHITESPACE.has(first)) return false
  for (const byte of value) {
    // Past the first byte beyond ASCII the text is decoded: a GB18030 sequence's later bytes may be ASCII digits.
    if (byte >= 0x80) return decodesBlank(value, charset)
    if (byte !== 0x20 && (byte < 0x09 || byte > 0x0d) && (byte < 0x1c || byte > 0x1f)) return false
  }
  return true
}

function decodesBlank(value: Uint8Array, charset: AlipayCharset): boolean {
  try {
    return JAVA_BLANK.test(new TextDecoder(DECODER_LABELS[charset], { fatal: true, ignoreBOM: true }).decode(value))
  } catch {
    return false
  }
}

const MAY_START_WHITESPACE = new Set([0x81, 0x82, 0x83, 0x84, 0xa1, 0xa3, 0xe1, 0xe2, 0xe3])

// biome-ignore lint/suspicious/noControlCharactersInRegex: Java's whitespace includes the separators U+001C–U+001F.
const JAVA_BLANK = /^(?:(?![\u00a0\u2007\u202f])[\t\n\v\f\r\x1c-\x1f\p{Zs}\p{Zl}\p{Zp}])+$/u
