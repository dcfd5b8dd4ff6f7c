/**
 * Secret leakage: a run of genuine and hostile notifications on every channel, failing merchants, D1
 * outages, an order object reset, and admin calls right and wrong, with every console line captured.
 * No secret the gateway holds (APIv2/APIv3 keys, webhook secrets, ADMIN_TOKEN, MASTER_KEY) and no full
 * signature (provider signatures received, webhook signatures sent) may appear in a log line, in any
 * reply, in the admin API's views, or in the D1 tables. Sealed copies of secrets are fine.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { orderStub } from '../../src/order/order-key'
import { OrderObject, type IngestRequest } from '../../src/order/order-object'
import type { Channel } from '../../src/providers'
import { network } from '../msw'
import {
  admin,
  callWorker,
  FORWARD_SECRET,
  fixturePost,
  forwardUrl,
  freshPayment,
  merchantBody,
  ownKeys,
  notify,
  notifyRequest,
  PROVIDER_OF,
  unavailableD1,
} from './harness'
import { makePendingDue, objectStore } from '../support/orders'
import { setInstanceEnv } from '../support/instance-env'

const MERCHANT_ID = 'leak'
const COLD_MERCHANT_ID = 'leak-cold'
const PREVIOUS_SECRET = `whsec_${btoa('previous-forward-secret-32-bytes')}`

const SECRETS: Record<string, string> = {
  apiV2Key: keys.wechatpay.apiV2Key,
  apiV3Key: keys.wechatpay.apiV3Key,
  forwardSecret: FORWARD_SECRET,
  forwardSigningKey: FORWARD_SECRET.slice('whsec_'.length),
  previousSecret: PREVIOUS_SECRET,
  previousSigningKey: PREVIOUS_SECRET.slice('whsec_'.length),
  adminToken: env.ADMIN_TOKEN!,
  masterKey: env.MASTER_KEY!,
}

/** Every signature that crossed the wire: provider signatures in, webhook signatures out. */
const signatures = new Set<string>()
/** Everything the gateway said or wrote where someone could read it. */
const exposed: string[] = []
const consoleLines: string[] = []

async function record(response: Response): Promise<Response> {
  const text = await response.clone().text()
  exposed.push(text, JSON.stringify([...response.headers]))
  return response
}

async function send(
  channel: Channel,
  post: { body?: BodyInit | null; headers?: Record<string, string> },
  signature?: string,
): Promise<Response> {
  if (signature) signatures.add(signature)
  return record(await notify(channel, MERCHANT_ID, post))
}

function fixtureSignature(fixture: { body?: string; headers?: Record<string, string> }): string | undefined {
  return (
    fixture.headers?.['Wechatpay-Signature'] ??
    new URLSearchParams(fixture.body ?? '').get('sign') ??
    /<sign>([^<]+)<\/sign>/.exec(fixture.body ?? '')?.[1]
  )
}

beforeAll(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleLines.push(
        args
          .map((arg) =>
            arg instanceof Error ? `${arg.name}: ${arg.message} ${arg.stack ?? ''}` : typeof arg === 'string' ? arg : JSON.stringify(arg),
          )
          .join(' '),
      )
    })
  }
})

afterAll(() => vi.restoreAllMocks())

