/**
 * Hostile input, round 2: the attacks from outside that the first catalogue did not have (issue #17),
 * each through the real Worker. Every hostile row asserts its exact reply, that the orders it names did
 * not change, that nothing was forwarded for them, and that a correctly signed notification right after
 * is still accepted and forwarded once.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import type { Channel, Provider } from '../../src/providers'
import { masterKeyring } from '../../src/merchants/master-keys'
import { parseMerchantInput } from '../../src/merchants/schema'
import { sealMerchant } from '../../src/merchants/sealing'
import { defaultRegistry } from '../../src/providers'
import { hasOrderStorage } from '../../src/storage/order'
import keys from '../fixtures/keys.json'
import { CHANNELS } from '../support/providers'
import {
  ACCEPT,
  admin,
  adminErrorReply,
  drainOutbox,
  FORWARD_SECRET,
  forwardUrl,
  freshPayment,
  MERCHANT_ORIGIN,
  merchantBody,
  notify,
  orderState,
  orderView,
  ownKeys,
  PROVIDER_OF,
  recordForwarded,
  registerMerchant,
  rejectReply,
  type ForwardedCall,
  type Reply,
} from './harness'
import { signV2, v2PaymentFields, v2Xml } from './signing'
import { PROJECTION_WAIT } from '../support/orders'

const M = 'round2'
const forwarded: ForwardedCall[] = []

async function reply(response: Response): Promise<Reply> {
  return { status: response.status, body: await response.text() }
}

/** Nothing reached the merchant for this order, even after its outbox is drained. */
async function nothingForwarded(provider: Provider, outTradeNo: string): Promise<void> {
  await drainOutbox(M, provider, outTradeNo)
  expect(forwarded.filter((call) => call.outTradeNo === outTradeNo)).toEqual([])
}

/** A correctly signed payment for a fresh order is still accepted, and forwarded exactly once. */
async function stillServes(channel: Channel): Promise<void> {
  const payment = freshPayment(channel)
  expect(await reply(await notify(channel, M, payment))).toEqual(ACCEPT[channel])
  await drainOutbox(M, PROVIDER_OF[channel], payment.outTradeNo)
  expect(forwarded.filter((call) => call.outTradeNo === payment.outTradeNo).map((call) => call.type)).toEqual(['payment.succeeded'])
}

beforeAll(async () => {
  await registerMerchant(M)
})

beforeEach(() => {
  forwarded.length = 0
  recordForwarded(forwarded)
})

describe('1. admin path values are decoded once: the amount check holds for any order number', () => {
  it('an order registered as A%7C1 is the order A|1 the provider pays; 1 fen against ¥100.00 is refused', async () => {
    const outTradeNo = `R2|${Date.now()}`
    const put = await admin(`/admin/merchants/${M}/orders/${encodeURIComponent(outTradeNo)}`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 10000, currency: 'CNY', channel: 'wechatpay.v3' }),
    })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ out_trade_no: outTradeNo })
    const before = await orderState(M, 'wechatpay', outTradeNo)
    expect(before).toMatchObject({ status: 'pending', expected_amount: 10000 })

    const forged = freshPayment('wechatpay.v3', { outTradeNo, amount: 1 })
    expect(await reply(await notify('wechatpay.v3', M, forged))).toEqual(
      rejectReply('wechatpay.v3', 409, 'amount or currency does not match the registered order'),
    )
    const after = await orderState(M, 'wechatpay', outTradeNo)
    expect(after).toMatchObject({ status: 'amount_mismatch', expected_amount: 10000, events: [] })
    await nothingForwarded('wechatpay', outTradeNo)
    // GET by path, and the list by query parameter, name the same order.
    const listed = await admin(`/admin/merchants/${M}/notifications?out_trade_no=${encodeURIComponent(outTradeNo)}`)
    expect(((await listed.json()) as { notifications: { out_trade_no: string; reason: string }[] }).notifications).toEqual([
      expect.objectContaining({ out_trade_no: outTradeNo, reason: 'amount_mismatch' }),
    ])
    await stillServes('wechatpay.v3')
  })

  it('a path value that is not valid percent-encoding is refused, naming the field', async () => {
    const response = await admin(`/admin/merchants/${M}/orders/A%E4%B8`)
    expect(await reply(response)).toEqual(adminErrorReply(400, 'invalid_request', 'outTradeNo: not a valid percent-encoded path segment'))
  })
})

