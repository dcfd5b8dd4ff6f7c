/**
 * A fourth provider, added from outside src/: the gateway built with `createGateway` from the default
 * descriptors plus "examplepay" verifies its notifications, stores each payment once in the real order
 * objects and D1, and forwards one signed event to the merchant.
 */
import { createHmac } from 'node:crypto'
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { Webhook } from 'standardwebhooks'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { createGateway } from '../../src/http/gateway'
import { orderStub } from '../../src/order/order-key'
import { defaultProviders, defineProvider } from '../../src/providers'
import { defineQueryClient, queryNotification } from '../../src/providers/core/query-exchange'
import { network } from '../msw'
import { ADMIN_TOKEN, FORWARD_SECRET } from '../support/gateway'
import { examplepay, type ExamplepayConfig } from './examplepay'
import { PROJECTION_WAIT } from '../support/orders'

const gateway = createGateway({ providers: [...defaultProviders, examplepay] })
const MERCHANT = 'expay-shop'
const MERCHANT_NO = 'EX1001'
const SIGNING_SECRET = 'examplepay-signing-secret-0123456789'
const FORWARD_URL = 'https://merchant.example/hooks/examplepay'

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext()
  const request = new Request(`https://gw.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>
  const response = await gateway.worker.fetch!(request, env, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

function notification(outTradeNo: string, id = `EXN-${outTradeNo}`): string {
  return JSON.stringify({
    id,
    merchant_no: MERCHANT_NO,
    out_trade_no: outTradeNo,
    status: 'PAID',
    amount: 4321,
    transaction_id: `EXT-${outTradeNo}`,
    paid_at: '2026-11-29T08:00:00Z',
  })
}

/** Signed by node:crypto, not by the adapter's WebCrypto code. */
function post(body: string, signature = createHmac('sha256', SIGNING_SECRET).update(body).digest('hex')): Promise<Response> {
  return call(`/notify/${MERCHANT}/examplepay`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-examplepay-signature': signature },
  })
}

interface Forwarded {
  body: string
  headers: Record<string, string>
}

function recordForwarded(): Forwarded[] {
  const calls: Forwarded[] = []
  network.use(
    http.post(FORWARD_URL, async ({ request }) => {
      calls.push({ body: await request.text(), headers: Object.fromEntries(request.headers) })
      return HttpResponse.text('ok')
    }),
  )
  return calls
}

async function drain(outTradeNo: string): Promise<void> {
  await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'examplepay', outTradeNo }))
}

describe('a provider added through one descriptor', () => {
  beforeAll(async () => {
    const response = await call(`/admin/merchants/${MERCHANT}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        forward: { url: FORWARD_URL, secret: FORWARD_SECRET },
        examplepay: { merchantNo: MERCHANT_NO, signingSecret: SIGNING_SECRET },
      }),
    })
    expect(response.status).toBe(201)
    const view = await response.json()
    expect(view).toEqual({ forward: { url: FORWARD_URL }, examplepay: { merchantNo: MERCHANT_NO } })
  })

  it('keeps its secret sealed in D1 and out of GET', async () => {
    const row = await env.DB.prepare('SELECT config FROM merchants WHERE id = ?').bind(MERCHANT).first<{ config: string }>()
    expect(row?.config).not.toContain(SIGNING_SECRET)
    expect(JSON.parse(row!.config).sealed).toContain('examplepay.signingSecret')
    const view = await (await call(`/admin/merchants/${MERCHANT}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()
    expect(view).not.toContain(SIGNING_SECRET)
    expect(JSON.parse(view)).toMatchObject({ examplepay: { merchantNo: MERCHANT_NO } })
  })

  it('turns a signed notification into one verified payment.succeeded at the merchant; a duplicate into nothing', async () => {
    const forwarded = recordForwarded()
    const body = notification('EX-ORDER-1')
    const accepted = await post(body)
    expect(accepted.status).toBe(200)
    expect(await accepted.json()).toEqual({ ok: true })
    await drain('EX-ORDER-1')
    expect(forwarded).toHaveLength(1)
    const event = new Webhook(FORWARD_SECRET.slice('whsec_'.length)).verify(forwarded[0]!.body, forwarded[0]!.headers) as {
      type: string
      data: Record<string, unknown>
    }
    expect(event.type).toBe('payment.succeeded')
    expect(event.data).toMatchObject({
      merchant_id: MERCHANT,
      provider: 'examplepay',
      channel: 'examplepay',
      out_trade_no: 'EX-ORDER-1',
      amount: 4321,
      transaction_id: 'EXT-EX-ORDER-1',
    })

    const again = await post(body)
    expect(again.status).toBe(200)
    await drain('EX-ORDER-1')
    expect(forwarded).toHaveLength(1)

    const order = await call(`/admin/merchants/${MERCHANT}/orders/EX-ORDER-1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(await order.json()).toMatchObject({ provider: 'examplepay', status: 'paid', amount: 4321 })
    // The D1 projection takes a provider the schema has never heard of.
    await vi.waitFor(async () => {
      const projected = await env.DB.prepare('SELECT provider, status FROM orders WHERE merchant_id = ? AND out_trade_no = ?')
        .bind(MERCHANT, 'EX-ORDER-1')
        .first()
      expect(projected).toEqual({ provider: 'examplepay', status: 'paid' })
    }, PROJECTION_WAIT)
  })

  it('answers a bad signature with its own reject reply and forwards nothing', async () => {
    const forwarded = recordForwarded()
    const refused = await post(notification('EX-ORDER-2'), 'ab'.repeat(32))
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ ok: false, reason: 'signature_invalid' })
    const wrongMerchant = await post(notification('EX-ORDER-2').replace(MERCHANT_NO, 'EX9999'))
    expect(wrongMerchant.status).toBe(403)
    await drain('EX-ORDER-2')
    expect(forwarded).toHaveLength(0)
  })

  it('is the test gateway’s alone: the default Worker has no such route', async () => {
    const response = await exports.default.fetch(`https://gw.test/notify/${MERCHANT}/examplepay`, {
      method: 'POST',
      body: notification('EX-ORDER-3'),
    })
    expect(response.status).toBe(404)
  })
})

