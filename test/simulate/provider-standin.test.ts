/**
 * @module The provider stand-in `npm run dev` runs (scripts/provider-standin.mjs) against the gateway's real order-query
 * clients: test/simulate/global-setup.mjs starts it as a Node process on a loopback port, and every query here goes
 * from the order object over the network to it and back. If the stand-in's signing drifts from what the gateway
 * verifies (or the gateway's request signing from what the stand-in checks), these tests fail.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, passthrough } from 'msw'
import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { orderStub } from '../../src/order/order-key'
import type { Channel, Provider } from '../../src/providers'
import { network } from '../msw'
import { merchantReplica } from '../../src/merchants/merchant-replica'
import { admin, FORWARD_SECRET, FORWARD_URL, getOrder, notify, recordForwarded, withOwnIds } from '../support/gateway'
import { SEC_WECHAT, v3Payment } from '../security/signing'
import { v3CombinedNotify } from '../support/combined'

interface MerchantBody {
  forward: { url: string; secret: string }
  wechatpay: Record<string, unknown> & { platformPublicKeys: Record<string, string> }
  alipay: Record<string, unknown>
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExportsInTest: augments vitest's ProvidedContext next to its only reader
  export interface ProvidedContext {
    standin: {
      url: string
      merchant: MerchantBody
      subMerchant: { forward: MerchantBody['forward']; wechatpay: MerchantBody['wechatpay'] }
    }
  }
}

const standin = inject('standin')
const OTHER_API_V2_KEY = 'qW7eR2tY9uI4oP1aS6dF3gH8jK0lZ5xC'

/** The demo merchant as `npm run dev` seeds it (stand-in URLs, query keys), and variants of it. */
function merchant(change: (body: MerchantBody) => void = () => {}): MerchantBody {
  const body = structuredClone(standin.merchant)
  body.forward = { url: FORWARD_URL, secret: FORWARD_SECRET }
  change(body)
  return body
}

/** Without the merchant API key the gateway queries WeChat Pay through APIv2. */
function v2Only(signTypes: string[]): (body: MerchantBody) => void {
  return (body) => {
    delete body.wechatpay.merchantPrivateKey
    delete body.wechatpay.merchantSerial
    body.wechatpay.v2SignType = signTypes
  }
}

const MERCHANTS = {
  'standin-demo': merchant(),
  'standin-v2-hmac': merchant(v2Only(['MD5', 'HMAC-SHA256'])),
  'standin-v2-md5': merchant(v2Only(['MD5'])),
  // Platform certificates only: the request names no key, so the stand-in answers with certificate A.
  'standin-certs': merchant((body) => {
    const { platformCertA, platformCertB } = keys.wechatpay
    body.wechatpay.platformPublicKeys = {
      [platformCertA.serial]: platformCertA.certificatePem,
      [platformCertB.serial]: platformCertB.certificatePem,
    }
  }),
  // Request-signing keys the stand-in does not know the merchant by.
  'standin-strangers': merchant((body) => {
    body.wechatpay.merchantPrivateKey = keys.stranger.privateKeyPem
    body.alipay.appPrivateKey = keys.stranger.privateKeyPem
  }),
  'standin-v2-stranger': merchant((body) => {
    v2Only(['MD5', 'HMAC-SHA256'])(body)
    body.wechatpay.apiV2Key = OTHER_API_V2_KEY
  }),
}
/** The demo sub-merchant as `npm run dev` seeds it: partner mode, platform certificates downloaded from the stand-in. */
function subMerchant(change: (body: typeof standin.subMerchant) => void = () => {}): typeof standin.subMerchant {
  const body = structuredClone(standin.subMerchant)
  body.forward = { url: FORWARD_URL, secret: FORWARD_SECRET }
  change(body)
  return body
}
const SUB_MERCHANTS = {
  'standin-sub': subMerchant(),
  'standin-sub-v2': subMerchant((body) => {
    delete body.wechatpay.merchantPrivateKey
    delete body.wechatpay.merchantSerial
    delete body.wechatpay.autoPlatformCertificates
  }),
}
type MerchantId = keyof typeof MERCHANTS | keyof typeof SUB_MERCHANTS

