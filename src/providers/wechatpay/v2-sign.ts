/**
 * @module WeChat Pay APIv2 signs: MD5 or HMAC-SHA256 under the APIv2 key over the sorted `k=v` string,
 * shared by notifications and the order query's request and answer (protocols.md §1.3).
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011985891 (signature algorithm)
 */
import { toHex, utf8 } from '../../crypto/encoding'
import { utf8KeyBytes } from '../../crypto/keys'
import { hmacSha256, md5, timingSafeEqualText } from '../../crypto/primitives'
import { refuse } from '../core/rejection'
import { V2_SIGN_TYPES, type V2SignType } from './config'
import { presentFields, type XmlFields } from './xml'

/** Exactly what a v2 sign covers: every non-empty field but `sign`. */
export function signedFields(fields: XmlFields): XmlFields {
  const { sign: _sign, ...signed } = presentFields(fields)
  return signed
}

/**
 * The APIv2 sign string without the key: every field except `sign`, empty values skipped, sorted by
 * key, `k=v` joined with `&`. `sign_type` is included when present (it is signed).
 */
export function v2SignString(fields: XmlFields): string {
  return Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name] !== '')
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&')
}

/** Uppercase hex sign of `signString&key=<apiV2Key>`; for HMAC-SHA256 the key is also the MAC key. */
export async function v2Sign(signString: string, apiV2Key: string, algorithm: V2SignType): Promise<string> {
  const message = utf8(`${signString}&key=${apiV2Key}`)
  const digest = algorithm === 'MD5' ? await md5(message) : await hmacSha256(utf8KeyBytes(apiV2Key), message)
  return toHex(digest).toUpperCase()
}

/**
 * WeChat signs a notify with the sign type of the order request and often omits `sign_type`, so the
 * algorithm is `sign_type` when present, else read from the sign's length (32 hex MD5, 64 HMAC-SHA256).
 */
export function v2SignAlgorithm(fields: XmlFields): V2SignType {
  const declared = fields.sign_type ?? ''
  if (declared !== '') {
    const known = V2_SIGN_TYPES.find((type) => type === declared)
    return known ?? refuse('sign_type_not_allowed', 'sign_type is neither MD5 nor HMAC-SHA256')
  }
  switch (fields.sign?.length) {
    case 32:
      return 'MD5'
    case 64:
      return 'HMAC-SHA256'
    default:
      return refuse('signature_invalid', 'sign has neither an MD5 nor an HMAC-SHA256 length')
  }
}

/**
 * Checks a signed v2 message; returns the algorithm that verified it, or throws the precise rejection.
 * `signString` is `v2SignString(fields)`, passed by a caller that needs it again (a notify's dedupe key).
 */
export async function verifyV2Signature(
  fields: XmlFields,
  apiV2Key: string,
  allowed: readonly V2SignType[],
  signString = v2SignString(fields),
): Promise<V2SignType> {
  const received = fields.sign ?? ''
  if (received === '') refuse('missing_signature', 'v2 notify has no sign')
  const algorithm = v2SignAlgorithm(fields)
  if (!allowed.includes(algorithm)) refuse('sign_type_not_allowed', `sign type ${algorithm} is not allowed for this merchant`)
  const expected = await v2Sign(signString, apiV2Key, algorithm)
  if (!timingSafeEqualText(expected, received)) refuse('signature_invalid', 'v2 sign does not match')
  return algorithm
}