describe('2. every order number the gateway accepts is one the admin API can show', () => {
  const unusual = ['订单-2026-0001', 'quote"d', 'a/b', 'A|B*C', 'with space', '%41', 'x'.repeat(64)]
  for (const value of unusual) {
    it(`accepts ${JSON.stringify(value)} once, and GET finds it under its percent-encoded path`, async () => {
      const outTradeNo = `${value}`.slice(0, 64)
      const payment = freshPayment('alipay', { outTradeNo })
      expect(await reply(await notify('alipay', M, payment))).toEqual(ACCEPT.alipay)
      const view = await orderView(M, 'alipay', outTradeNo)
      expect(view).toMatchObject({ status: 'paid' })
      await drainOutbox(M, 'alipay', outTradeNo)
      expect(forwarded.filter((call) => call.outTradeNo === outTradeNo)).toHaveLength(1)
    })
  }

  const refused: [string, string, string][] = [
    ['1,000 characters', 'y'.repeat(1000), 'out_trade_no must be at most 64 characters'],
    ['65 characters', 'z'.repeat(65), 'out_trade_no must be at most 64 characters'],
    ['a NUL character', 'T\u0000NUL', 'out_trade_no must not contain control characters'],
    ['a newline', 'T\nNL', 'out_trade_no must not contain control characters'],
    ['"."', '.', 'out_trade_no must not be "." or ".." (no URL path can name them)'],
    ['".."', '..', 'out_trade_no must not be "." or ".." (no URL path can name them)'],
  ]
  for (const [name, outTradeNo, message] of refused) {
    it(`refuses a signed notification whose out_trade_no has ${name}, storing and forwarding nothing`, async () => {
      const payment = freshPayment('wechatpay.v3', { outTradeNo })
      expect(await reply(await notify('wechatpay.v3', M, payment))).toEqual(rejectReply('wechatpay.v3', 400, message))
      await runInDurableObject(orderStub(env, { merchantId: M, provider: 'wechatpay', outTradeNo }), (_o: OrderObject, state) => {
        expect(hasOrderStorage(state.storage.sql)).toBe(false)
      })
      expect(forwarded).toEqual([])
      await stillServes('wechatpay.v3')
    })
  }
})

