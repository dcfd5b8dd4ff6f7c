/**
 * @module WeChat Pay APIv3 requests signed with the merchant API key: the `WECHATPAY2-SHA256-RSA2048`
 * `Authorization` over `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n` (order queries, certificate downloads).
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365336 (request signature)
 */
import { readPem, toBase64, toHex, utf8 } from '../../crypto/encoding'
import { randomBytes, rsaSign } from '../../crypto/primitives'
import { exchange, signedWithMerchantKey, type ProviderAnswer } from '../core/query-exchange'
import type { QueryOptions } from '../core/query-types'
import type { WechatpayConfig } from './config'
import { SIGNATURE_TYPE_RSA } from './v3-signature'

/** What a v3 request signature covers (wechatpay-go `SignatureMessageFormat`). */
export interface V3RequestToSign {
  method: string
  /** The URL without scheme and host, exactly as sent: percent-escapes and query string included. */
  pathAndQuery: string
  /** Unix seconds, as text. */
  timestamp: string
  nonce: string
  /** The request body; `''` for a GET (its line, and the trailing `\n`, stay). */
  body: string
}

/** `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`. */
export function v3RequestMessage(request: V3RequestToSign): string {
  return `${request.method}\n${request.pathAndQuery}\n${request.timestamp}\n${request.nonce}\n${request.body}\n`
}

/** Base64 RSASSA-PKCS1-v1_5 SHA-256 signature of the request message with the merchant API private key (PKCS#8 PEM). */
export async function signV3Request(request: V3RequestToSign, merchantPrivateKeyPem: string): Promise<string> {
  const { label, der } = readPem(merchantPrivateKeyPem)
  if (label !== 'PRIVATE KEY') throw new RangeError('merchant private key is not PKCS#8 PEM')
  return toBase64(await rsaSign(der, 'SHA-256', utf8(v3RequestMessage(request))))
}

/** The `Authorization` header value; `serial` is the merchant API certificate's, not a platform one. */
export function v3Authorization(mchid: string, serial: string, request: V3RequestToSign, signature: string): string {
  const fields = [
    ['mchid', mchid],
    ['nonce_str', request.nonce],
    ['signature', signature],
    ['timestamp', request.timestamp],
    ['serial_no', serial],
  ]
  return `${SIGNATURE_TYPE_RSA} ${fields.map(([name, value]) => `${name}="${value}"`).join(',')}`
}

/** 32 uppercase hex characters, as WeChat's SDKs make them. */
export function newV3Nonce(): string {
  return toHex(randomBytes(16)).toUpperCase()
}

/** What signs a merchant's APIv3 requests. */
export interface V3RequestSigner {
  wechatpay: WechatpayConfig
  merchantPrivateKey: string
  merchantSerial: string
}

/**
 * Sends a GET signed for the URL exactly as fetch will send it (escapes and the query string in step) and reads
 * the whole answer. `Authorization` names the merchant's `mchid` (the service provider's in partner mode).
 */
export async function sendSignedV3Get(
  signer: V3RequestSigner,
  url: URL,
  options: QueryOptions,
  headers: Record<string, string> = {},
): Promise<ProviderAnswer> {
  const request: V3RequestToSign = {
    method: 'GET',
    pathAndQuery: `${url.pathname}${url.search}`,
    timestamp: String(Math.floor(options.now / 1000)),
    nonce: newV3Nonce(),
    body: '',
  }
  const signature = await signedWithMerchantKey(() => signV3Request(request, signer.merchantPrivateKey), 'merchant private key')
  const authorization = v3Authorization(signer.wechatpay.mchid, signer.merchantSerial, request, signature)
  return exchange(url, { method: 'GET', headers: { accept: 'application/json', authorization, ...headers } }, options)
}
