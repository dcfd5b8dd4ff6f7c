/**
 * Never miss a payment: a registered order whose notification never comes is queried at the
 * provider; a verified "paid" answer becomes the same single event a notification would have
 * produced, and a notification arriving afterwards changes nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { createSign } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import keys from '../fixtures/keys.json'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import { network } from '../msw'
import { admin, getOrder, notify, putFixtureMerchant, recordForwarded } from '../support/gateway'
import { runDueQuery } from '../support/orders'

const GATEWAY = 'https://openapi.alipay.com/gateway.do'
const MERCHANT = 'recon'
const withQueryKeys = {
  alipay: {
    appId: keys.alipay.appId,
    sellerId: keys.alipay.sellerId,
    alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
    signType: 'RSA2',
    appPrivateKey: keys.alipay.appKey.privateKeyPem,
  },
}

/** Alipay's side of alipay.trade.query, signed with node:crypto over the exact response text. */
function alipayAnswers(fields: Record<string, string>, signingKey = keys.alipay.alipayKey.privateKeyPem): { asked: string[] } {
  const asked: string[] = []
  network.use(
    http.post(GATEWAY, async ({ request }) => {
      const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()))
      const outTradeNo = (JSON.parse(form.get('biz_content')!) as { out_trade_no: string }).out_trade_no
      asked.push(outTradeNo)
      const content = JSON.stringify({ code: '10000', msg: 'Success', out_trade_no: outTradeNo, ...fields })
      const sign = createSign('RSA-SHA256').update(content).sign(signingKey, 'base64')
      return new HttpResponse(`{"alipay_trade_query_response":${content},"sign":"${sign}"}`, {
        headers: { 'content-type': 'text/html;charset=utf-8' },
      })
    }),
  )
  return { asked }
}