describe('3. names of Object.prototype members are plain strings everywhere', () => {
  const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty']
  const outTradeNo = 'R2-PROTO-1'

  it('as channel or provider of an order registration: 400 naming the field, no order created', async () => {
    for (const name of NAMES) {
      for (const field of ['channel', 'provider']) {
        const response = await admin(`/admin/merchants/${M}/orders/${outTradeNo}`, {
          method: 'PUT',
          body: JSON.stringify({ amount: 100, [field]: name }),
        })
        expect(await reply(response)).toEqual(
          adminErrorReply(400, 'invalid_request', `${field}: one of wechatpay, alipay, wechatpay.v2, wechatpay.v3`),
        )
      }
    }
    expect(await orderView(M, 'wechatpay', outTradeNo)).toBeNull()
    expect(await orderView(M, 'alipay', outTradeNo)).toBeNull()
    await stillServes('wechatpay.v2')
  })

  it('as any field, value, parameter or path segment of the admin API: a 4xx with the error shape, never a 500', async () => {
    const base = merchantBody(M)
    for (const name of NAMES) {
      const bodies: unknown[] = [
        { ...base, [name]: {} },
        { ...base, forward: { ...base.forward, [name]: 'x' } },
        { ...base, wechatpay: { ...base.wechatpay, [name]: 'x' } },
        { ...base, alipay: { ...base.alipay, [name]: 'x' } },
        { ...base, wechatpay: { ...base.wechatpay, platformPublicKeys: { [name]: base.alipay.alipayPublicKey } } },
        { ...base, wechatpay: { ...base.wechatpay, v2SignType: name } },
        { ...base, alipay: { ...base.alipay, signType: name } },
      ]
      const requests: [string, RequestInit][] = [
        ...bodies.map((body): [string, RequestInit] => [`/admin/merchants/${M}-proto`, { method: 'PUT', body: JSON.stringify(body) }]),
        [`/admin/merchants/${M}-proto`, { method: 'PUT', body: `{"__proto__": {"forward": 1}, "${name}": 1}` }],
        [`/admin/merchants/${M}/orders/${outTradeNo}`, { method: 'PUT', body: JSON.stringify({ amount: 100, [name]: 1 }) }],
        [`/admin/merchants/${M}/orders/${outTradeNo}`, { method: 'PUT', body: JSON.stringify({ amount: 100, currency: name }) }],
        [`/admin/merchants/${M}/orders/${outTradeNo}?provider=${name}`, { method: 'GET' }],
        [`/admin/merchants/${M}/orders/${outTradeNo}/sync?provider=${name}`, { method: 'POST' }],
        [`/admin/merchants/${M}/deliveries?status=${name}`, { method: 'GET' }],
        [`/admin/merchants/${M}/notifications?verdict=${name}`, { method: 'GET' }],
        [`/admin/merchants/${M}/notifications?cursor=${name}`, { method: 'GET' }],
        [`/admin/merchants/${name}`, { method: 'GET' }],
        [`/admin/merchants/${name}/orders/${outTradeNo}`, { method: 'GET' }],
        [`/admin/merchants/${M}/orders/${encodeURIComponent(name)}`, { method: 'GET' }],
        [`/admin/deliveries/${name}/replay`, { method: 'POST' }],
      ]
      for (const [path, init] of requests) {
        const response = await admin(path, init)
        const text = await response.text()
        expect(response.status, `${init.method} ${path} ${String(init.body)}`).toBeGreaterThanOrEqual(400)
        expect(response.status, `${init.method} ${path} ${String(init.body)}`).toBeLessThan(500)
        expect(JSON.parse(text)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } })
      }
    }
    expect(await admin(`/admin/merchants/${M}-proto`).then((r) => r.status)).toBe(404)
  })
})

describe('5. outsiders cannot bury the audit trail', () => {
  it('fifty forged notifications are fifty entries of count 1 (counted only past 1,000 an hour); the genuine one stays in view', async () => {
    const merchantId = 'round2-audit'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const genuine = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    expect(await reply(await notify('wechatpay.v2', merchantId, genuine))).toEqual(ACCEPT['wechatpay.v2'])
    await drainOutbox(merchantId, 'wechatpay', genuine.outTradeNo)
    const fields = v2PaymentFields({ outTradeNo: 'R2-FORGED', amount: 1 })
    const forged = v2Xml({ ...fields, sign: signV2(fields, 'a'.repeat(32), 'MD5') })
    for (let i = 0; i < 50; i++) {
      const response = await notify('wechatpay.v2', merchantId, { body: forged, headers: { 'content-type': 'text/xml' } })
      expect(response.status).toBe(401)
    }
    // The merchant-wide trail in D1 holds what never reached an order (refusals, each listed); an order's own trail
    // (accepted, duplicates) is read from its object with ?out_trade_no= (issue 16: no D1 row per accepted notification).
    await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${merchantId}/notifications?verdict=rejected&limit=100`)).json()) as {
        notifications: { id: string; verdict: string; reason: string; count: number; out_trade_no: string | null }[]
        next_cursor: string | null
      }
      expect(list.notifications).toHaveLength(50)
      for (const entry of list.notifications)
        expect(entry).toMatchObject({ verdict: 'rejected', reason: 'signature_invalid', count: 1, out_trade_no: null })
      expect(new Set(list.notifications.map((n) => n.id)).size).toBe(50)
      expect(list.next_cursor).toBeNull()
    }, PROJECTION_WAIT)
    const accepted = (await (
      await admin(`/admin/merchants/${merchantId}/notifications?verdict=accepted&out_trade_no=${genuine.outTradeNo}`)
    ).json()) as { notifications: { out_trade_no: string; count: number }[] }
    expect(accepted.notifications).toEqual([expect.objectContaining({ out_trade_no: genuine.outTradeNo, count: 1 })])
  })

  it('pages through the trail with limit and cursor, each entry once', async () => {
    const merchantId = 'round2-pages'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    // One payment the provider sent five times: its trail is one accepted entry and four duplicates.
    const payment = freshPayment('alipay', { identity: ownKeys(merchantId) })
    for (let i = 0; i < 5; i++) expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    await drainOutbox(merchantId, 'alipay', payment.outTradeNo)
    const seen: string[] = []
    const verdicts: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      const pageReply = (await (
        await admin(`/admin/merchants/${merchantId}/notifications?out_trade_no=${payment.outTradeNo}&limit=2${query}`)
      ).json()) as { notifications: { id: string; verdict: string }[]; next_cursor: string | null }
      expect(pageReply.notifications.length).toBeLessThanOrEqual(2)
      seen.push(...pageReply.notifications.map((n) => n.id))
      verdicts.push(...pageReply.notifications.map((n) => n.verdict))
      cursor = pageReply.next_cursor
    } while (cursor !== null)
    expect(new Set(seen).size).toBe(5)
    expect(verdicts.sort()).toEqual(['accepted', 'duplicate', 'duplicate', 'duplicate', 'duplicate'])
  })

  it('an unsigned v2 return_code=FAIL message gets the accept reply and is recorded as refused, never accepted', async () => {
    const merchantId = 'round2-fail'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const body = '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[anything]]></return_msg></xml>'
    for (let i = 0; i < 3; i++) {
      expect(await reply(await notify('wechatpay.v2', merchantId, { body, headers: { 'content-type': 'text/xml' } }))).toEqual(
        ACCEPT['wechatpay.v2'],
      )
    }
    await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${merchantId}/notifications`)).json()) as {
        notifications: { verdict: string; reason: string; count: number }[]
      }
      const refused = expect.objectContaining({ verdict: 'rejected', reason: 'unsigned: return_code=FAIL', count: 1 })
      expect(list.notifications).toEqual([refused, refused, refused])
    }, PROJECTION_WAIT)
  })
})

