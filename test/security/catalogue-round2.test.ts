/**
 * Hostile input, round 2: the attacks from outside that the first catalogue did not have (issue #17),
 * each through the real Worker. Every hostile row asserts its exact reply, that the orders it names did
 * not change, that nothing was forwarded for them, and that a correctly signed notification right after
 * is still accepted and forwarded once.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import type { Channel, Provider } from '../../src/providers'
import { hasOrderStorage } from '../../src/storage/order'
import { CHANNELS } from '../support/providers'
import {
  ACCEPT,
  admin,
  adminErrorReply,
  drainOutbox,
  FORWARD_SECRET,
  forwardUrl,
  freshPayment,
  merchantBody,
  notify,
  orderState,
  orderView,
  PROVIDER_OF,
  recordForwarded,
  registerMerchant,
  rejectReply,
  type ForwardedCall,
  type Reply,
} from './harness'
import { signV2, v2PaymentFields, v2Xml } from './signing'

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
      rejectReply('wechatpay.v3', 409, 'amount does not match the registered order'),
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
  it('fifty forged notifications are one counted entry; the genuine ones stay in view', async () => {
    const merchantId = 'round2-audit'
    await registerMerchant(merchantId)
    const genuine = freshPayment('wechatpay.v2')
    expect(await reply(await notify('wechatpay.v2', merchantId, genuine))).toEqual(ACCEPT['wechatpay.v2'])
    await drainOutbox(merchantId, 'wechatpay', genuine.outTradeNo)
    const fields = v2PaymentFields({ outTradeNo: 'R2-FORGED', amount: 1 })
    const forged = v2Xml({ ...fields, sign: signV2(fields, 'a'.repeat(32), 'MD5') })
    for (let i = 0; i < 50; i++) {
      const response = await notify('wechatpay.v2', merchantId, { body: forged, headers: { 'content-type': 'text/xml' } })
      expect(response.status).toBe(401)
    }
    const list = (await (await admin(`/admin/merchants/${merchantId}/notifications?limit=10`)).json()) as {
      notifications: { verdict: string; reason: string; count: number; out_trade_no: string | null }[]
      next_cursor: string | null
    }
    expect(list.notifications).toEqual([
      expect.objectContaining({ verdict: 'rejected', reason: 'signature_invalid', count: 50, out_trade_no: null }),
      expect.objectContaining({ verdict: 'accepted', count: 1, out_trade_no: genuine.outTradeNo }),
    ])
    expect(list.next_cursor).toBeNull()
    const rejectedOnly = (await (await admin(`/admin/merchants/${merchantId}/notifications?verdict=accepted`)).json()) as {
      notifications: { out_trade_no: string }[]
    }
    expect(rejectedOnly.notifications.map((n) => n.out_trade_no)).toEqual([genuine.outTradeNo])
  })

  it('pages through the trail with limit and cursor, each entry once', async () => {
    const merchantId = 'round2-pages'
    await registerMerchant(merchantId)
    const paid: string[] = []
    for (let i = 0; i < 5; i++) {
      const payment = freshPayment('alipay')
      expect((await notify('alipay', merchantId, payment)).status).toBe(200)
      await drainOutbox(merchantId, 'alipay', payment.outTradeNo)
      paid.push(payment.outTradeNo)
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      const pageReply = (await (await admin(`/admin/merchants/${merchantId}/notifications?limit=2${query}`)).json()) as {
        notifications: { out_trade_no: string }[]
        next_cursor: string | null
      }
      expect(pageReply.notifications.length).toBeLessThanOrEqual(2)
      seen.push(...pageReply.notifications.map((n) => n.out_trade_no))
      cursor = pageReply.next_cursor
    } while (cursor !== null)
    expect([...seen].sort()).toEqual([...paid].sort())
  })

  it('an unsigned v2 return_code=FAIL message gets the accept reply and is recorded as refused, never accepted', async () => {
    const merchantId = 'round2-fail'
    await registerMerchant(merchantId)
    const body = '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[anything]]></return_msg></xml>'
    for (let i = 0; i < 3; i++) {
      expect(await reply(await notify('wechatpay.v2', merchantId, { body, headers: { 'content-type': 'text/xml' } }))).toEqual(
        ACCEPT['wechatpay.v2'],
      )
    }
    const list = (await (await admin(`/admin/merchants/${merchantId}/notifications`)).json()) as {
      notifications: { verdict: string; reason: string; count: number }[]
    }
    expect(list.notifications).toEqual([expect.objectContaining({ verdict: 'rejected', reason: 'unsigned: return_code=FAIL', count: 3 })])
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
