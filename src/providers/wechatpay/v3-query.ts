/**
 * @module WeChat Pay APIv3 order query, `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=` (a
 * sub-merchant's: `/v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid=&sub_mchid=`):
 * the request signed with the merchant API key (`WECHATPAY2-SHA256-RSA2048` Authorization), the answer
 * verified exactly like a callback (timestamp window, key by `Wechatpay-Serial`, raw bytes) before
 * its `Transaction` is read (protocols.md §5.2).
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4013070356 (query by out_trade_no)
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012760325 (partner query by out_trade_no)
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365336 (request signature)
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
import { asQuery, defineQueryClient, safeCode, type ProviderAnswer } from '../core/query-exchange'
import { QueryFailed, type QueryOptions, type QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { wechatpayTradeStateOutcome } from './trade-state'
import { checkV3Identity } from './identity'
import { optionalText, parseJsonObject, requiredText } from './v3-json'
import { transactionPaymentEffect } from './v3-transaction'
import { sendSignedV3Get, type V3RequestSigner } from './v3-request'
import { readSignedMessage, verifySignedMessage } from './v3-signature'

// The request signature's pieces live in v3-request.ts; the reference vectors import them from here too.
export { signV3Request, v3Authorization, v3RequestMessage, type V3RequestToSign } from './v3-request'

/** The keys every signed v3 API call needs, or null when the merchant lacks some. */
export function v3QueryConfig(wechatpay: WechatpayConfig | undefined): V3RequestSigner | null {
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

/** Direct: `/v3/pay/transactions/…?mchid=`; a sub-merchant's order: `/v3/pay/partner/transactions/…?sp_mchid=&sub_mchid=`. */
function transactionUrl(wechatpay: WechatpayConfig, outTradeNo: string): URL {
  const base = wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL
  const order = encodeURIComponent(outTradeNo)
  if (wechatpay.subMchid === undefined) {
    const url = new URL(`${base}/v3/pay/transactions/out-trade-no/${order}`)
    url.searchParams.set('mchid', wechatpay.mchid)
    return url
  }
  const url = new URL(`${base}/v3/pay/partner/transactions/out-trade-no/${order}`)
  url.searchParams.set('sp_mchid', wechatpay.mchid)
  url.searchParams.set('sub_mchid', wechatpay.subMchid)
  return url
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

/** One GET of a v3 API resource (orders, refunds), signed with the merchant API key; the answer as received. */
export function v3SignedGet(config: V3RequestSigner, url: URL, options: QueryOptions): Promise<ProviderAnswer> {
  const keyId = publicKeyId(config.wechatpay)
  // In public-key mode WeChat signs its answer with the key the request names.
  return sendSignedV3Get(config, url, options, keyId === null ? {} : { 'wechatpay-serial': keyId })
}

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
  checkV3Identity(transaction, wechatpay)
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