interface SyncResult {
  provider: Provider
  status: string
  query: string
  /** One line per refund the sync asked about: none here. */
  refunds: string[]
}

/** What `--no-notify` does first: the merchant registers the order's amount. */
async function register(merchantId: MerchantId, outTradeNo: string, channel: Channel): Promise<void> {
  const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, {
    method: 'PUT',
    body: JSON.stringify({ amount: 8888, currency: 'CNY', channel }),
  })
  expect(reply.status).toBe(200)
  // Registration sets an alarm for now; run it before sync, or it may query the provider alongside sync's own query.
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider: channel === 'alipay' ? 'alipay' : 'wechatpay', outTradeNo }))
}

/** The sync call `simulate` prints: the order object queries the stand-in now. */
async function sync(merchantId: MerchantId, outTradeNo: string, provider: Provider): Promise<SyncResult> {
  const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=${provider}`, { method: 'POST' })
  expect(reply.status).toBe(200)
  const { results } = (await reply.json()) as { results: SyncResult[] }
  expect(results).toHaveLength(1)
  return results[0]!
}

const BODIES: Record<MerchantId, object> = { ...MERCHANTS, ...SUB_MERCHANTS }

/**
 * The stand-in knows one merchant (and one sub-merchant of it), by their provider ids, and no two merchants may
 * claim one provider identity: of the direct merchants (and of the sub-merchants) one at a time holds the demo's
 * ids, the others hold ids of their own. Starting with the demo merchant and the demo sub-merchant.
 */
const holders = { direct: 'standin-demo', sub: 'standin-sub' } as Record<'direct' | 'sub', MerchantId>
const groupOf = (id: MerchantId): 'direct' | 'sub' => (Object.hasOwn(SUB_MERCHANTS, id) ? 'sub' : 'direct')

/** Makes `merchantId` the one holding the demo's ids: the one that held them is saved again with ids of its own. */
async function holding(merchantId: MerchantId): Promise<void> {
  const previous = holders[groupOf(merchantId)]
  if (previous === merchantId) return
  const save = async (id: MerchantId, body: object) =>
    expect((await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })).status).toBe(200)
  await save(previous, withOwnIds(previous, BODIES[previous]))
  await save(merchantId, BODIES[merchantId])
  holders[groupOf(merchantId)] = merchantId
}

beforeAll(async () => {
  for (const [id, demoBody] of Object.entries(BODIES) as [MerchantId, object][]) {
    const body = Object.values(holders).includes(id) ? demoBody : withOwnIds(id, demoBody)
    const reply = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
    expect({ id, status: reply.status, body: reply.status === 201 ? null : await reply.text() }).toEqual({ id, status: 201, body: null })
  }
})

beforeEach(() => {
  // The stand-in is real: let the order objects' queries through to it.
  network.use(http.all(`${standin.url}/*`, () => passthrough()))
})

describe('a payment whose notification was lost, found by querying the provider stand-in', () => {
  const cases: { title: string; merchantId: MerchantId; channel: Channel; outTradeNo: string; client: Channel }[] = [
    {
      title: 'alipay (alipay.trade.query, RSA2)',
      merchantId: 'standin-demo',
      channel: 'alipay',
      outTradeNo: 'STANDIN-LOST-ALIPAY',
      client: 'alipay',
    },
    {
      title: 'wechatpay.v3 in public-key mode (answer signed with the PUB_KEY_ID key the request names)',
      merchantId: 'standin-demo',
      channel: 'wechatpay.v3',
      outTradeNo: 'STANDIN-LOST-V3',
      client: 'wechatpay.v3',
    },
    {
      title: 'wechatpay.v3 with platform certificates only (answer signed with certificate A)',
      merchantId: 'standin-certs',
      channel: 'wechatpay.v3',
      outTradeNo: 'STANDIN-LOST-V3-CERT',
      client: 'wechatpay.v3',
    },
    {
      title: 'wechatpay.v2 with HMAC-SHA256',
      merchantId: 'standin-v2-hmac',
      channel: 'wechatpay.v2',
      outTradeNo: 'STANDIN-LOST-V2-HMAC',
      client: 'wechatpay.v2',
    },
    {
      title: 'wechatpay.v2 with MD5',
      merchantId: 'standin-v2-md5',
      channel: 'wechatpay.v2',
      outTradeNo: 'STANDIN-LOST-V2-MD5',
      client: 'wechatpay.v2',
    },
  ]

  for (const { title, merchantId, channel, outTradeNo, client } of cases) {
    it(`${title}: the verified answer pays the order and forwards one payment.succeeded`, async () => {
      const forwarded = recordForwarded()
      const provider: Provider = channel === 'alipay' ? 'alipay' : 'wechatpay'
      await holding(merchantId)
      await register(merchantId, outTradeNo, channel)
      expect((await getOrder(merchantId, outTradeNo)).status).toBe('pending')

      expect(await sync(merchantId, outTradeNo, provider)).toEqual({
        provider,
        status: 'paid',
        query: `${client} paid (accepted)`,
        refunds: [],
      })
      const order = await getOrder(merchantId, outTradeNo)
      expect(order.notifications).toMatchObject([{ verdict: 'accepted', source: 'query' }])
      expect(order.events).toHaveLength(1)
      expect(order.events[0]).toMatchObject({
        type: 'payment.succeeded',
        data: { channel: client, out_trade_no: outTradeNo, amount: 8888, currency: 'CNY' },
      })

      // Asking again learns the same fact: a duplicate, nothing new forwarded.
      expect(await sync(merchantId, outTradeNo, provider)).toMatchObject({ status: 'paid', query: `${client} paid (duplicate)` })
      await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
      await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))
    })
  }
})

describe('what else the stand-in answers', () => {
  it('orders it does not know are not paid, in each API’s own words', async () => {
    const asked: [MerchantId, Provider, string][] = [
      ['standin-demo', 'alipay', 'alipay not paid: ACQ.TRADE_NOT_EXIST'],
      ['standin-demo', 'wechatpay', 'wechatpay.v3 not paid: ORDER_NOT_EXIST'],
      ['standin-v2-hmac', 'wechatpay', 'wechatpay.v2 not paid: ORDERNOTEXIST'],
    ]
    for (const [merchantId, provider, query] of asked) {
      await holding(merchantId)
      expect(await sync(merchantId, 'STANDIN-NEVER-PAID', provider)).toEqual({ provider, status: 'pending', query, refunds: [] })
    }
  })

  it('orders refunded since they were paid are reported as the payment (Alipay TRADE_CLOSED, WeChat REFUND)', async () => {
    const forwarded = recordForwarded()
    await holding('standin-demo')
    expect(await sync('standin-demo', 'STANDIN-REFUNDED-ALIPAY', 'alipay')).toEqual({
      provider: 'alipay',
      status: 'paid',
      query: 'alipay refunded (accepted)',
      refunds: [],
    })
    expect(await sync('standin-demo', 'STANDIN-REFUNDED-V3', 'wechatpay')).toEqual({
      provider: 'wechatpay',
      status: 'paid',
      query: 'wechatpay.v3 refunded (accepted)',
      refunds: [],
    })
    // A payment found by an on-demand sync is forwarded like a notified one.
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'standin-demo', provider: 'alipay', outTradeNo: 'STANDIN-REFUNDED-ALIPAY' }))
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'standin-demo', provider: 'wechatpay', outTradeNo: 'STANDIN-REFUNDED-V3' }))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'payment.succeeded']))
  })

  for (const [merchantId, channel, provider, outTradeNo, client] of [
    ['standin-demo', 'alipay', 'alipay', 'STANDIN-REFUND-ALIPAY', 'alipay'],
    ['standin-demo', 'wechatpay.v3', 'wechatpay', 'STANDIN-REFUND-V3', 'wechatpay.v3'],
    ['standin-v2-hmac', 'wechatpay.v2', 'wechatpay', 'STANDIN-REFUND-V2', 'wechatpay.v2'],
  ] as const) {
    it(`a registered refund whose notification was lost is found by the ${client} refund query: refund.succeeded after the payment`, async () => {
      const forwarded = recordForwarded()
      await holding(merchantId)
      await register(merchantId, outTradeNo, channel)
      expect((await sync(merchantId, outTradeNo, provider)).status).toBe('paid')
      const refund = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/${outTradeNo}-RF1`, {
        method: 'PUT',
        body: JSON.stringify({ amount: 1000, channel }),
      })
      expect(await refund.json()).toMatchObject({ status: 'pending', order_status: 'paid' })
      expect(await sync(merchantId, outTradeNo, provider)).toMatchObject({
        status: 'partially_refunded',
        refunds: [`${outTradeNo}-RF1: ${client} succeeded (accepted)`],
      })
      await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
      await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'refund.succeeded']))
      const order = await getOrder(merchantId, outTradeNo)
      expect(order.events.at(-1)!.data).toMatchObject({
        refund: { out_refund_no: `${outTradeNo}-RF1`, amount: 1000, total_refunded: 1000 },
      })
    })
  }

  it('refuses requests signed with keys that are not the merchant’s, so the gateway learns nothing', async () => {
    const forwarded = recordForwarded()
    // Each order is paid at the provider, but only a correctly signed request may learn that.
    const asked: [MerchantId, Provider, string, string][] = [
      ['standin-strangers', 'alipay', 'STANDIN-LOST-ALIPAY', 'alipay failed: provider_error'],
      ['standin-strangers', 'wechatpay', 'STANDIN-LOST-V3', 'wechatpay.v3 failed: provider_error'],
      ['standin-v2-stranger', 'wechatpay', 'STANDIN-LOST-V2-HMAC', 'wechatpay.v2 failed: provider_error'],
    ]
    for (const [merchantId, provider, outTradeNo, query] of asked) {
      await holding(merchantId)
      expect(await sync(merchantId, outTradeNo, provider)).toEqual({ provider, status: 'pending', query, refunds: [] })
    }
    expect(forwarded).toEqual([])
  })
})

describe('the demo sub-merchant (partner mode) at the stand-in', () => {
  it('finds its lost payments through the partner endpoints (v3 and v2), and only there', async () => {
    const forwarded = recordForwarded()
    await holding('standin-sub')
    await register('standin-sub', 'STANDIN-LOST-PARTNER-V3', 'wechatpay.v3')
    expect(await sync('standin-sub', 'STANDIN-LOST-PARTNER-V3', 'wechatpay')).toEqual({
      provider: 'wechatpay',
      status: 'paid',
      query: 'wechatpay.v3 paid (accepted)',
      refunds: [],
    })
    await holding('standin-sub-v2')
    await register('standin-sub-v2', 'STANDIN-LOST-PARTNER-V2', 'wechatpay.v2')
    expect(await sync('standin-sub-v2', 'STANDIN-LOST-PARTNER-V2', 'wechatpay')).toEqual({
      provider: 'wechatpay',
      status: 'paid',
      query: 'wechatpay.v2 paid (accepted)',
      refunds: [],
    })
    // The service provider's own (direct) query does not see a sub-merchant's order.
    await holding('standin-demo')
    expect(await sync('standin-demo', 'STANDIN-LOST-PARTNER-V3', 'wechatpay')).toEqual({
      provider: 'wechatpay',
      status: 'pending',
      query: 'wechatpay.v3 not paid: ORDER_NOT_EXIST',
      refunds: [],
    })
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'standin-sub', provider: 'wechatpay', outTradeNo: 'STANDIN-LOST-PARTNER-V3' }))
    await runDurableObjectAlarm(
      orderStub(env, { merchantId: 'standin-sub-v2', provider: 'wechatpay', outTradeNo: 'STANDIN-LOST-PARTNER-V2' }),
    )
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'payment.succeeded']))
  })

  it('downloads the platform certificates the stand-in serves, and verifies a notification signed with one', async () => {
    const forwarded = recordForwarded()
    await holding('standin-sub')
    await runDurableObjectAlarm(merchantReplica(env, 'standin-sub'))
    const view = (await (await admin('/admin/merchants/standin-sub')).json()) as {
      wechatpay: { platformKeys: { serial: string; source: string }[] }
    }
    const { platformCertA, platformCertB, publicKeyMode } = keys.wechatpay
    expect(view.wechatpay.platformKeys.map((k) => `${k.source} ${k.serial}`).sort()).toEqual(
      [`configured ${publicKeyMode.id}`, `downloaded ${platformCertA.serial}`, `downloaded ${platformCertB.serial}`].sort(),
    )
    const { subMchid, subAppid } = standin.subMerchant.wechatpay as unknown as { subMchid: string; subAppid: string }
    const payment = v3Payment({
      outTradeNo: 'STANDIN-PARTNER-CERT-A',
      amount: 100,
      signer: 'platformCertA',
      partner: { subMchid, subAppid },
    })
    expect((await notify('wechatpay.v3', 'standin-sub', { body: payment.body, headers: payment.headers })).status).toBe(204)
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'standin-sub', provider: 'wechatpay', outTradeNo: 'STANDIN-PARTNER-CERT-A' }))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))
  })
})

describe('a combined payment (合单支付) at the stand-in', () => {
  it('is asked about through WeChat’s combined query: the sub-orders recorded with their combine, a refunded one REFUND', async () => {
    const forwarded = recordForwarded()
    await holding('standin-demo')
    // What `simulate wechatpay.v3 combined` sends; the stand-in knows both sub-orders, recorded with their combine.
    const combine = {
      identity: SEC_WECHAT,
      combineOutTradeNo: 'STANDIN-COMBINED',
      subOrders: [
        { outTradeNo: 'STANDIN-COMBINED-1', amount: 8888, transactionId: '4200202611250000000000000011' },
        { outTradeNo: 'STANDIN-COMBINED-2', amount: 8888, transactionId: '4200202611250000000000000012' },
      ],
    }
    const notification = v3CombinedNotify(combine)
    expect((await notify('wechatpay.v3', 'standin-demo', { body: notification.body, headers: notification.headers })).status).toBe(204)

    for (const [outTradeNo, query] of [
      ['STANDIN-COMBINED-1', 'wechatpay.v3 paid (accepted)'],
      ['STANDIN-COMBINED-2', 'wechatpay.v3 refunded (accepted)'],
    ] as const) {
      expect(await sync('standin-demo', outTradeNo, 'wechatpay')).toEqual({ provider: 'wechatpay', status: 'paid', query, refunds: [] })
    }
    // A combine the stand-in has no sub-order of: WeChat's 404 about a combine its own notification named is no answer.
    const unknown = v3CombinedNotify({
      ...combine,
      combineOutTradeNo: 'STANDIN-COMBINED-UNKNOWN',
      subOrders: [{ outTradeNo: 'STANDIN-COMBINED-UNKNOWN-1', amount: 100 }],
    })
    expect((await notify('wechatpay.v3', 'standin-demo', { body: unknown.body, headers: unknown.headers })).status).toBe(204)
    expect(await sync('standin-demo', 'STANDIN-COMBINED-UNKNOWN-1', 'wechatpay')).toMatchObject({
      status: 'paid',
      query: expect.stringMatching(/^wechatpay\.v3 failed: /),
    })
    for (const outTradeNo of ['STANDIN-COMBINED-1', 'STANDIN-COMBINED-2', 'STANDIN-COMBINED-UNKNOWN-1']) {
      await runDurableObjectAlarm(orderStub(env, { merchantId: 'standin-demo', provider: 'wechatpay', outTradeNo }))
    }
    // The answers confirm what the notification paid: one payment.succeeded per sub-order, nothing more.
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'payment.succeeded', 'payment.succeeded']))
  })
})
