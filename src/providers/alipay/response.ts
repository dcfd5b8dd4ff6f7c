/**
 * @module Alipay OpenAPI answers, `{"<method>_response":{…},"sign":"…"}`: the signature covers the
 * response object's text exactly as sent, so it is cut out of the body by scanning the JSON (braces
 * matched outside strings, escapes respected, as the Java SDK's `extractSignContent` does), never
 * re-serialised (protocols.md §5.3).
 */
import { utf8 } from '../../crypto/encoding'
import { rsaVerify, type Bytes } from '../../crypto/primitives'
import type { AlipaySignType } from './config'
import { HASH_BY_SIGN_TYPE } from './notify'

/** Alipay answers requests it could not route to the method (bad app_id, unknown method) under this key. */
export const ALIPAY_ERROR_RESPONSE_KEY = 'error_response'

export interface AlipaySignedResponse {
  /** Which member held the response: `<method>_response`, or `error_response`. */
  key: string
  /** The response object's exact text: what `sign` covers. */
  content: string
  /** The response object, parsed from `content` itself. */
  fields: Record<string, unknown>
  /** The top-level `sign`; null when the answer is unsigned. */
  sign: string | null
  /** Certificate mode: the top-level `alipay_cert_sn`, the certificate whose key signed; null when absent. */
  alipayCertSn: string | null
}

/** Why an answer is not an Alipay response document. Short; never quotes the body. */
export class MalformedAlipayResponse extends Error {
  override readonly name = 'MalformedAlipayResponse'
}

interface Member {
  key: string
  start: number
  end: number
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

/** Index just past the string literal that opens at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let i = start + 1
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
  return i + 1
}

/** Index just past the JSON value that starts at `start`. Objects and arrays end at their matching bracket. */
function valueEnd(text: string, start: number): number {
  const first = text[start]
  if (first === '"') return stringEnd(text, start)
  if (first === '{' || first === '[') {
    let depth = 0
    let i = start
    while (i < text.length) {
      const char = text[i]!
      if (char === '"') {
        i = stringEnd(text, i)
        continue
      }
      if (char === '{' || char === '[') depth++
      else if (char === '}' || char === ']') depth--
      i++
      if (depth === 0) return i
    }
    return text.length
  }
  // A number, true, false or null runs to the next delimiter.
  let i = start
  while (i < text.length && !WHITESPACE.has(text[i]!) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++
  return i
}

function skipWhitespace(text: string, index: number): number {
  let i = index
  while (WHITESPACE.has(text[i] ?? '')) i++
  return i
}

/**
 * The top-level members of `text`, with where each value's text starts and ends. `text` must already
 * be known to be a JSON object (`JSON.parse` succeeded), which keeps this scanner this small.
 */
function topLevelMembers(text: string): Member[] {
  const members: Member[] = []
  let i = skipWhitespace(text, 0) + 1
  for (;;) {
    i = skipWhitespace(text, i)
    if (text[i] === '}') return members
    const keyEnd = stringEnd(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipWhitespace(text, keyEnd) + 1
    const start = skipWhitespace(text, i)
    const end = valueEnd(text, start)
    members.push({ key, start, end })
    i = skipWhitespace(text, end)
    if (text[i] === ',') i++
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads an OpenAPI answer: the member named `responseKey` (else `error_response`) as exact text and
 * parsed, and the top-level `sign`. Throws `MalformedAlipayResponse` when the body is not such a
 * document, or names a member twice (which copy was signed would be ambiguous).
 */
export function readAlipayResponse(body: string, responseKey: string): AlipaySignedResponse {
  let document: unknown
  try {
    document = JSON.parse(body)
  } catch {
    throw new MalformedAlipayResponse('answer is not JSON')
  }
  if (!isObject(document)) throw new MalformedAlipayResponse('answer is not a JSON object')
  const members = topLevelMembers(body)
  if (new Set(members.map((member) => member.key)).size !== members.length) {
    throw new MalformedAlipayResponse('answer names a member twice')
  }
  const member =
    members.find((candidate) => candidate.key === responseKey) ?? members.find((candidate) => candidate.key === ALIPAY_ERROR_RESPONSE_KEY)
  if (member === undefined) throw new MalformedAlipayResponse(`answer has no ${responseKey}`)
  const content = body.slice(member.start, member.end)
  const fields: unknown = JSON.parse(content)
  if (!isObject(fields)) throw new MalformedAlipayResponse(`${member.key} is not an object`)
  const { sign, alipay_cert_sn: certSn } = document
  if (sign !== undefined && typeof sign !== 'string') throw new MalformedAlipayResponse('sign is not a string')
  if (certSn !== undefined && typeof certSn !== 'string') throw new MalformedAlipayResponse('alipay_cert_sn is not a string')
  return {
    key: member.key,
    content,
    fields,
    sign: sign === undefined || sign === '' ? null : sign,
    alipayCertSn: certSn === undefined || certSn === '' ? null : certSn,
  }
}

/**
 * Checks `sign` over the UTF-8 bytes of the response text (the answer's `charset` is the request's,
 * utf-8) with Alipay's public key (SPKI). False for a bad signature; throws only for an unusable key.
 */
export function verifyAlipayResponseSign(content: string, sign: string, alipaySpki: Bytes, signType: AlipaySignType): Promise<boolean> {
  return rsaVerify(alipaySpki, HASH_BY_SIGN_TYPE[signType], sign, utf8(content))
}