describe("the same provider's order queries, through the objects built from the gateway's providers", () => {
  const asked: string[] = []
  const examplepayQuery = defineQueryClient<ExamplepayConfig, ExamplepayConfig>({
    channel: 'examplepay',
    provider: 'examplepay',
    configOf: (section) => section ?? null,
    missingKeys: 'no examplepay keys',
    async query(_config, outTradeNo) {
      asked.push(outTradeNo)
      const payment = { kind: 'payment' as const, amount: 4321, currency: 'CNY', transactionId: `EXT-${outTradeNo}`, paidAt: null }
      return { kind: 'paid', notification: queryNotification('examplepay', 'examplepay', outTradeNo, payment, {}) }
    },
  })
  const providers = [...defaultProviders, defineProvider({ ...examplepay, queries: [examplepayQuery] })]
  const withQueries = createGateway({ providers })
  const CONFIRMING = 'expay-confirming'

  it("confirms a payment with the added provider's query client when the merchant asks for confirmation", async () => {
    network.use(http.post(FORWARD_URL, () => HttpResponse.text('ok')))
    const put = async (path: string, init: RequestInit) => {
      const ctx = createExecutionContext()
      const response = await withQueries.worker.fetch!(new Request(`https://gw.test${path}`, init) as never, env, ctx)
      await waitOnExecutionContext(ctx)
      return response
    }
    const saved = await put(`/admin/merchants/${CONFIRMING}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        forward: { url: FORWARD_URL, secret: FORWARD_SECRET },
        confirmPaymentsByQuery: true,
        examplepay: { merchantNo: 'EXC1', signingSecret: SIGNING_SECRET },
      }),
    })
    expect(saved.status).toBe(201)
    const body = JSON.stringify({ ...JSON.parse(notification('EXC-1')), merchant_no: 'EXC1' })
    const accepted = await put(`/notify/${CONFIRMING}/examplepay`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-examplepay-signature': createHmac('sha256', SIGNING_SECRET).update(body).digest('hex'),
      },
    })
    expect(accepted.status).toBeLessThan(300)
    const stub = orderStub(env, { merchantId: CONFIRMING, provider: 'examplepay', outTradeNo: 'EXC-1' })
    expect((await stub.snapshot())?.status).toBe('pending')
    // The alarm run of the class built from these providers (the default class knows no examplepay client), read
    // through that instance: each instance keeps its own copy of the rows it read.
    const after = await runInDurableObject(stub, async (_instance, state) => {
      const object = new withQueries.OrderObject(state, env)
      await object.alarm()
      return object.snapshot()
    })
    expect(asked).toEqual(['EXC-1'])
    expect(after?.status).toBe('paid')
  })
})