/** Alipay's signed answer that it knows no such trade (ACQ.TRADE_NOT_EXIST). */
function tradeNotExist(): void {
  network.use(
    http.post(GATEWAY, () => {
      const content = JSON.stringify({ code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在' })
      const sign = createSign('RSA-SHA256').update(content).sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
      return new HttpResponse(`{"alipay_trade_query_response":${content},"sign":"${sign}"}`)
    }),
  )
}

const PAID = {
  trade_no: '2026112222001400000000000001',
  trade_status: 'TRADE_SUCCESS',
  total_amount: '88.88',
  send_pay_date: '2026-11-22 17:59:58',
}

async function register(outTradeNo: string, amount: number): Promise<OrderRef> {
  const reply = await admin(`/admin/merchants/${MERCHANT}/orders/${outTradeNo}`, {
    method: 'PUT',
    body: JSON.stringify({ amount, channel: 'alipay' }),
  })
  expect(reply.status).toBe(200)
  return { merchantId: MERCHANT, provider: 'alipay', outTradeNo }
}

describe('reconciliation by provider query', () => {
  beforeAll(async () => {
    await putFixtureMerchant(MERCHANT, withQueryKeys)
  })

  it('plans the first query two minutes after registration, and does not ask before', async () => {
    const order = await register('T-RECON-WAIT', 100)
    const view = await getOrder(MERCHANT, order.outTradeNo)
    const plan = (view as unknown as { reconciliation: { next_query_at: string; queries_made: number } }).reconciliation
    const dueIn = Date.parse(plan.next_query_at) - Date.now()
    expect(dueIn).toBeGreaterThan(100_000)
    expect(dueIn).toBeLessThanOrEqual(120_000)
    // No provider handler is installed: an early query would fail the test with an unhandled request.
    await runDurableObjectAlarm(orderStub(env, order))
    expect((await getOrder(MERCHANT, order.outTradeNo)).status).toBe('pending')
  })

  it('pays a registered order whose notification never came, forwards it once, and ignores the late notification', async () => {
    const forwarded = recordForwarded()
    const { asked } = alipayAnswers(PAID)
    const order = await register('T20261122-0001', 8888)
    await runDueQuery(order)
    expect(asked).toEqual(['T20261122-0001'])

    const paid = await getOrder(MERCHANT, order.outTradeNo)
    expect(paid.status).toBe('paid')
    expect(paid.events.map((e) => e.type)).toEqual(['payment.succeeded'])
    expect(paid.notifications).toMatchObject([{ verdict: 'accepted', source: 'query' }])
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))

    // Alipay's notification finally arrives: accepted, but the payment is already known.
    const late = await notify('alipay', MERCHANT, alipayFixtures.cases.tradeSuccessUtf8)
    expect(await late.text()).toBe('success')
    const after = await getOrder(MERCHANT, order.outTradeNo)
    expect(after.events).toHaveLength(1)
    expect(after.notifications.map((n) => n.verdict)).toEqual(['accepted', 'accepted'])
    await runDurableObjectAlarm(orderStub(env, order))
    expect(forwarded).toHaveLength(1)
  })

  it('keeps waiting while the provider says the trade does not exist, backing off', async () => {
    tradeNotExist()
    const order = await register('T-RECON-NOTYET', 500)
    await runDueQuery(order)
    const view = (await getOrder(MERCHANT, order.outTradeNo)) as unknown as {
      status: string
      reconciliation: { next_query_at: string; queries_made: number; last_result: string }
    }
    expect(view.status).toBe('pending')
    expect(view.reconciliation).toMatchObject({ queries_made: 1, last_result: 'alipay not paid: ACQ.TRADE_NOT_EXIST' })
    const next = Date.parse(view.reconciliation.next_query_at) - Date.now()
    expect(next).toBeGreaterThan(4 * 60_000)
    expect(next).toBeLessThanOrEqual(5 * 60_000)
  })

  it('refuses a forged "paid" answer: nothing changes, nothing is forwarded', async () => {
    const forwarded = recordForwarded()
    alipayAnswers(PAID, keys.stranger.privateKeyPem)
    const order = await register('T-RECON-FORGED', 8888)
    await runDueQuery(order)
    const view = (await getOrder(MERCHANT, order.outTradeNo)) as unknown as {
      status: string
      events: unknown[]
      reconciliation: { last_result: string }
    }
    expect(view).toMatchObject({ status: 'pending', events: [] })
    expect(view.reconciliation.last_result).toBe('alipay failed: signature_invalid')
    expect(forwarded).toHaveLength(0)
  })

  it('queries on demand through POST .../sync', async () => {
    alipayAnswers({ ...PAID, total_amount: '3.00' })
    await register('T-RECON-SYNC', 300)
    const reply = await admin(`/admin/merchants/${MERCHANT}/orders/T-RECON-SYNC/sync?provider=alipay`, { method: 'POST' })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toMatchObject({ results: [{ provider: 'alipay', status: 'paid' }] })
  })

  it('syncs an order it never saw: the provider’s payment is recorded and forwarded, asked about once', async () => {
    const forwarded = recordForwarded()
    const { asked } = alipayAnswers({ ...PAID, total_amount: '4.00' })
    const reply = await admin(`/admin/merchants/${MERCHANT}/orders/T-RECON-UNSEEN/sync?provider=alipay`, { method: 'POST' })
    expect(await reply.json()).toMatchObject({ results: [{ provider: 'alipay', status: 'paid', query: 'alipay paid (accepted)' }] })
    expect(asked).toEqual(['T-RECON-UNSEEN'])
    expect(await getOrder(MERCHANT, 'T-RECON-UNSEEN')).toMatchObject({ status: 'paid', amount: 400 })
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo: 'T-RECON-UNSEEN' }))
    await vi.waitFor(() =>
      expect(forwarded.filter((f) => f.body.includes('T-RECON-UNSEEN')).map((f) => f.type)).toEqual(['payment.succeeded']),
    )
  })

  it('syncs an order neither it nor the provider knows: nothing is stored or watched, and GET still answers 404', async () => {
    tradeNotExist()
    const reply = await admin(`/admin/merchants/${MERCHANT}/orders/T-RECON-TYPO/sync?provider=alipay`, { method: 'POST' })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toMatchObject({
      results: [{ provider: 'alipay', status: 'pending', query: 'alipay not paid: ACQ.TRADE_NOT_EXIST' }],
    })
    expect((await admin(`/admin/merchants/${MERCHANT}/orders/T-RECON-TYPO`)).status).toBe(404)
    await runInDurableObject(
      orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo: 'T-RECON-TYPO' }),
      async (_o, state) => {
        expect(await state.storage.getAlarm()).toBeNull()
      },
    )
  })

  it('confirms a doubtful notification by query: an amount mismatch triggers one query at once', async () => {
    const { asked } = alipayAnswers({ ...PAID, total_amount: '88.88' })
    const order = await register('T20261122-0001X', 100)
    await runInDurableObject(orderStub(env, order), async (instance: OrderObject) => {
      const notification = {
        channel: 'alipay' as const,
        provider: 'alipay' as const,
        notificationId: 'doubtful-1',
        outTradeNo: order.outTradeNo,
        effect: { kind: 'payment' as const, amount: 8888, currency: 'CNY', transactionId: PAID.trade_no, paidAt: null },
        raw: {},
      }
      const settings = {
        forward: { url: 'https://merchant.example/hooks/payments', secret: `whsec_${btoa('forward-secret-for-e2e-tests-32b')}` },
        version: 1,
      }
      expect((await instance.ingest({ order, notification, settings, receivedAt: Date.now(), source: 'notify' })).verdict).toBe('rejected')
    })
    await runDurableObjectAlarm(orderStub(env, order))
    expect(asked).toEqual(['T20261122-0001X'])
    // The signed answer says 88.88 too: the registration (1.00) is what is wrong, so the order stays flagged.
    const view = await getOrder(MERCHANT, order.outTradeNo)
    expect(view.status).toBe('amount_mismatch')
    expect(view.notifications.map((n) => [n.verdict, n.reason])).toEqual([
      ['rejected', 'amount_mismatch'],
      ['rejected', 'amount_mismatch'],
    ])
  })
})

