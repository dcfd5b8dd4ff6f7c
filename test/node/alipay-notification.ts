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

/**
 * A `TRADE_SUCCESS` of ¥88.88 for the order, signed (RSA2); `notifyId` makes a repeat of the same notification, and
 * `tampered` changes the amount after signing.
 */
export function alipayPaymentBody(outTradeNo: string, options: { notifyId?: string; tradeNo?: string; tampered?: boolean } = {}): string {
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
  }
  const content = Object.keys(params)
    .filter((name) => name !== 'sign_type')
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&')
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
  return new URLSearchParams({ ...params, ...(options.tampered ? { total_amount: '0.01' } : {}), sign }).toString()
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
