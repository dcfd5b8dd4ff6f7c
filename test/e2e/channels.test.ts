/**
 * End to end through the real Worker entry, real D1 and real order Durable Objects: each channel's
 * signed notification is accepted only after it is stored, changes the order once, and leaves one
 * outbox entry per state change.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { orderStub } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import type { Provider } from '../../src/providers'
import { admin, getOrder, MERCHANT_SECRETS, notify, putFixtureMerchant, recordForwarded } from '../support/gateway'
import { failEventWrites, inOrderStore } from '../support/orders'

const V2_ACCEPT = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

function outboxSize(merchantId: string, provider: Provider, outTradeNo: string): Promise<number> {
  return inOrderStore({ merchantId, provider, outTradeNo }, (store) => store.deliveries.all().length)
}

/** v3 fixtures are signed for a fixed clock; the gateway checks the timestamp against Date.now(). */
function atV3FixtureTime(): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(v3Fixtures.now)
}

afterEach(() => {
  vi.useRealTimers()
})

describe('each channel end to end', () => {
  // The fixtures are signed for one set of provider ids, which one merchant at a time may hold: each test saves
  // its merchant with them as it starts.
  it('WeChat Pay v2: payment → accept → paid → one outbox entry; refund → partially refunded', async () => {
    await putFixtureMerchant('v2shop')
    const forwarded = recordForwarded()
    const paid = await notify('wechatpay.v2', 'v2shop', v2Fixtures.cases.md5WithSignType)
    expect(paid.status).toBe(200)
    expect(await paid.text()).toBe(V2_ACCEPT)
    expect(await getOrder('v2shop', 'T20251124001')).toMatchObject({ status: 'paid', amount: 100 })
    expect(await outboxSize('v2shop', 'wechatpay', 'T20251124001')).toBe(1)

    const refunded = await notify('wechatpay.v2', 'v2shop', v2Fixtures.cases.refundSuccess)
    expect(await refunded.text()).toBe(V2_ACCEPT)
    const order = await getOrder('v2shop', 'T20251124001')
    expect(['partially_refunded', 'refunded']).toContain(order.status)
    expect(order.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
    expect(await outboxSize('v2shop', 'wechatpay', 'T20251124001')).toBe(2)

    await runDurableObjectAlarm(orderStub(env, { merchantId: 'v2shop', provider: 'wechatpay', outTradeNo: 'T20251124001' }))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'refund.succeeded']))
  })

  it('WeChat Pay v3: payment → 204 → paid; REFUND.SUCCESS → partially refunded', async () => {
    await putFixtureMerchant('v3shop')
    atV3FixtureTime()
    const paid = await notify('wechatpay.v3', 'v3shop', v3Fixtures.cases.transactionCertA)
    expect(paid.status).toBe(204)
    expect(await getOrder('v3shop', 'T20251124001')).toMatchObject({ status: 'paid', amount: 100 })
    expect(await outboxSize('v3shop', 'wechatpay', 'T20251124001')).toBe(1)

    const refund = await notify('wechatpay.v3', 'v3shop', v3Fixtures.cases.refundSuccess)
    expect(refund.status).toBe(204)
    const order = await getOrder('v3shop', 'T20251124001')
    expect(order.status).toBe('partially_refunded')
    expect(order.events.at(-1)).toMatchObject({ type: 'refund.succeeded', data: { refund: { amount: 40, total_refunded: 40 } } })
  })

  it("Alipay: TRADE_CLOSED of an unpaid trade → closed; its payment.closed carries the trade's amount", async () => {
    await putFixtureMerchant('alishop-closed')
    const forwarded = recordForwarded()
    expect(await (await notify('alipay', 'alishop-closed', alipayFixtures.cases.tradeClosedUnpaid)).text()).toBe('success')
    const order = await getOrder('alishop-closed', 'T20261122-0009')
    expect(order).toMatchObject({ status: 'closed', amount: null })
    expect(order.events).toEqual([expect.objectContaining({ type: 'payment.closed', data: expect.objectContaining({ amount: 8888 }) })])
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'alishop-closed', provider: 'alipay', outTradeNo: 'T20261122-0009' }))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.closed']))
    expect(JSON.parse(forwarded[0]!.body).data).toMatchObject({ out_trade_no: 'T20261122-0009', amount: 8888, paid_at: null })
  })

  it('Alipay: refund_fee=0.00 is no refund: a timeout close is payment.closed, a payment is payment.succeeded alone', async () => {
    await putFixtureMerchant('alishop-zero')
    const forwarded = recordForwarded()
    for (const name of ['tradeClosedUnpaidZeroRefund', 'tradeSuccessZeroRefund'] as const) {
      const reply = await notify('alipay', 'alishop-zero', alipayFixtures.cases[name])
      expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    }
    const closed = await getOrder('alishop-zero', 'T20261122-0023')
    expect(closed).toMatchObject({ status: 'closed', refunded_amount: 0, refunds: [] })
    expect(closed.events.map((e) => e.type)).toEqual(['payment.closed'])
    const paid = await getOrder('alishop-zero', 'T20261122-0024')
    expect(paid).toMatchObject({ status: 'paid', amount: 8888, refunded_amount: 0, refunds: [] })
    expect(paid.events.map((e) => e.type)).toEqual(['payment.succeeded'])
    for (const outTradeNo of ['T20261122-0023', 'T20261122-0024'])
      await runDurableObjectAlarm(orderStub(env, { merchantId: 'alishop-zero', provider: 'alipay', outTradeNo }))
    await vi.waitFor(() => expect(forwarded.map((f) => f.type).sort()).toEqual(['payment.closed', 'payment.succeeded']))
  })

  it('the merchant id of a notify path is percent-decoded once, as in the admin paths', async () => {
    await putFixtureMerchant('alishop-enc')
    const post = (path: string) =>
      exports.default.fetch(`https://gw.test/notify/${path}/alipay`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: alipayFixtures.cases.passbackParams.body,
      })
    const reply = await post('alishop%2Denc')
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    expect(await getOrder('alishop-enc', 'T20261122-0004')).toMatchObject({ status: 'paid' })
    const undecodable = await post('alishop%E0enc')
    expect({ status: undecodable.status, body: await undecodable.text() }).toEqual({ status: 404, body: 'failure' })
  })

  it('Alipay: payment → success → paid; partial then full refund → refunded', async () => {
    await putFixtureMerchant('alishop')
    const paid = await notify('alipay', 'alishop', alipayFixtures.cases.tradeSuccessUtf8)
    expect(paid.status).toBe(200)
    expect(await paid.text()).toBe('success')
    expect(await getOrder('alishop', 'T20261122-0001')).toMatchObject({ status: 'paid', amount: 8888 })
    expect(await outboxSize('alishop', 'alipay', 'T20261122-0001')).toBe(1)

    expect(await (await notify('alipay', 'alishop', alipayFixtures.cases.partialRefund)).text()).toBe('success')
    expect((await getOrder('alishop', 'T20261122-0001')).status).toBe('partially_refunded')
    expect(await (await notify('alipay', 'alishop', alipayFixtures.cases.fullRefund)).text()).toBe('success')
    const order = await getOrder('alishop', 'T20261122-0001')
    expect(order.status).toBe('refunded')
    expect(order.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded', 'refund.succeeded'])
    // TRADE_FINISHED after the payment is not a new payment.
    expect(await (await notify('alipay', 'alishop', alipayFixtures.cases.tradeFinished)).text()).toBe('success')
    expect(await outboxSize('alishop', 'alipay', 'T20261122-0001')).toBe(3)
  })

  it('a v2 and a v3 notification of one payment change the order once', async () => {
    await putFixtureMerchant('wxboth')
    expect((await notify('wechatpay.v2', 'wxboth', v2Fixtures.cases.md5WithSignType)).status).toBe(200)
    atV3FixtureTime()
    expect((await notify('wechatpay.v3', 'wxboth', v3Fixtures.cases.transactionCertA)).status).toBe(204)
    const order = await getOrder('wxboth', 'T20251124001')
    expect(order.events.map((e) => e.type)).toEqual(['payment.succeeded'])
    expect(order.notifications.map((n) => n.verdict)).toEqual(['accepted', 'accepted'])
  })

  it('20 concurrent and 5 sequential copies: all accepted, one state change, one outbox entry', async () => {
    await putFixtureMerchant('storm')
    const fixture = v2Fixtures.cases.hmacWithoutSignType
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => notify('wechatpay.v2', 'storm', fixture)))
    for (const reply of concurrent) {
      expect(reply.status).toBe(200)
      expect(await reply.text()).toBe(V2_ACCEPT)
    }
    for (let i = 0; i < 5; i++) expect(await (await notify('wechatpay.v2', 'storm', fixture)).text()).toBe(V2_ACCEPT)
    const order = await getOrder('storm', 'T20251124003')
    expect(order.status).toBe('paid')
    expect(order.events).toHaveLength(1)
    expect(order.notifications.filter((n) => n.verdict === 'accepted')).toHaveLength(1)
    expect(order.notifications.filter((n) => n.verdict === 'duplicate')).toHaveLength(24)
    expect(await outboxSize('storm', 'wechatpay', 'T20251124003')).toBe(1)
  })

  it('rejects an amount that differs from the registered one, flags the order, forwards nothing', async () => {
    await putFixtureMerchant('mismatch')
    const registered = await admin('/admin/merchants/mismatch/orders/T20261122-0001', {
      method: 'PUT',
      body: JSON.stringify({ amount: 100, currency: 'CNY' }),
    })
    expect(registered.status).toBe(200)
    const reply = await notify('alipay', 'mismatch', alipayFixtures.cases.tradeSuccessUtf8)
    expect(reply.status).toBe(409)
    expect(await reply.text()).toBe('failure')
    const order = await getOrder('mismatch', 'T20261122-0001')
    expect(order).toMatchObject({ status: 'amount_mismatch', events: [], deliveries: [] })
    expect(order.notifications).toMatchObject([{ verdict: 'rejected', reason: 'amount_mismatch' }])
    expect(await outboxSize('mismatch', 'alipay', 'T20261122-0001')).toBe(0)

    // The merchant corrects the amount; Alipay's retry of the same notification now pays the order.
    await admin('/admin/merchants/mismatch/orders/T20261122-0001', {
      method: 'PUT',
      body: JSON.stringify({ amount: 8888, channel: 'alipay' }),
    })
    expect(await (await notify('alipay', 'mismatch', alipayFixtures.cases.tradeSuccessUtf8)).text()).toBe('success')
    expect((await getOrder('mismatch', 'T20261122-0001')).status).toBe('paid')
  })

  it('a storage failure before commit gets the retry reply; the same notification later is processed once', async () => {
    await putFixtureMerchant('faulty')
    const order = { merchantId: 'faulty', provider: 'wechatpay' as const, outTradeNo: 'T20251124004' }
    await runInDurableObject(orderStub(env, order), (_o: OrderObject, state) => {
      failEventWrites(state)
    })
    const failed = await notify('wechatpay.v2', 'faulty', v2Fixtures.cases.hmacWithSignType)
    expect(failed.status).toBe(503)
    expect(await failed.text()).toContain('<return_code><![CDATA[FAIL]]></return_code>')
    expect(await outboxSize('faulty', 'wechatpay', 'T20251124004')).toBe(0)

    await runInDurableObject(orderStub(env, order), (_o: OrderObject, state) => {
      state.storage.sql.exec('DROP TRIGGER inject_failure')
    })
    for (let i = 0; i < 2; i++)
      expect(await (await notify('wechatpay.v2', 'faulty', v2Fixtures.cases.hmacWithSignType)).text()).toBe(V2_ACCEPT)
    const after = await getOrder('faulty', 'T20251124004')
    expect(after.status).toBe('paid')
    expect(after.events).toHaveLength(1)
    expect(await outboxSize('faulty', 'wechatpay', 'T20251124004')).toBe(1)
  })
})