describe('a merchant that registers every order', () => {
  beforeAll(async () => {
    await putFixtureMerchant('strict', { ...withQueryKeys, requireRegisteredOrders: true })
  })

  it('treats a payment for an unregistered order as doubtful: rejected, confirmed by query, then the retry is accepted', async () => {
    const forwarded = recordForwarded()
    const { asked } = alipayAnswers(PAID)
    const first = await notify('alipay', 'strict', alipayFixtures.cases.tradeSuccessUtf8)
    expect(first.status).toBe(409)
    expect(await first.text()).toBe('failure')
    const order = { merchantId: 'strict', provider: 'alipay' as const, outTradeNo: 'T20261122-0001' }
    expect((await getOrder('strict', order.outTradeNo)).status).toBe('pending')

    // The query planned by the doubtful notification runs at once; its signed answer pays the order.
    await runDurableObjectAlarm(orderStub(env, order))
    expect(asked).toEqual(['T20261122-0001'])
    const paid = await getOrder('strict', order.outTradeNo)
    expect(paid.status).toBe('paid')
    expect(paid.notifications.map((n) => [n.verdict, n.reason])).toEqual([
      ['rejected', 'order_not_registered'],
      ['accepted', null],
    ])
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))

    // Alipay retries its notification: accepted now, and nothing new happens.
    expect(await (await notify('alipay', 'strict', alipayFixtures.cases.tradeSuccessUtf8)).text()).toBe('success')
    expect((await getOrder('strict', order.outTradeNo)).events).toHaveLength(1)
  })

  it('accepts payments for orders it registered as usual', async () => {
    const view = (await (await admin('/admin/merchants/strict')).json()) as { requireRegisteredOrders?: boolean }
    expect(view.requireRegisteredOrders).toBe(true)
    await admin('/admin/merchants/strict/orders/T20251124002', {
      method: 'PUT',
      body: JSON.stringify({ amount: 100, channel: 'wechatpay.v2' }),
    })
    const reply = await notify('wechatpay.v2', 'strict', v2Fixtures.cases.md5WithoutSignType)
    expect(reply.status).toBe(200)
    expect((await getOrder('strict', 'T20251124002')).status).toBe('paid')
  })
})

