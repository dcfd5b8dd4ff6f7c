/**
 * `POST …/orders/{no}/sync` asks about the order and every unsettled refund at once (contract: "also syncs its
 * refunds"), through the real Worker, Alipay's answers signed by node:crypto: also when it comes while the order's
 * alarm is out asking about a refund that was due.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { admin, forwardUrl, notify } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import { alipayTrade, saveQueryingMerchant } from '../support/closed-orders'
import { inOrderStore } from '../support/orders'
import { network } from '../msw'
import {
  ALIPAY_GATEWAY,
  alipayRefundQueryReply,
  holdFirstAlipayRequest,
  receiveEvents,
  tradeQueryReply,
  type QueryLog,
} from '../support/refunds'

/** A paid Alipay order of a merchant with query keys, and two refunds the merchant registered (no notification). */
async function paidWithTwoRegisteredRefunds(merchantId: string, prefix: string) {
  await saveQueryingMerchant(merchantId)
  receiveEvents(forwardUrl(merchantId))
  const outTradeNo = freshOrderNo(prefix)
  const tradeNo = `2026112222001${Date.now()}`
  const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo }
  const paid = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo))
  expect(await paid.text()).toBe('success')
  await runDurableObjectAlarm(orderStub(env, order))
  for (const [outRefundNo, amount] of [
    ['R1', 30],
    ['R2', 20],
  ] as const) {
    const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/${outRefundNo}`, {
      method: 'PUT',
      body: JSON.stringify({ amount }),
    })
    expect(reply.status).toBe(200)
  }
  // One handler for both of Alipay's queries a sync makes (a request's body is read once).
  const refundQueries: QueryLog = { asked: [] }
  const orderQueries: string[] = []
  const refunds = [
    { outTradeNo, outRefundNo: 'R1', amount: 30, total: 100 },
    { outTradeNo, outRefundNo: 'R2', amount: 20, total: 100 },
  ]
  const trade = () => ({ trade_no: tradeNo, trade_status: 'TRADE_SUCCESS', total_amount: '1.00', send_pay_date: '2026-11-22 17:59:58' })
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('method') === 'alipay.trade.query') return tradeQueryReply(form, trade, orderQueries)
      if (form.get('method') === 'alipay.trade.fastpay.refund.query') return alipayRefundQueryReply(form, refunds, refundQueries)
      return undefined
    }),
  )
  const sync = () => admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })
  return { order, outTradeNo, refundQueries, orderQueries, sync }
}

const refundQueryOf = (outRefundNo: string) => (form: URLSearchParams) =>
  form.get('method') === 'alipay.trade.fastpay.refund.query' &&
  (JSON.parse(form.get('biz_content') ?? '{}') as { out_request_no?: string }).out_request_no === outRefundNo

type SyncReply = { results: { refunds: string[] }[] }

describe('POST …/orders/{no}/sync and the order’s refunds', () => {
  it('asks about every unsettled refund at once', async () => {
    const { refundQueries, sync } = await paidWithTwoRegisteredRefunds('sync-refunds', 'SYNCR')
    const reply = await sync()
    expect(reply.status).toBe(200)
    expect(refundQueries.asked.sort()).toEqual(['R1', 'R2'])
    expect(((await reply.json()) as SyncReply).results[0]!.refunds.map((line) => line.split(':')[0]).sort()).toEqual(['R1', 'R2'])
  })

  it('coming while the alarm asks about the one refund that was due, still asks about the other at once', async () => {
    const { order, outTradeNo, refundQueries, orderQueries, sync } = await paidWithTwoRegisteredRefunds('sync-refunds-alarm', 'SYNCRA')
    // R1's scheduled query is due, R2's is not yet: the alarm asks about R1, and Alipay's answer is held.
    await inOrderStore(order, (store) => store.refunds.save({ ...store.refunds.get('R1')!, nextQueryAt: 0 }, new Date().toISOString()))
    const held = holdFirstAlipayRequest(refundQueryOf('R1'))
    const alarm = runDurableObjectAlarm(orderStub(env, order))
    await held.sent
    const synced = sync()
    await vi.waitFor(() => expect(orderQueries).toContain(outTradeNo))
    held.release()
    const reply = await synced
    await alarm
    expect(reply.status).toBe(200)
    // R1 once (the alarm's question answers the sync too), R2 at once.
    expect(refundQueries.asked).toEqual(['R1', 'R2'])
    expect(((await reply.json()) as SyncReply).results[0]!.refunds.map((line) => line.split(':')[0])).toEqual(['R1', 'R2'])
  })
})