describe('no secret and no full signature leaks', () => {
  it('through a run of genuine, hostile and failing traffic', async () => {
    const body = merchantBody(MERCHANT_ID)
    await record(
      await admin(`/admin/merchants/${MERCHANT_ID}`, {
        method: 'PUT',
        body: JSON.stringify({ ...body, forward: { ...body.forward, previousSecret: PREVIOUS_SECRET } }),
      }),
    )
    // The merchant first fails, then takes events; every webhook signature it sees is recorded.
    let calls = 0
    network.use(
      http.post(`${forwardUrl('')}:merchantId`, ({ request }) => {
        for (const part of (request.headers.get('webhook-signature') ?? '').split(' ')) signatures.add(part.slice(part.indexOf(',') + 1))
        calls += 1
        return calls <= 2 ? new HttpResponse('merchant down', { status: 500 }) : HttpResponse.text('ok')
      }),
    )

    // Genuine notifications, then each sent again.
    const genuine = (['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const).map((channel) => ({ channel, payment: freshPayment(channel) }))
    for (const { channel, payment } of [...genuine, ...genuine]) await send(channel, payment, payment.signature)

    // Hostile fixtures of every kind.
    for (const name of [
      'tamperedAmount',
      'otherKeyMd5',
      'apiV3KeyUsed',
      'signOddLength',
      'xxeExternalEntity',
      'refundOtherKey',
      'wrongMchid',
    ] as const) {
      const fixture = v2Fixtures.cases[name]
      await send('wechatpay.v2', fixturePost('wechatpay.v2', fixture), fixtureSignature(fixture))
    }
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(v3Fixtures.now)
    for (const name of [
      'tamperedBody',
      'strangerKey',
      'probe',
      'signatureTypeSm2',
      'unknownSerial',
      'brokenTag',
      'otherApiV3Key',
      'wrongAppid',
    ] as const) {
      const fixture = v3Fixtures.cases[name]
      await send('wechatpay.v3', fixturePost('wechatpay.v3', fixture), fixtureSignature(fixture))
    }
    vi.useRealTimers()
    for (const name of ['tamperedAmount', 'strangerKey', 'rsaForRsa2Merchant', 'wrongSellerId', 'malformedPercent'] as const) {
      const fixture = alipayFixtures.cases[name]
      await send('alipay', fixturePost('alipay', fixture), fixtureSignature(fixture))
    }

    // D1 down: the replica path (a merchant no isolate has cached yet), deferred audits and projections all log.
    const d1 = unavailableD1()
    await record(
      await admin(`/admin/merchants/${COLD_MERCHANT_ID}`, {
        method: 'PUT',
        body: JSON.stringify(merchantBody(COLD_MERCHANT_ID, { identity: ownKeys(COLD_MERCHANT_ID) })),
      }),
    )
    const duringOutage = freshPayment('alipay', { identity: ownKeys(COLD_MERCHANT_ID) })
    signatures.add(duringOutage.signature)
    await setInstanceEnv(orderStub(env, { merchantId: COLD_MERCHANT_ID, provider: 'alipay', outTradeNo: duringOutage.outTradeNo }), {
      ...env,
      DB: d1.db,
    })
    await record(await callWorker(notifyRequest('alipay', COLD_MERCHANT_ID, duringOutage), { DB: d1.db }))
    await record(
      await callWorker(notifyRequest('wechatpay.v2', COLD_MERCHANT_ID, fixturePost('wechatpay.v2', v2Fixtures.cases.tamperedAmount)), {
        DB: d1.db,
      }),
    )

    // An order object reset after its commit: the Worker logs the failed RPC.
    const resetPayment = freshPayment('wechatpay.v2')
    const ingest = OrderObject.prototype.ingest
    const fault = vi.spyOn(OrderObject.prototype, 'ingest').mockImplementation(async function (this: OrderObject, request: IngestRequest) {
      fault.mockRestore()
      await ingest.call(this, request)
      throw new Error('connection reset')
    })
    await send('wechatpay.v2', resetPayment, resetPayment.signature)
    await send('wechatpay.v2', resetPayment)

    // Admin calls, right and wrong.
    for (const token of [null, 'wrong', `${env.ADMIN_TOKEN}x`]) await record(await admin(`/admin/merchants/${MERCHANT_ID}`, { token }))
    await record(await admin(`/admin/merchants/${MERCHANT_ID}`))
    await record(
      await admin(`/admin/merchants/${MERCHANT_ID}`, {
        method: 'PUT',
        body: JSON.stringify({ ...body, forward: { url: 'https://10.0.0.1/', secret: FORWARD_SECRET } }),
      }),
    )
    await record(
      await admin(`/admin/merchants/${MERCHANT_ID}`, {
        method: 'PUT',
        body: JSON.stringify({ ...body, forward: { ...body.forward, secret: 'whsec_short' } }),
      }),
    )
    await record(
      await admin(`/admin/merchants/${MERCHANT_ID}`, {
        method: 'PUT',
        body: JSON.stringify({ ...body, wechatpay: { ...body.wechatpay, apiV3Key: `${keys.wechatpay.apiV3Key}x` } }),
      }),
    )

    // Deliveries: failures first, then success, each attempt logged and projected.
    const delivered = [
      ...genuine.map((g) => ({ merchantId: MERCHANT_ID, ...g })),
      { merchantId: MERCHANT_ID, channel: 'wechatpay.v2' as const, payment: resetPayment },
      { merchantId: COLD_MERCHANT_ID, channel: 'alipay' as const, payment: duringOutage },
    ]
    for (const { merchantId, channel, payment } of delivered) {
      const stub = orderStub(env, { merchantId, provider: PROVIDER_OF[channel], outTradeNo: payment.outTradeNo })
      for (let i = 0; i < 3; i++) {
        await runDurableObjectAlarm(stub)
        await runInDurableObject(stub, (_o: OrderObject, _state) => {
          makePendingDue(objectStore(_o))
        })
      }
      await record(await admin(`/admin/merchants/${merchantId}/orders/${payment.outTradeNo}`))
    }
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(4))
    await record(await admin(`/admin/merchants/${MERCHANT_ID}/deliveries`))
    await record(await admin(`/admin/merchants/${MERCHANT_ID}/notifications`))

    // What D1 holds, table by table.
    for (const table of ['merchants', 'orders', 'notifications', 'deliveries']) {
      const { results } = await env.DB.prepare(`SELECT * FROM ${table}`).all()
      exposed.push(JSON.stringify(results))
    }

    // Logs are structured (contract: one JSON object per line), and the run did exercise the paths that log.
    const logged = consoleLines.map((line) => JSON.parse(line) as { event: string })
    expect(logged.map((entry) => entry.event)).toEqual(
      // (D1 being down no longer defers the audit or the projection: both go through the queue.)
      expect.arrayContaining(['merchant.replica_read', 'notification.store_failed']),
    )
    expect(signatures.size).toBeGreaterThan(20)

    const everything = [...consoleLines, ...exposed]
    for (const [name, secret] of Object.entries(SECRETS)) {
      const leaks = everything.filter((text) => text.includes(secret))
      expect(leaks, `${name} leaked`).toEqual([])
    }
    for (const signature of signatures) {
      if (signature.length < 16) continue
      const leaks = everything.filter((text) => text.includes(signature))
      expect(leaks, `signature ${signature.slice(0, 8)}… leaked`).toEqual([])
    }
  })
})