describe('doubt needs a way to be resolved', () => {
  // Contract part 2 changed this: a refund that carries the payment's facts (Alipay total_amount with
  // gmt_payment) proves the payment, so it is no longer refused until the payment's own notification.
  it('a refund of a payment not seen yet that carries no payment facts is refused until the payment is known, then applied', async () => {
    await putFixtureMerchant('refund-first')
    const early = await notify('alipay', 'refund-first', alipayFixtures.cases.partialRefundWithoutPayment)
    expect(early.status).toBe(409)
    expect(await early.text()).toBe('failure')
    const pending = await getOrder('refund-first', 'T20261122-0021')
    expect(pending).toMatchObject({ status: 'pending', events: [] })
    expect(pending.notifications).toMatchObject([{ verdict: 'rejected', reason: 'refund_before_payment' }])

    expect(await (await notify('alipay', 'refund-first', alipayFixtures.cases.paymentBeforeRefundWithoutPayment)).text()).toBe('success')
    // Alipay retries the refund notification: now it applies, after the payment.
    expect(await (await notify('alipay', 'refund-first', alipayFixtures.cases.partialRefundWithoutPayment)).text()).toBe('success')
    const order = await getOrder('refund-first', 'T20261122-0021')
    expect(order.status).toBe('partially_refunded')
    expect(order.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
  })

  it('a refund of a payment not seen yet that carries the payment facts records the payment first, then the refund', async () => {
    await putFixtureMerchant('refund-proves')
    const early = await notify('alipay', 'refund-proves', alipayFixtures.cases.partialRefund)
    expect(await early.text()).toBe('success')
    const order = await getOrder('refund-proves', 'T20261122-0001')
    expect(order).toMatchObject({ status: 'partially_refunded', amount: 8888 })
    expect(order.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
    expect(order.events[0]!.data).toMatchObject({ amount: 8888, paid_at: '2026-11-22T09:59:58Z', refund: null })
    expect(order.events[1]!.data).toMatchObject({ refund: { out_refund_no: 'R20261123-0001', amount: 3000, total_refunded: 3000 } })
    // The payment's own notification arrives late: accepted, nothing new.
    expect(await (await notify('alipay', 'refund-proves', alipayFixtures.cases.tradeSuccessUtf8)).text()).toBe('success')
    expect((await getOrder('refund-proves', 'T20261122-0001')).events).toHaveLength(2)
  })
})

describe('a merchant that registers every order, with no keys to query them', () => {
  beforeAll(async () => {
    await putFixtureMerchant('strict-no-query', { requireRegisteredOrders: true })
  })

  it('refuses a payment for an unregistered order until the merchant registers it, then takes the retry', async () => {
    const forwarded = recordForwarded()
    const first = await notify('alipay', 'strict-no-query', alipayFixtures.cases.tradeSuccessUtf8)
    expect(first.status).toBe(409)
    expect(await first.text()).toBe('failure')
    const order = { merchantId: 'strict-no-query', provider: 'alipay' as const, outTradeNo: 'T20261122-0001' }
    // Nothing to ask the provider with: no query is planned, nothing is paid or forwarded.
    await runDurableObjectAlarm(orderStub(env, order))
    const refused = await getOrder('strict-no-query', order.outTradeNo)
    expect(refused).toMatchObject({ status: 'pending', events: [] })
    expect(refused.notifications.map((n) => [n.verdict, n.reason])).toEqual([['rejected', 'order_not_registered']])

    // The merchant registers it; Alipay's retry is accepted and forwarded once.
    const registered = await admin('/admin/merchants/strict-no-query/orders/T20261122-0001', {
      method: 'PUT',
      body: JSON.stringify({ amount: 8888, channel: 'alipay' }),
    })
    expect(registered.status).toBeLessThan(300)
    expect(await (await notify('alipay', 'strict-no-query', alipayFixtures.cases.tradeSuccessUtf8)).text()).toBe('success')
    expect((await getOrder('strict-no-query', order.outTradeNo)).status).toBe('paid')
    await runDurableObjectAlarm(orderStub(env, order))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))
  })
})
