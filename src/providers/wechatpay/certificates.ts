/**
 * @module WeChat Pay platform certificates, downloaded (`GET /v3/certificates`) as the official SDKs do it
 * (wechatpay-go's auto certificate downloader): the request signed with the merchant API key; each certificate
 * decrypted with the APIv3 key (AEAD_AES_256_GCM, which authenticates it) and checked against its `serial_no`;
 * then the answer's own signature verified with a key the merchant already trusts or one just decrypted.
 * Expired certificates are left out. protocols.md §3.3.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012551764 (download platform certificates)
 */
import { fromBase64, fromUtf8, utf8 } from '../../crypto/encoding'
import { utf8KeyBytes } from '../../crypto/keys'
import { aesGcmDecrypt } from '../../crypto/primitives'
import { certificateFacts, type CertificateFacts } from '../../crypto/x509'
import { asQuery, safeCode, type ProviderAnswer } from '../core/query-exchange'
import type { DownloadedKey, KeyDownloads } from '../core/key-downloads'
import { QueryFailed, type QueryOptions } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { parseJsonObject, requiredText } from './v3-json'
import { sendSignedV3Get, type V3RequestSigner } from './v3-request'
import { readSignedMessage, verifySignedMessage } from './v3-signature'

const ALGORITHM = 'AEAD_AES_256_GCM'
// WeChat lists the current certificate and, around a rotation, the next one; a long list is not its answer.
const MAX_CERTIFICATES = 16
/** WeChat: poll at intervals under 12 hours; a new certificate is listed 24 hours before it signs. */
const REFRESH_INTERVAL_MS = 6 * 3600_000

function downloadSigner(wechatpay: WechatpayConfig): (V3RequestSigner & { apiV3Key: string }) | null {
  const { apiV3Key, merchantPrivateKey, merchantSerial } = wechatpay
  if (wechatpay.autoPlatformCertificates !== true || !apiV3Key || !merchantPrivateKey || !merchantSerial) return null
  return { wechatpay, merchantPrivateKey, merchantSerial, apiV3Key }
}

function entriesOf(body: Uint8Array): Record<string, unknown>[] {
  const data = parseJsonObject(body, 'answer').data
  if (!Array.isArray(data)) refuse('malformed_body', 'answer has no data list')
  if (data.length > MAX_CERTIFICATES) refuse('malformed_body', 'answer lists too many certificates')
  return data.map((entry: unknown) =>
    typeof entry === 'object' && entry !== null && !Array.isArray(entry)
      ? (entry as Record<string, unknown>)
      : refuse('malformed_body', 'a certificate entry is not an object'),
  )
}

/** One entry: decrypted (GCM proves it came from whoever holds the APIv3 key), a certificate under its own serial. */
async function openEntry(entry: Record<string, unknown>, apiV3Key: string): Promise<DownloadedKey> {
  const serial = requiredText(entry, 'serial_no').toUpperCase()
  const sealed = entry.encrypt_certificate
  if (typeof sealed !== 'object' || sealed === null) refuse('malformed_body', 'encrypt_certificate is missing')
  const resource = sealed as Record<string, unknown>
  if (requiredText(resource, 'algorithm') !== ALGORITHM) refuse('malformed_body', 'unsupported certificate encryption')
  let pem: string
  try {
    const nonce = utf8(requiredText(resource, 'nonce'))
    const associatedData = utf8(typeof resource.associated_data === 'string' ? resource.associated_data : '')
    pem = fromUtf8(await aesGcmDecrypt(utf8KeyBytes(apiV3Key), nonce, associatedData, fromBase64(requiredText(resource, 'ciphertext'))))
  } catch {
    return refuse('decrypt_failed', 'certificate does not decrypt with the APIv3 key')
  }
  let facts: CertificateFacts | null = null
  try {
    facts = certificateFacts(pem)
  } catch {
    // Refused below, as a key that is not RSA is.
  }
  if (facts === null || !facts.rsa) return refuse('malformed_body', 'decrypted certificate is not an RSA certificate')
  if (facts.serial !== serial) refuse('malformed_body', 'certificate is listed under another serial')
  return { serial, certificatePem: pem, expiresAt: facts.expiresAt }
}

function withCertificates(wechatpay: WechatpayConfig, keys: readonly DownloadedKey[]): WechatpayConfig {
  if (keys.length === 0) return wechatpay
  return { ...wechatpay, downloadedPlatformCertificates: Object.fromEntries(keys.map((key) => [key.serial, key.certificatePem])) }
}

async function readCertificates(
  answer: ProviderAnswer,
  signer: V3RequestSigner & { apiV3Key: string },
  known: readonly DownloadedKey[],
  now: number,
): Promise<DownloadedKey[]> {
  const { status } = answer
  if (status !== 200) {
    let code: string | null = null
    try {
      code = safeCode(parseJsonObject(answer.body, 'answer').code)
    } catch {}
    throw new QueryFailed(
      code === null ? 'http_error' : 'provider_error',
      `WeChat Pay answered HTTP ${status}${code ? ` ${code}` : ''}`,
      status,
    )
  }
  return asQuery(async () => {
    const signed = readSignedMessage({ body: answer.body, headers: answer.headers, receivedAt: now })
    const fresh = await Promise.all(entriesOf(answer.body).map((entry) => openEntry(entry, signer.apiV3Key)))
    // The answer is signed with a platform key: one already trusted, or one in this very answer.
    await verifySignedMessage(signed, withCertificates(signer.wechatpay, [...known, ...fresh]), now)
    return fresh.filter((key) => Date.parse(key.expiresAt) > now)
  }, status)
}

export const wechatpayPlatformCertificates: KeyDownloads<WechatpayConfig> = {
  enabled: (wechatpay) => downloadSigner(wechatpay) !== null,

  async download(wechatpay: WechatpayConfig, known: readonly DownloadedKey[], options: QueryOptions): Promise<DownloadedKey[]> {
    const signer = downloadSigner(wechatpay)
    if (signer === null)
      throw new QueryFailed('not_configured', 'downloads need autoPlatformCertificates, apiV3Key and the merchant API key')
    const url = new URL(`${wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL}/v3/certificates`)
    const answer = await sendSignedV3Get(signer, url, options)
    return readCertificates(answer, signer, known, options.now)
  },

  withDownloaded: withCertificates,
  refreshIntervalMs: REFRESH_INTERVAL_MS,
}