describe('admin API and secrets', () => {
  it('answers 401 without the token on every admin route', async () => {
    for (const path of [
      '/admin/merchants/v2shop',
      '/admin/merchants/v2shop/orders/T1',
      '/admin/merchants/v2shop/deliveries',
      '/admin/merchants/v2shop/notifications',
    ]) {
      const reply = await admin(path, { token: null })
      expect(reply.status).toBe(401)
      expect(await reply.json()).toMatchObject({ error: { code: 'unauthorized' } })
    }
  })

  it('never shows a secret in an admin response or a log line', async () => {
    const logged: string[] = []
    const capture = (...args: unknown[]) =>
      void logged.push(args.map((a) => (a instanceof Error ? `${a.name} ${a.message} ${a.stack}` : String(a))).join(' '))
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => vi.spyOn(console, level).mockImplementation(capture))
    try {
      await putFixtureMerchant('leaks')
      const texts = [
        await (await admin('/admin/merchants/leaks')).text(),
        await (await notify('wechatpay.v2', 'leaks', v2Fixtures.cases.md5WithSignType)).text(),
        await (await notify('wechatpay.v2', 'leaks', v2Fixtures.cases.otherKeyMd5)).text(),
        await (await notify('alipay', 'leaks', alipayFixtures.cases.strangerKey)).text(),
        await await getOrder('leaks', 'T20251124001').then(JSON.stringify),
        await (await admin('/admin/merchants/leaks/notifications')).text(),
        await (await admin('/admin/merchants/leaks/deliveries')).text(),
      ]
      await runDurableObjectAlarm(orderStub(env, { merchantId: 'leaks', provider: 'wechatpay', outTradeNo: 'T20251124001' }))
      const everything = [...texts, ...logged].join('\n')
      for (const secret of MERCHANT_SECRETS) expect(everything).not.toContain(secret)
      expect(everything).not.toContain('PRIVATE KEY')
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})
