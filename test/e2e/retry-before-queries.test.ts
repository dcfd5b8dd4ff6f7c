/**
 * An order's alarm with a delivery retry and provider queries both due, through the real Worker (Alipay's answers
 * signed by node:crypto): the retry goes before the queries, so a slow provider does not hold it back (contract: the
 * first retry within 10 s of the failed attempt), and what the queries find is delivered in the same run.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { admin, forwardUrl, notify } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import { alipayTrade, saveQueryingMerchant } from '../support/closed-orders'
import { inOrderStore, makeDeliveriesDue } from '../support/orders'
import { network } from '../msw'
import { ALIPAY_GATEWAY, alipayRefundQueryReply, holdFirstAlipayRequest, type QueryLog } from '../support/refunds'

describe("an order's alarm with a retry and a refund query due", () => {
  it('sends the retry before asking the provider, then delivers what the answer settled in the same run', async () => {
    const merchantId = 'retry-before-queries'
    await saveQueryingMerchant(merchantId)
    // The merchant's endpoint fails the first attempt, then takes every event.
    const received: string[] = []
    network.use(
      http.post(forwardUrl(merchantId), async ({ request }) => {
        const { type } = (await request.json()) as { type: string }
        received.push(type)
        return received.length === 1 ? new HttpResponse('busy', { status: 503 }) : HttpResponse.text('ok')
      }),
    )
    const outTradeNo = freshOrderNo('RBQ')
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo }
    const paid = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', `2026112222001${Date.now()}`))
    expect(await paid.text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received).toEqual(['payment.succeeded'])

    // The merchant registers a refund; its query and the payment's retry both fall due.
    const put = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/R1`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 30 }),
    })
    expect(put.status).toBe(200)
    await makeDeliveriesDue(order)
    await inOrderStore(order, (store) => store.refunds.save({ ...store.refunds.get('R1')!, nextQueryAt: 0 }, new Date().toISOString()))
    const refundQueries: QueryLog = { asked: [] }
    network.use(
      http.post(ALIPAY_GATEWAY, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        if (form.get('method') !== 'alipay.trade.fastpay.refund.query') return undefined
        return alipayRefundQueryReply(form, [{ outTradeNo, outRefundNo: 'R1', amount: 30, total: 100 }], refundQueries)
      }),
    )
    // Alipay holds its answer to the refund query.
    const held = holdFirstAlipayRequest()
    const alarm = runDurableObjectAlarm(orderStub(env, order))
    try {
      await vi.waitFor(() => expect(received).toEqual(['payment.succeeded', 'payment.succeeded']), { timeout: 3_000 })
      await held.sent
    } finally {
      held.release()
      await alarm
    }
    expect(refundQueries.asked).toEqual(['R1'])
    // The refund the answer settled, delivered by the same run.
    expect(received).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
  })
})
