/**
 * @module Alipay `alipay.trade.fastpay.refund.query`: the refund request (`out_request_no`) of a trade,
 * asked and verified like `alipay.trade.query`. Code 10000 only says the query ran: the refund succeeded
 * when the answer carries it (`refund_amount`, with `refund_status` absent or REFUND_SUCCESS).
 * @see https://opendocs.alipay.com/open/02e7gn (alipay.trade.fastpay.refund.query)
 */
import { asQuery, safeCode, signedWithMerchantKey } from '../core/query-exchange'
import { QueryFailed } from '../core/query-types'
import { defineRefundQueryClient, refundQueryNotification, type RefundQueryResult, type RefundRef } from '../core/refund-query'
import { refuse } from '../core/rejection'
import { beijingTimeToIso } from '../core/time'
import type { NotificationEffect } from '../core/types'
import { amountOf } from './notify'
import { alipayQueryConfig, alipayRequestParams, postToGateway, verifiedAlipayAnswer } from './query'
import type { AlipaySignedResponse } from './response'

const METHOD = 'alipay.trade.fastpay.refund.query'
const RESPONSE_KEY = 'alipay_trade_fastpay_refund_query_response'
const SUCCESS_CODE = '10000'
const REFUND_SUCCESS = 'REFUND_SUCCESS'

export const alipayRefundQuery = defineRefundQueryClient({
  channel: 'alipay',
  provider: 'alipay',
  configOf: alipayQueryConfig,
  missingKeys: 'Alipay refund query needs appPrivateKey',
  async query(config, refund, options) {
    const bizContent = { out_trade_no: refund.outTradeNo, out_request_no: refund.outRefundNo, query_options: ['gmt_refund_pay'] }
    const params = await signedWithMerchantKey(() => alipayRequestParams(config, METHOD, bizContent, options.now), 'app private key')
    const answer = await postToGateway(config, params, options)
    const response = await verifiedAlipayAnswer(answer, config, RESPONSE_KEY)
    return asQuery(() => outcomeOf(response, refund, answer.status), answer.status)
  },
})

/** The one mapping of refund-query answers to refund-query results. */
function outcomeOf(response: AlipaySignedResponse, refund: RefundRef, status: number): RefundQueryResult {
  const { fields: answer } = response
  const code = safeCode(answer.code) ?? 'unknown'
  if (code !== SUCCESS_CODE) {
    const subCode = safeCode(answer.sub_code)
    if (subCode === 'ACQ.TRADE_NOT_EXIST') return { kind: 'unsettled', providerStatus: subCode }
    throw new QueryFailed('provider_error', `Alipay answered code ${subCode === null ? code : `${code} ${subCode}`}`, status)
  }
  if (response.key !== RESPONSE_KEY) refuse('malformed_body', `success answer outside ${RESPONSE_KEY}`)
  const fields = new Map(Object.entries(answer).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as const] : [])))
  const named = (name: string) => fields.get(name) ?? ''
  // Without the refund's own fields the query found no refund (yet): not received, or still being processed.
  if (named('refund_amount') === '') return { kind: 'unsettled', providerStatus: 'not refunded' }
  if (named('out_trade_no') !== refund.outTradeNo || (named('out_request_no') !== '' && named('out_request_no') !== refund.outRefundNo)) {
    refuse('malformed_body', 'answer is about another refund')
  }
  const refundStatus = named('refund_status')
  if (refundStatus !== '' && refundStatus !== REFUND_SUCCESS) return { kind: 'unsettled', providerStatus: refundStatus }
  // The answer names no currency: its amounts are in the trade's, which is the order's (CNY when the order knows none).
  const currency = refund.currency ?? 'CNY'
  const amount = amountOf(fields, 'refund_amount', currency)
  const orderAmount = amountOf(fields, 'total_amount', currency)
  if (amount > orderAmount) refuse('malformed_body', 'refund_amount exceeds total_amount')
  const refundedAt = named('gmt_refund_pay') === '' ? null : beijingTimeToIso(named('gmt_refund_pay'))
  const effect: Extract<NotificationEffect, { kind: 'refund' }> = {
    kind: 'refund',
    outcome: 'succeeded',
    outRefundNo: refund.outRefundNo,
    refundId: null,
    transactionId: named('trade_no') || null,
    amount,
    cumulativeRefunded: null,
    orderAmount,
    currency,
    refundedAt,
    // No payment time in the answer: the order query (or the payment's notification) records the payment.
    payment: null,
  }
  return { kind: 'settled', notification: refundQueryNotification('alipay', 'alipay', refund.outTradeNo, effect, answer) }
}
