/**
 * @module Test helpers for orders that meet two features (test/e2e/cross-feature*.test.ts): a merchant with query keys,
 * Alipay's paid or closed trade notifications, and an order Alipay closed unpaid, with Alipay's answer to its query.
 * Signed with node:crypto and the fixtures' throwaway keys.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { admin, merchantBody, notify, ownKeys } from '../security/harness'
import { alipayForm, alipayPaymentParams, freshOrderNo, signAlipay } from '../security/signing'
import { tradeQueryAnswers, withQueryKeys } from './refunds'

/** A merchant with provider ids of its own, the query keys, and `options`. */
export async function saveQueryingMerchant(merchantId: string, options: Record<string, unknown> = {}): Promise<void> {
  const body = withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) }))
  const reply = await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify({ ...body, ...options }) })
  expect(reply.status).toBe(201)
}

/** An Alipay notification of the merchant's trade: paid (TRADE_SUCCESS) or closed unpaid (TRADE_CLOSED). */
export function alipayTrade(
  merchantId: string,
  outTradeNo: string,
  amount: number,
  status: 'TRADE_SUCCESS' | 'TRADE_CLOSED',
  tradeNo: string,
) {
  const { gmt_payment: paidAt, ...params } = alipayPaymentParams({ outTradeNo, amount, identity: ownKeys(merchantId).alipay })
  const fields =
    status === 'TRADE_SUCCESS'
      ? { ...params, gmt_payment: paidAt!, trade_no: tradeNo }
      : { ...params, trade_status: 'TRADE_CLOSED', gmt_close: '2026-11-22 18:29:40', trade_no: tradeNo }
  const sign = signAlipay(fields)
  return { body: alipayForm({ ...fields, sign }), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } }
}

/**
 * An unpaid order of the merchant that Alipay closed (TRADE_CLOSED, its alarm run), with `query` as Alipay's answer to
 * an order query of it: the trade paid after all, or closed.
 */
export async function closedOrder(merchantId: string, prefix: string, query: 'paid' | 'closed') {
  const outTradeNo = freshOrderNo(prefix)
  const tradeNo = `2026112222001${Date.now()}`
  const answer: Record<string, string> =
    query === 'paid'
      ? { trade_no: tradeNo, trade_status: 'TRADE_SUCCESS', total_amount: '1.00', send_pay_date: '2026-11-22 17:59:58' }
      : { trade_no: tradeNo, trade_status: 'TRADE_CLOSED', total_amount: '1.00' }
  const asked = tradeQueryAnswers(() => answer)
  const stub = orderStub(env, { merchantId, provider: 'alipay', outTradeNo })
  expect(await (await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_CLOSED', tradeNo))).text()).toBe(
    'success',
  )
  await runDurableObjectAlarm(stub)
  const payment = () => alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo)
  return { outTradeNo, tradeNo, stub, asked, payment }
}
