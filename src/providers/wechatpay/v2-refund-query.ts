/**
 * @module WeChat Pay APIv2 refund query, `POST /pay/refundquery` by `out_refund_no`: signed like the
 * order query, its XML answer's `sign` checked the same way before the refund's `refund_status_0`,
 * `refund_fee_0` and the order's `total_fee` are read.
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011985890 (query a refund)
 */
import { toHex } from '../../crypto/encoding'
import { randomBytes } from '../../crypto/primitives'
import { idsOf } from '../core/config-fields'
import { parseFen } from '../core/money'
import { asQuery, exchange, safeCode } from '../core/query-exchange'
import { QueryFailed } from '../core/query-types'
import { defineRefundQueryClient, refundQueryNotification, type RefundQueryResult, type RefundRef } from '../core/refund-query'
import { refuse } from '../core/rejection'
import { beijingTimeToIso } from '../core/time'
import type { NotificationEffect, RefundOutcome } from '../core/types'
import { WECHATPAY_API_BASE_URL } from './config'
import { v2QueryConfig, verifiedV2Answer, type V2QueryConfig } from './v2-query'
import { v2Sign, v2SignString } from './v2-sign'
import { buildXmlReply, type XmlFields } from './xml'
import { ownValue } from '../../lib/own'

/** `refund_status_$n`, the words of the refund notify; PROCESSING is not settled yet. */
const OUTCOMES: Readonly<Record<string, RefundOutcome>> = { SUCCESS: 'succeeded', REFUNDCLOSE: 'closed', CHANGE: 'failed' }

/**
 * The signed request fields; `sign_type` is sent (and signed) so WeChat does not assume MD5. As for the order
 * query, `appid` is the merchant's first app and a sub-merchant's request names its `sub_mch_id`.
 */
export async function v2RefundQueryFields(config: V2QueryConfig, outRefundNo: string, nonce: string): Promise<Record<string, string>> {
  const fields = {
    appid: idsOf(config.wechatpay.appid)[0]!,
    mch_id: config.wechatpay.mchid,
    ...(config.wechatpay.subMchid === undefined ? {} : { sub_mch_id: config.wechatpay.subMchid }),
    nonce_str: nonce,
    out_refund_no: outRefundNo,
    sign_type: config.signType,
  }
  return { ...fields, sign: await v2Sign(v2SignString(fields), config.apiV2Key, config.signType) }
}

export const wechatpayV2RefundQuery = defineRefundQueryClient({
  channel: 'wechatpay.v2',
  provider: 'wechatpay',
  configOf: v2QueryConfig,
  missingKeys: 'WeChat Pay APIv2 refund query needs apiV2Key',
  async query(config, refund, options) {
    const fields = await v2RefundQueryFields(config, refund.outRefundNo, toHex(randomBytes(16)))
    const url = new URL(`${config.wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL}/pay/refundquery`)
    const answer = await exchange(
      url,
      { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: buildXmlReply(fields) },
      options,
    )
    const signed = await verifiedV2Answer(answer, config)
    return asQuery(() => outcomeOf(signed, refund, answer.status), answer.status)
  },
})

function fenOf(fields: XmlFields, name: string): number {
  return parseFen(fields[name] ?? '') ?? refuse('malformed_body', `${name} is not an amount in fen`)
}

/** The one mapping of a v2 refund query's `result_code` / `refund_status_$n` to refund-query results. */
function outcomeOf(fields: XmlFields, refund: RefundRef, status: number): RefundQueryResult {
  if (fields.result_code === 'FAIL') {
    const code = safeCode(fields.err_code) ?? 'unknown'
    if (code === 'REFUNDNOTEXIST') return { kind: 'unsettled', providerStatus: code }
    throw new QueryFailed('provider_error', `WeChat Pay answered err_code ${code}`, status)
  }
  if (fields.result_code !== 'SUCCESS') refuse('malformed_body', 'result_code must be SUCCESS or FAIL')
  if (fields.out_trade_no !== refund.outTradeNo) refuse('malformed_body', 'answer is about another order')
  // Asked by out_refund_no, WeChat lists that one refund; find it by number rather than trust the index.
  const count = Number(fields.refund_count ?? '0')
  const index = Array.from({ length: Number.isSafeInteger(count) ? Math.min(count, 50) : 0 }, (_, n) => n).find(
    (n) => fields[`out_refund_no_${n}`] === refund.outRefundNo,
  )
  if (index === undefined) return refuse('malformed_body', 'answer is about another refund')
  const refundStatus = fields[`refund_status_${index}`] ?? ''
  if (refundStatus === 'PROCESSING') return { kind: 'unsettled', providerStatus: refundStatus }
  const outcome = ownValue(OUTCOMES, refundStatus)
  if (outcome === undefined) return refuse('unsupported_event', 'unknown refund_status')
  const amount = fenOf(fields, `refund_fee_${index}`)
  const orderAmount = fenOf(fields, 'total_fee')
  if (amount > orderAmount) refuse('malformed_body', 'refund_fee exceeds total_fee')
  const transactionId = fields.transaction_id || null
  const successTime = fields[`refund_success_time_${index}`]
  const refundedAt = successTime
    ? (beijingTimeToIso(successTime) ?? refuse('malformed_body', 'refund_success_time is not a Beijing time'))
    : null
  const effect: Extract<NotificationEffect, { kind: 'refund' }> = {
    kind: 'refund',
    outcome,
    outRefundNo: refund.outRefundNo,
    refundId: fields[`refund_id_${index}`] || null,
    transactionId,
    amount,
    cumulativeRefunded: null,
    orderAmount,
    currency: fields.fee_type || 'CNY',
    refundedAt,
    payment:
      transactionId === null || orderAmount === 0
        ? null
        : {
            amount: orderAmount,
            currency: fields.fee_type || 'CNY',
            ...(fields.fee_type ? {} : { currencyUnstated: true as const }),
            transactionId,
            paidAt: null,
          },
  }
  return { kind: 'settled', notification: refundQueryNotification('wechatpay.v2', 'wechatpay', refund.outTradeNo, effect, { ...fields }) }
}
