/**
 * @module WeChat Pay APIv3 answers to a query (of an order, a combined payment, a refund): the GET signed with the
 * merchant API key, the answer verified exactly like a callback (timestamp window, key by `Wechatpay-Serial`, raw
 * bytes) before its document is read, and the error answers that say "no such order".
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365336 (request signature)
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
import { asQuery, safeCode, type ProviderAnswer } from '../core/query-exchange'
import { QueryFailed, type QueryOptions, type QueryResult } from '../core/query-types'
import type { WechatpayConfig } from './config'
import { parseJsonObject, type JsonFields } from './v3-json'
import { sendSignedV3Get, type V3RequestSigner } from './v3-request'
import { readSignedMessage, verifySignedMessage } from './v3-signature'

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

/** One GET of a v3 API resource (orders, combined payments, refunds), signed with the merchant API key; the answer as received. */
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
 * What a 404 `ORDER_NOT_EXIST` says: of an order, that it is not paid (yet: normal until the buyer opens the cashier);
 * of a combined payment a signed notification named, nothing true (a forged or faulty answer), so no answer at all.
 */
export type UnknownOrderMeans = 'not_paid' | 'no_answer'

/**
 * An order query's answer (ordinary or combined): a 2xx must be signed (an unsigned one is forged:
 * pay.weixin.qq.com/doc/global/v3/zh/4012354982), then `read` maps its document. Error answers are checked when they
 * carry a signature; the official SDKs verify only 2xx, and an unsigned 404 can do no more than report "not paid",
 * and only where that can be true (`unknownOrder`).
 */
export async function readV3OrderAnswer(
  answer: ProviderAnswer,
  wechatpay: WechatpayConfig,
  now: number,
  read: (document: JsonFields) => QueryResult,
  unknownOrder: UnknownOrderMeans = 'not_paid',
): Promise<QueryResult> {
  const { status } = answer
  if (status >= 200 && status < 300) {
    await verifyV3Answer(answer, wechatpay, now)
    return asQuery(() => read(parseJsonObject(answer.body, 'answer')), status)
  }
  if (answer.headers.has('Wechatpay-Signature')) await verifyV3Answer(answer, wechatpay, now)
  const code = v3ErrorCode(answer.body)
  if (status === 404 && code === 'ORDER_NOT_EXIST') {
    if (unknownOrder === 'not_paid') return { kind: 'not_paid', providerStatus: code }
    throw new QueryFailed('provider_error', 'WeChat Pay answered ORDER_NOT_EXIST for a combined payment its notification named', status)
  }
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
