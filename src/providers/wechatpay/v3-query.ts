/**
 * @module WeChat Pay APIv3 order query, `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`:
 * the request signed with the merchant API key (`WECHATPAY2-SHA256-RSA2048` Authorization), the answer
 * verified exactly like a callback (timestamp window, key by `Wechatpay-Serial`, raw bytes) before
 * its `Transaction` is read (protocols.md §5.2).
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4013070356 (query by out_trade_no)
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365336 (request signature)
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
import { readPem, toBase64, toHex, utf8 } from '../../crypto/encoding'
import { randomBytes, rsaSign } from '../../crypto/primitives'
import { asQuery, defineQueryClient, exchange, safeCode, signedWithMerchantKey, type ProviderAnswer } from '../core/query-exchange'
import { QueryFailed, type QueryOptions, type QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { wechatpayTradeStateOutcome } from './trade-state'
import { checkV3MerchantIdentity, optionalText, parseJsonObject, requiredText, transactionPaymentEffect } from './v3-notify'
import { readSignedMessage, SIGNATURE_TYPE_RSA, verifySignedMessage } from './v3-signature'

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

export interface V3QueryConfig {
  wechatpay: WechatpayConfig
  merchantPrivateKey: string
  merchantSerial: string
}

/** The keys every signed v3 API call needs, or null when the merchant lacks some. */
export function v3QueryConfig(wechatpay: WechatpayConfig | undefined): V3QueryConfig | null {
  const { merchantPrivateKey, merchantSerial } = wechatpay ?? {}
  if (wechatpay === undefined || !wechatpay.apiV3Key || !merchantPrivateKey || !merchantSerial) return null
  return { wechatpay, merchantPrivateKey, merchantSerial }
}

/**
 * In public-key mode the request names the `PUB_KEY_ID_…` so WeChat signs its answer with that key;
 * otherwise the answer comes signed with a platform certificate (protocols.md §3.3, §5.2).
 */
function publicKeyId(wechatpay: WechatpayConfig): string | null {
  return Object.keys(wechatpay.platformPublicKeys).find((serial) => serial.startsWith('PUB_KEY_ID_')) ?? null
}

function transactionUrl(wechatpay: WechatpayConfig, outTradeNo: string): URL {
  const base = wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL
  const url = new URL(`${base}/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`)
  url.searchParams.set('mchid', wechatpay.mchid)
  return url
}

/** 32 uppercase hex characters, as WeChat's SDKs make them. */
function newNonce(): string {
  return toHex(randomBytes(16)).toUpperCase()
}

/** One GET of a v3 API resource, signed with the merchant API key; the answer as received, unverified. */
export async function v3SignedGet(config: V3QueryConfig, url: URL, options: QueryOptions): Promise<ProviderAnswer> {
  // The URL as fetch will send it: signing this exact text keeps escapes and the query string in step.
  const request: V3RequestToSign = {
    method: 'GET',
    pathAndQuery: `${url.pathname}${url.search}`,
    timestamp: String(Math.floor(options.now / 1000)),
    nonce: newNonce(),
    body: '',
  }
  const signature = await signedWithMerchantKey(() => signV3Request(request, config.merchantPrivateKey), 'merchant private key')
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: v3Authorization(config.wechatpay.mchid, config.merchantSerial, request, signature),
  }
  const keyId = publicKeyId(config.wechatpay)
  if (keyId !== null) headers['wechatpay-serial'] = keyId
  return exchange(url, { method: 'GET', headers }, options)
}

export const wechatpayV3Query = defineQueryClient({
  channel: 'wechatpay.v3',
  provider: 'wechatpay',
  configOf: v3QueryConfig,
  missingKeys: 'WeChat Pay APIv3 query needs apiV3Key, merchantPrivateKey and merchantSerial',
  async query(config, outTradeNo, options) {
    const answer = await v3SignedGet(config, transactionUrl(config.wechatpay, outTradeNo), options)
    return readAnswer(answer, config.wechatpay, outTradeNo, options.now)
  },
})

/** The signature check of callbacks, on the answer's headers and raw body. */
export async function verifyV3Answer(answer: ProviderAnswer, wechatpay: WechatpayConfig, now: number): Promise<void> {
  await asQuery(async () => {
    const signed = readSignedMessage({ body: answer.body, headers: answer.headers, receivedAt: now })
    await verifySignedMessage(signed, wechatpay, now)
  }, answer.status)
}

/**
 * A 2xx answer must be signed (an unsigned one is forged: pay.weixin.qq.com/doc/global/v3/zh/4012354982).
 * Error answers are checked when they carry a signature; the official SDKs verify only 2xx, and an
 * unsigned 404 can do no more than report "not paid", which changes nothing.
 */
async function readAnswer(answer: ProviderAnswer, wechatpay: WechatpayConfig, outTradeNo: string, now: number): Promise<QueryResult> {
  const { status } = answer
  if (status >= 200 && status < 300) {
    await verifyV3Answer(answer, wechatpay, now)
    return asQuery(() => outcomeOf(parseJsonObject(answer.body, 'answer'), wechatpay, outTradeNo), status)
  }
  if (answer.headers.has('Wechatpay-Signature')) await verifyV3Answer(answer, wechatpay, now)
  const code = v3ErrorCode(answer.body)
  if (status === 404 && code === 'ORDER_NOT_EXIST') return { kind: 'not_paid', providerStatus: code }
  if (code !== null) throw new QueryFailed('provider_error', `WeChat Pay answered HTTP ${status} ${code}`, status)
  throw new QueryFailed('http_error', `WeChat Pay answered HTTP ${status}`, status)
}

/** `code` of an error answer (`{"code":"ORDER_NOT_EXIST","message":…}`), when it is one. */
export function v3ErrorCode(body: Uint8Array): string | null {
  try {
    return safeCode(parseJsonObject(body, 'answer').code)
  } catch {
    return null
  }
}

/** The one mapping of v3 `trade_state` to query results. */
function outcomeOf(transaction: Record<string, unknown>, wechatpay: WechatpayConfig, outTradeNo: string): QueryResult {
  checkV3MerchantIdentity(transaction, wechatpay)
  if (requiredText(transaction, 'out_trade_no') !== outTradeNo) {
    refuse('malformed_body', 'answer is about another order')
  }
  return wechatpayTradeStateOutcome({
    channel: 'wechatpay.v3',
    outTradeNo,
    tradeState: requiredText(transaction, 'trade_state'),
    transactionId: optionalText(transaction, 'transaction_id') || null,
    raw: transaction,
    payment: () => transactionPaymentEffect(transaction),
  })
}
