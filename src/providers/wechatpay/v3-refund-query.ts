/**
 * @module WeChat Pay APIv3 refund query, `GET /v3/refund/domestic/refunds/{out_refund_no}`: signed like
 * the order query, its answer verified exactly like a callback before the `Refund` (the REFUND.*
 * notification's resource, with `status` for `refund_status`) is read.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012556431 (query a refund by out_refund_no)
 */
import { asQuery, type ProviderAnswer } from '../core/query-exchange'
import { QueryFailed } from '../core/query-types'
import { defineRefundQueryClient, refundQueryNotification, type RefundQueryResult, type RefundRef } from '../core/refund-query'
import { refuse } from '../core/rejection'
import type { RefundOutcome } from '../core/types'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { parseJsonObject, requiredText } from './v3-json'
import { v3RefundEffect } from './v3-notify'
import { v3ErrorCode, v3QueryConfig, v3SignedGet, verifyV3Answer } from './v3-answer'
import { ownValue } from '../../lib/own'

/** `status` of a refund; PROCESSING is not settled yet. ABNORMAL is reported like REFUND.ABNORMAL. */
const OUTCOMES: Readonly<Record<string, RefundOutcome>> = { SUCCESS: 'succeeded', CLOSED: 'closed', ABNORMAL: 'failed' }

/** A sub-merchant's refund is asked about with its `sub_mchid` (the service provider signs the request). */
function refundUrl(wechatpay: WechatpayConfig, outRefundNo: string): URL {
  const base = wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL
  const url = new URL(`${base}/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`)
  if (wechatpay.subMchid !== undefined) url.searchParams.set('sub_mchid', wechatpay.subMchid)
  return url
}

export const wechatpayV3RefundQuery = defineRefundQueryClient({
  channel: 'wechatpay.v3',
  provider: 'wechatpay',
  configOf: v3QueryConfig,
  missingKeys: 'WeChat Pay APIv3 refund query needs apiV3Key, merchantPrivateKey and merchantSerial',
  async query(config, refund, options) {
    const answer = await v3SignedGet(config, refundUrl(config.wechatpay, refund.outRefundNo), options)
    return readAnswer(answer, config.wechatpay, refund, options.now)
  },
})

/** A 2xx answer must be signed; an error answer is checked when it carries a signature (as order queries do). */
async function readAnswer(answer: ProviderAnswer, wechatpay: WechatpayConfig, refund: RefundRef, now: number): Promise<RefundQueryResult> {
  const { status } = answer
  if (status >= 200 && status < 300) {
    await verifyV3Answer(answer, wechatpay, now)
    return asQuery(() => outcomeOf(parseJsonObject(answer.body, 'answer'), refund), status)
  }
  if (answer.headers.has('Wechatpay-Signature')) await verifyV3Answer(answer, wechatpay, now)
  const code = v3ErrorCode(answer.body)
  // No such refund (yet): asked too early, or the refund request never reached WeChat.
  if (status === 404 && code === 'RESOURCE_NOT_EXISTS') return { kind: 'unsettled', providerStatus: code }
  if (code !== null) throw new QueryFailed('provider_error', `WeChat Pay answered HTTP ${status} ${code}`, status)
  throw new QueryFailed('http_error', `WeChat Pay answered HTTP ${status}`, status)
}

/** The one mapping of a v3 refund's `status` to refund-query results. The answer carries no mchid: the numbers must match. */
function outcomeOf(answer: Record<string, unknown>, refund: RefundRef): RefundQueryResult {
  if (requiredText(answer, 'out_refund_no') !== refund.outRefundNo || requiredText(answer, 'out_trade_no') !== refund.outTradeNo) {
    refuse('malformed_body', 'answer is about another refund')
  }
  const status = requiredText(answer, 'status')
  if (status === 'PROCESSING') return { kind: 'unsettled', providerStatus: status }
  const outcome = ownValue(OUTCOMES, status)
  if (outcome === undefined) return refuse('unsupported_event', 'unknown refund status')
  const effect = v3RefundEffect(outcome, answer)
  return { kind: 'settled', notification: refundQueryNotification('wechatpay.v3', 'wechatpay', refund.outTradeNo, effect, answer) }
}