describe('6. one provider identity, one merchant', () => {
  const WX = keys.wechatpay.mchid
  const ALIPAY_APP = keys.alipay.appId
  const SELLER = keys.alipay.sellerId

  async function put(merchantId: string, body: unknown): Promise<Reply> {
    return reply(await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(body) }))
  }

  /** Refused with conflict naming the other merchant, and nothing changed: no merchant, `M` as it was and still served. */
  async function refusedAsTwin(merchantId: string, body: unknown, message: string, channel: Channel): Promise<void> {
    const before = await (await admin(`/admin/merchants/${M}`)).text()
    expect(await put(merchantId, body)).toEqual(adminErrorReply(409, 'conflict', message))
    expect((await admin(`/admin/merchants/${merchantId}`)).status).toBe(404)
    expect(await (await admin(`/admin/merchants/${M}`)).text()).toBe(before)
    // One genuine notification, posted to the refused merchant's URL too, pays nothing there.
    const payment = freshPayment(channel)
    expect(await reply(await notify(channel, merchantId, payment))).toEqual(rejectReply(channel, 404, 'unknown merchant'))
    expect(forwarded.filter((call) => call.merchantId === merchantId)).toEqual([])
    await stillServes(channel)
  }

  it('refuses a second merchant with another’s WeChat Pay mchid (direct), whatever its appid: 409 naming the other', async () => {
    const body = merchantBody('round2-twin-wx', { providers: ['wechatpay'], wechatpayFields: { appid: 'wx6666666666666601' } })
    await refusedAsTwin(
      'round2-twin-wx',
      body,
      `the wechatpay identity (mchid ${WX}, no subMchid) already belongs to merchant ${M}`,
      'wechatpay.v3',
    )
  })

  it('refuses a second merchant with another’s Alipay app_id and seller_id: 409 naming the other', async () => {
    const body = merchantBody('round2-twin-ali', { providers: ['alipay'] })
    await refusedAsTwin(
      'round2-twin-ali',
      body,
      `the alipay identity (appId ${ALIPAY_APP}, no authAppId, sellerId ${SELLER}) already belongs to merchant ${M}`,
      'alipay',
    )
  })

  it('refuses an Alipay merchant that checks no seller when another lists one for its app, and the other way round', async () => {
    const anySeller = merchantBody('round2-any-seller', { providers: ['alipay'], alipayFields: { sellerId: undefined } })
    await refusedAsTwin(
      'round2-any-seller',
      anySeller,
      `the alipay identity (appId ${ALIPAY_APP}, no authAppId, sellerId ${SELLER}) already belongs to merchant ${M}`,
      'alipay',
    )
    // A merchant of another app that takes any seller blocks every seller of that app.
    const own = ownKeys('round2-wildcard').alipay
    const wildcard = merchantBody('round2-wildcard', { providers: ['alipay'], alipayFields: { appId: own.appId, sellerId: undefined } })
    expect((await put('round2-wildcard', wildcard)).status).toBe(201)
    const seller = merchantBody('round2-one-seller', { providers: ['alipay'], alipayFields: { appId: own.appId, sellerId: own.sellerId } })
    expect(await put('round2-one-seller', seller)).toEqual(
      adminErrorReply(
        409,
        'conflict',
        `the alipay identity (appId ${own.appId}, no authAppId, any sellerId) already belongs to merchant round2-wildcard`,
      ),
    )
    expect((await admin('/admin/merchants/round2-one-seller')).status).toBe(404)
  })

  it('lets apart what the contract separates: sub-merchants, direct and sub-merchant of one mchid, ISV apps, a merchant saving itself', async () => {
    // Two sub-merchants of the service provider whose mchid M holds as a direct merchant: three merchants, one mchid.
    for (const [merchantId, subMchid] of [
      ['round2-sub-a', '1900000201'],
      ['round2-sub-b', '1900000202'],
    ] as const) {
      const body = merchantBody(merchantId, { providers: ['wechatpay'], wechatpayFields: { subMchid } })
      expect((await put(merchantId, body)).status).toBe(201)
      const payment = freshPayment('wechatpay.v3', { partner: { subMchid } })
      expect(await reply(await notify('wechatpay.v3', merchantId, payment))).toEqual(ACCEPT['wechatpay.v3'])
      await drainOutbox(merchantId, 'wechatpay', payment.outTradeNo)
      expect(forwarded.filter((call) => call.outTradeNo === payment.outTradeNo).map((call) => call.merchantId)).toEqual([merchantId])
    }
    // Two third-party (ISV) merchants of M's Alipay app and seller, for different authorizing apps.
    for (const [merchantId, authAppId] of [
      ['round2-isv-a', '2021000000000301'],
      ['round2-isv-b', '2021000000000302'],
    ] as const) {
      const body = merchantBody(merchantId, { providers: ['alipay'], alipayFields: { authAppId } })
      expect((await put(merchantId, body)).status).toBe(201)
      const payment = freshPayment('alipay', { authAppId })
      expect(await reply(await notify('alipay', merchantId, payment))).toEqual(ACCEPT.alipay)
    }
    // M saving itself again keeps its identities.
    expect((await put(M, merchantBody(M))).status).toBe(200)
    await stillServes('wechatpay.v2')
    await stillServes('alipay')
  })

  it('refuses an Alipay merchant listing another’s own app as authAppId, which that merchant takes notifies for, either way round', async () => {
    // M (no authAppId) takes notifies whose auth_app_id is its own app_id: a twin claiming that pair would take them too.
    const isvOfOwnApp = merchantBody('round2-own-app-isv', { providers: ['alipay'], alipayFields: { authAppId: ALIPAY_APP } })
    await refusedAsTwin(
      'round2-own-app-isv',
      isvOfOwnApp,
      `the alipay identity (appId ${ALIPAY_APP}, authAppId ${ALIPAY_APP}, sellerId ${SELLER}) already belongs to merchant ${M}`,
      'alipay',
    )
    // The other way round, on an app of their own: the one listing it as authAppId first, then one without.
    const own = ownKeys('round2-own-app').alipay
    const listing = merchantBody('round2-own-app-a', {
      providers: ['alipay'],
      alipayFields: { appId: own.appId, sellerId: own.sellerId, authAppId: own.appId },
    })
    expect((await put('round2-own-app-a', listing)).status).toBe(201)
    const plain = merchantBody('round2-own-app-b', { providers: ['alipay'], alipayFields: { appId: own.appId, sellerId: own.sellerId } })
    expect(await put('round2-own-app-b', plain)).toEqual(
      adminErrorReply(
        409,
        'conflict',
        `the alipay identity (appId ${own.appId}, authAppId ${own.appId}, sellerId ${own.sellerId}) already belongs to merchant round2-own-app-a`,
      ),
    )
  })

  it('indexes a merchant saved before identities were kept on the next save, which then blocks a conflicting one', async () => {
    // As an older version wrote it: the sealed config in `merchants`, and no claims in `merchant_identities`.
    const legacy = 'round2-legacy'
    const identity = ownKeys(legacy)
    const input = await parseMerchantInput(merchantBody(legacy, { identity }), { allowLoopback: false })
    const stored = await sealMerchant(masterKeyring(env), legacy, input, defaultRegistry)
    const at = new Date().toISOString()
    await env.DB.prepare('INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)')
      .bind(legacy, JSON.stringify(stored), at)
      .run()
    const claims = () =>
      env.DB.prepare('SELECT count(*) AS n FROM merchant_identities WHERE merchant_id = ?1').bind(legacy).first<{ n: number }>()
    expect((await claims())?.n).toBe(0)

    // The next save of any merchant indexes it.
    expect((await put(M, merchantBody(M))).status).toBe(200)
    expect((await claims())?.n).toBeGreaterThan(0)

    const twin = 'round2-legacy-twin'
    const body = merchantBody(twin, {
      identity: ownKeys(twin),
      providers: ['wechatpay'],
      wechatpayFields: { mchid: identity.wechat.mchid },
    })
    expect(await put(twin, body)).toEqual(
      adminErrorReply(
        409,
        'conflict',
        `the wechatpay identity (mchid ${identity.wechat.mchid}, no subMchid) already belongs to merchant ${legacy}`,
      ),
    )
    const alipayTwin = merchantBody(twin, {
      identity: ownKeys(twin),
      providers: ['alipay'],
      alipayFields: { appId: identity.alipay.appId, sellerId: identity.alipay.sellerId },
    })
    expect(await put(twin, alipayTwin)).toEqual(
      adminErrorReply(
        409,
        'conflict',
        `the alipay identity (appId ${identity.alipay.appId}, no authAppId, sellerId ${identity.alipay.sellerId}) already belongs to merchant ${legacy}`,
      ),
    )
    expect((await admin(`/admin/merchants/${twin}`)).status).toBe(404)
    // The merchant saved long ago still takes its own notifications.
    const payment = freshPayment('wechatpay.v2', { identity })
    expect(await reply(await notify('wechatpay.v2', legacy, payment))).toEqual(ACCEPT['wechatpay.v2'])
  })

  it('indexes every merchant saved before identities were kept, past a page of 100, before the check; a claim taken first is logged', async () => {
    // As an older version wrote them: 120 merchants with no provider, then two holding one identity (allowed then).
    const at = new Date().toISOString()
    const insert = (id: string, config: string) =>
      env.DB.prepare('INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)').bind(id, config, at)
    const empty = JSON.stringify({ format: 2, sealed: [], forward: { url: `${MERCHANT_ORIGIN}/hooks/none` } })
    await env.DB.batch(Array.from({ length: 120 }, (_, i) => insert(`round2-filler-${String(i).padStart(3, '0')}`, empty)))
    const identity = ownKeys('round2-legacy-many')
    // And one taking the app's notifications for every seller (no sellerId): its claims overlap the first's.
    const legacies = [
      ['round2-legacy-many', {}],
      ['round2-legacy-many-too', {}],
      ['round2-legacy-many-any', { sellerId: undefined }],
    ] as const
    for (const [legacy, alipayFields] of legacies) {
      const body = merchantBody(legacy, { identity, providers: ['alipay'], alipayFields })
      const input = await parseMerchantInput(body, { allowLoopback: false })
      await insert(legacy, JSON.stringify(await sealMerchant(masterKeyring(env), legacy, input, defaultRegistry))).run()
    }
    const lines: string[] = []
    const spy = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => lines.push(String(line)))
    let refused: Reply
    try {
      const newcomer = merchantBody('round2-newcomer', {
        identity: ownKeys('round2-newcomer'),
        providers: ['alipay'],
        alipayFields: { appId: identity.alipay.appId, sellerId: identity.alipay.sellerId },
      })
      refused = await put('round2-newcomer', newcomer)
    } finally {
      spy.mockRestore()
    }
    expect(refused).toEqual(
      adminErrorReply(
        409,
        'conflict',
        `the alipay identity (appId ${identity.alipay.appId}, no authAppId, sellerId ${identity.alipay.sellerId}) already belongs to merchant round2-legacy-many`,
      ),
    )
    const unindexed = await env.DB.prepare(
      'SELECT count(*) AS n FROM merchants WHERE id NOT IN (SELECT merchant_id FROM merchant_identities)',
    ).first<{ n: number }>()
    expect(unindexed?.n).toBe(0)
    const shared = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === 'merchant.identity_shared')
    expect(shared).toContainEqual(
      expect.objectContaining({
        merchant_id: 'round2-legacy-many-too',
        provider: 'alipay',
        identity: `${identity.alipay.appId} / - / ${identity.alipay.sellerId}`,
      }),
    )
    expect(shared).toContainEqual(
      expect.objectContaining({ merchant_id: 'round2-legacy-many-any', provider: 'alipay', identity: `${identity.alipay.appId} / - / *` }),
    )
  })
})

