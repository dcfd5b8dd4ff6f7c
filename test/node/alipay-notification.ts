/**
 * @module Alipay payment notifications signed with the fixtures' Alipay key, posted to a real `wrangler dev` as Alipay
 * would (for the node tests: the admin CLI's and the dashboard's), and the merchant section that verifies them.
 */
import { createSign, randomBytes } from 'node:crypto'
import keys from '../fixtures/keys.json'

/** The merchant's Alipay section for the fixtures' app and keys. */
export function alipaySection() {
  return { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId, signType: 'RSA2', alipayPublicKey: keys.alipay.alipayKey.publicKeyPem }
}

/** The app's private key, with which the gateway signs its `alipay.trade.query` requests. */
export const ALIPAY_APP_PRIVATE_KEY = keys.alipay.appKey.privateKeyPem

/**
 * A `TRADE_SUCCESS` of ¥88.88 for the order, signed (RSA2); `notifyId` makes a repeat of the same notification,
 * `tampered` changes the amount after signing, and `fields` adds or replaces fields before signing (a refund's
 * `refund_fee`, a `TRADE_CLOSED`, another `notify_type`).
 */
export function alipayPaymentBody(
  outTradeNo: string,
  options: { notifyId?: string; tradeNo?: string; tampered?: boolean; fields?: Record<string, string> } = {},
): string {
  const params: Record<string, string> = {
    notify_id: options.notifyId ?? `n${randomBytes(8).toString('hex')}`,
    notify_type: 'trade_status_sync',
    notify_time: '2026-11-30 10:00:00',
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_status: 'TRADE_SUCCESS',
    app_id: keys.alipay.appId,
    seller_id: keys.alipay.sellerId,
    out_trade_no: outTradeNo,
    trade_no: options.tradeNo ?? `2026113022001${randomBytes(6).toString('hex')}`,
    total_amount: '88.88',
    gmt_payment: '2026-11-30 09:59:58',
    ...options.fields,
  }
  const content = Object.keys(params)
    .filter((name) => name !== 'sign_type')
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&')
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
  return new URLSearchParams({ ...params, ...(options.tampered ? { total_amount: '0.01' } : {}), sign }).toString()
}

/**
 * Alipay's signed answer to `alipay.trade.query` (what a stand-in for its gateway replies): the response object's
 * JSON as sent, signed with Alipay's key.
 */
export function alipayQueryAnswer(trade: Record<string, string>): string {
  const content = JSON.stringify({ code: '10000', msg: 'Success', ...trade })
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
  return `{"alipay_trade_query_response":${content},"sign":${JSON.stringify(sign)}}`
}

/** Posts a notification body to the merchant's Alipay notify URL; resolves to the gateway's reply text. */
export async function postAlipay(gatewayUrl: string, merchantId: string, body: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/notify/${merchantId}/alipay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  })
  return response.text()
}