describe('7. the smaller ones', () => {
  for (const channel of CHANNELS) {
    it(`${channel}: a signed payment of 0 fen is refused as malformed, nothing stored or forwarded`, async () => {
      const payment = freshPayment(channel, { amount: 0 })
      expect(await reply(await notify(channel, M, payment))).toEqual(rejectReply(channel, 400, 'payment amount must be at least 1 fen'))
      expect(await orderView(M, PROVIDER_OF[channel], payment.outTradeNo)).toBeNull()
      await nothingForwarded(PROVIDER_OF[channel], payment.outTradeNo)
      await stillServes(channel)
    })
  }

  const badSecrets: [string, string][] = [
    ['all zero', `whsec_${btoa('\u0000'.repeat(24))}`],
    ['one repeated letter', `whsec_${btoa('a'.repeat(32))}`],
    ['counting bytes', `whsec_${btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i)))}`],
  ]
  for (const [name, secret] of badSecrets) {
    it(`refuses a webhook secret that is ${name}, and keeps the merchant as it was`, async () => {
      const body = { ...merchantBody(M), forward: { url: forwardUrl(M), secret } }
      const response = await admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(body) })
      expect(await reply(response)).toEqual(
        adminErrorReply(
          400,
          'invalid_request',
          'forward.secret: must be random bytes (this one repeats a few values; generate it with a CSPRNG)',
        ),
      )
      await stillServes('alipay')
    })
  }

  for (const [name, url] of [
    ['a newline', `${forwardUrl(M)}\n`],
    ['a tab inside', 'https://merchant.example/ho\toks'],
    ['a NUL', 'https://merchant.example/hooks\u0000'],
    ['a space', 'https://merchant.example/a b'],
  ]) {
    it(`refuses a forward URL containing ${name}`, async () => {
      const body = { ...merchantBody(M), forward: { url, secret: FORWARD_SECRET } }
      const response = await admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(body) })
      expect(await reply(response)).toEqual(
        adminErrorReply(400, 'invalid_request', 'forward.url: must not contain spaces or control characters'),
      )
      expect(((await (await admin(`/admin/merchants/${M}`)).json()) as { forward: { url: string } }).forward.url).toBe(forwardUrl(M))
      await stillServes('wechatpay.v3')
    })
  }

  it('an admin read of an order nobody mentioned answers 404 and creates no order object', async () => {
    const outTradeNo = `R2-NEVER-${Date.now()}`
    expect(await reply(await admin(`/admin/merchants/${M}/orders/${outTradeNo}`))).toEqual(
      adminErrorReply(404, 'not_found', `order ${outTradeNo} is not known`),
    )
    expect((await admin(`/admin/merchants/${M}/notifications?out_trade_no=${outTradeNo}`)).status).toBe(200)
    for (const provider of ['wechatpay', 'alipay'] as const) {
      await runInDurableObject(orderStub(env, { merchantId: M, provider, outTradeNo }), (_o: OrderObject, state) => {
        expect(hasOrderStorage(state.storage.sql)).toBe(false)
      })
    }
  })
})
