/**
 * Every merchant set-up of contract part 2 end to end through the real Worker, order objects and D1: several apps,
 * WeChat Pay partner mode (v2 and v3, notifications and queries), Alipay third-party (ISV) apps and certificate
 * mode. Each accepted payment gives exactly one event, at the merchant it belongs to. The notifications are the
 * fixtures of test/fixtures (wechatpay-axios-plugin, node:crypto, alipay-sdk-checked).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { orderStub } from '../../src/order/order-key'
import { subjectStub } from '../../src/order/subject-key'
import type { Provider } from '../../src/providers'
import { admin, FORWARD_SECRET, notify, recordForwarded, type ForwardedCall } from '../support/gateway'
import { v3SignedHeaders } from '../security/signing'

const wx = keys.wechatpay
const { partner } = v3Fixtures
const hook = (id: string) => `https://merchant.example/hooks/${id}`
const V2_ACCEPT = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

/** The service provider's WeChat Pay section (its keys), for itself or, with `subMchid`, for a sub-merchant. */
function wechatpay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: wx.appid,
    mchid: wx.mchid,
    apiV2Key: wx.apiV2Key,
    apiV3Key: wx.apiV3Key,
    platformPublicKeys: { [wx.platformCertA.serial]: wx.platformCertA.certificatePem },
    ...fields,
  }
}

function alipay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId, alipayPublicKey: keys.alipay.alipayKey.publicKeyPem, ...fields }
}

const MERCHANTS: Record<string, Record<string, unknown>> = {
  // One mchid, three apps; one Alipay seller, two apps. (Every merchant here has a provider identity of its own,
  // but sp-direct: a direct merchant of the same mchid is the same WeChat Pay identity, so it is saved only where
  // it is used, after apps-shop has given that mchid up.)
  'apps-shop': {
    wechatpay: wechatpay({ appid: [wx.appid, v3Fixtures.secondAppid, 'wx8888888888888803'] }),
    alipay: alipay({ appId: [alipayFixtures.secondAppId, '2021000000000003'] }),
  },
  // The service provider itself (its own app), and two of its sub-merchants.
  'sp-direct': { wechatpay: wechatpay({ appid: 'wx8888888888888804' }) },
  'sub-a': {
    wechatpay: wechatpay({
      subMchid: partner.subMchid,
      subAppid: partner.subAppid,
      merchantPrivateKey: wx.merchantApi.privateKeyPem,
      merchantSerial: wx.merchantApi.serial,
    }),
  },
  'sub-b': { wechatpay: wechatpay({ subMchid: partner.otherSubMchid }) },
  'isv-shop': { alipay: alipay({ authAppId: alipayFixtures.isv.authAppId, appAuthToken: '202611BBe6b1d3e2a9c74f0a8d36e1b2c4f5a6b7' }) },
  'cert-shop': {
    alipay: alipay({
      appId: alipayFixtures.certMode.appId,
      sellerId: alipayFixtures.certMode.sellerId,
      alipayPublicKey: undefined,
      alipayPublicCert: keys.alipay.certMode.alipayCert.certificatePem,
      alipayRootCert: keys.alipay.certMode.rootCertPem,
      appCert: keys.alipay.certMode.appCert.certificatePem,
      appPrivateKey: keys.alipay.certMode.appCert.privateKeyPem,
    }),
  },
}

interface OrderView {
  status: string
  events: { type: string }[]
  notifications: { verdict: string; reason: string | null }[]
}

async function order(merchantId: string, provider: Provider, outTradeNo: string): Promise<OrderView | null> {
  const response = await admin(`/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}?provider=${provider}`)
  return response.status === 404 ? null : ((await response.json()) as OrderView)
}

async function forwardedTo(merchantId: string, provider: Provider, outTradeNo: string, calls: ForwardedCall[]): Promise<string[]> {
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
  return calls.map((call) => (JSON.parse(call.body) as { data: { out_trade_no: string } }).data.out_trade_no)
}

function atV3FixtureClock(): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(v3Fixtures.now)
}

async function save(id: string, sections: Record<string, unknown>, status = 201): Promise<void> {
  const body = JSON.parse(JSON.stringify({ forward: { url: hook(id), secret: FORWARD_SECRET }, ...sections }))
  const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
  expect(response.status, await response.clone().text()).toBe(status)
}

beforeAll(async () => {
  for (const [id, sections] of Object.entries(MERCHANTS)) if (id !== 'sp-direct') await save(id, sections)
})

afterEach(() => vi.useRealTimers())

describe('several apps per account', () => {
  it('takes payments from each listed app on every channel, one event each', async () => {
    const calls = recordForwarded(hook('apps-shop'))
    expect(await (await notify('wechatpay.v2', 'apps-shop', v2Fixtures.cases.secondAppidPayment)).text()).toBe(V2_ACCEPT)
    expect((await notify('alipay', 'apps-shop', alipayFixtures.cases.secondApp)).status).toBe(200)
    atV3FixtureClock()
    expect((await notify('wechatpay.v3', 'apps-shop', v3Fixtures.cases.transactionSecondAppid)).status).toBe(204)
    vi.useRealTimers()
    await forwardedTo('apps-shop', 'wechatpay', 'T20251124050', calls)
    await forwardedTo('apps-shop', 'wechatpay', 'T20251124001', calls)
    const orders = await forwardedTo('apps-shop', 'alipay', 'T20261122-0020', calls)
    expect(orders.sort()).toEqual(['T20251124001', 'T20251124050', 'T20261122-0020'])
    expect(calls.map((c) => c.type)).toEqual(['payment.succeeded', 'payment.succeeded', 'payment.succeeded'])
  })

  it('refuses an app it does not list with merchant_mismatch, recorded', async () => {
    const reply = await notify('wechatpay.v2', 'apps-shop', v2Fixtures.cases.wrongAppid)
    expect(reply.status).toBe(403)
    expect(await order('apps-shop', 'wechatpay', 'T20251124030')).toBeNull()
  })
})

describe('WeChat Pay partner mode (服务商)', () => {
  it('keeps two sub-merchants’ orders with the same out_trade_no apart: each paid once, each forwarded to its own merchant', async () => {
    const callsA = recordForwarded(hook('sub-a'))
    const callsB = recordForwarded(hook('sub-b'))
    atV3FixtureClock()
    expect((await notify('wechatpay.v3', 'sub-a', v3Fixtures.cases.transactionPartnerMode)).status).toBe(204)
    expect((await notify('wechatpay.v3', 'sub-b', v3Fixtures.cases.transactionPartnerSubB)).status).toBe(204)
    vi.useRealTimers()
    // The same out_trade_no on v2 is the same order of each: a duplicate for each, not a collision between them.
    expect(await (await notify('wechatpay.v2', 'sub-a', v2Fixtures.cases.partnerPayment)).text()).toBe(V2_ACCEPT)
    expect(await (await notify('wechatpay.v2', 'sub-b', v2Fixtures.cases.partnerPaymentSubB)).text()).toBe(V2_ACCEPT)
    const a = await order('sub-a', 'wechatpay', 'T20251124001')
    const b = await order('sub-b', 'wechatpay', 'T20251124001')
    expect(a).toMatchObject({ status: 'paid', events: [{ type: 'payment.succeeded' }] })
    expect(b).toMatchObject({ status: 'paid', events: [{ type: 'payment.succeeded' }] })
    expect(await forwardedTo('sub-a', 'wechatpay', 'T20251124001', callsA)).toEqual(['T20251124001'])
    expect(await forwardedTo('sub-b', 'wechatpay', 'T20251124001', callsB)).toEqual(['T20251124001'])
    const transactionOf = (calls: ForwardedCall[]) =>
      (JSON.parse(calls[0]!.body) as { data: { transaction_id: string } }).data.transaction_id
    expect(transactionOf(callsA)).toBe('4200002025112400000001')
    expect(transactionOf(callsB)).toBe('4200002025112400000002')
  })

  it('refuses sub-merchant A’s genuine notification replayed to B, and to the service provider itself', async () => {
    // apps-shop gives up the service provider's mchid (another of its own), so that sp-direct can hold it.
    const appsShop = MERCHANTS['apps-shop']!
    await save('apps-shop', { ...appsShop, wechatpay: { ...(appsShop.wechatpay as object), mchid: '1900000888' } }, 200)
    await save('sp-direct', MERCHANTS['sp-direct']!)
    atV3FixtureClock()
    const toB = await notify('wechatpay.v3', 'sub-b', v3Fixtures.cases.refundPartnerMode)
    expect({ status: toB.status, body: await toB.text() }).toEqual({
      status: 403,
      body: JSON.stringify({ code: 'FAIL', message: 'sub_mchid does not belong to this merchant' }),
    })
    const toSp = await notify('wechatpay.v3', 'sp-direct', v3Fixtures.cases.transactionPartnerMode)
    expect({ status: toSp.status, body: await toSp.text() }).toEqual({
      status: 403,
      body: JSON.stringify({ code: 'FAIL', message: 'partner-mode sub_mchid for a direct merchant' }),
    })
    // A notification about no order (a transfer) by the same rule: B's to A, A's to the provider, both refused.
    const callsA = recordForwarded(hook('sub-a'))
    const transferToA = await notify('wechatpay.v3', 'sub-a', v3Fixtures.cases.transferPartnerSubB)
    expect({ status: transferToA.status, body: await transferToA.text() }).toEqual({
      status: 403,
      body: JSON.stringify({ code: 'FAIL', message: 'sub_mchid does not belong to this merchant' }),
    })
    expect((await notify('wechatpay.v3', 'sp-direct', v3Fixtures.cases.transferPartnerSubA)).status).toBe(403)
    // And A's own is A's: forwarded as provider.notification.
    expect((await notify('wechatpay.v3', 'sub-a', v3Fixtures.cases.transferPartnerSubA)).status).toBe(204)
    await runDurableObjectAlarm(
      subjectStub(env, { merchantId: 'sub-a', provider: 'wechatpay', subjectKey: '1330000071100999991182020050700019490' }),
    )
    await vi.waitFor(() => expect(callsA.map((c) => c.type)).toEqual(['provider.notification']))
    vi.useRealTimers()
    const v2ToSp = await notify('wechatpay.v2', 'sp-direct', v2Fixtures.cases.partnerPayment)
    expect(v2ToSp.status).toBe(403)
    expect(await order('sp-direct', 'wechatpay', 'T20251124001')).toBeNull()
    // And the refund of A's order, sent to B, left B's order as it was.
    expect(await order('sub-b', 'wechatpay', 'T20251124001')).toMatchObject({ status: 'paid', events: [{ type: 'payment.succeeded' }] })
  })

  it('a v2 refund names its sub-merchant only in its unsigned envelope: A’s, re-addressed, pays nothing and refunds nothing', async () => {
    // Sub-merchants share the service provider's APIv2 key and req_info names none of them: anyone holding A's
    // refund notification can rewrite its envelope's sub_mch_id.
    const readdressed = (subMchid: string, subAppid: string) =>
      v2Fixtures.cases.partnerRefund.body
        .replace(`<sub_mch_id><![CDATA[${partner.subMchid}]]>`, `<sub_mch_id><![CDATA[${subMchid}]]>`)
        .replace(`<sub_appid><![CDATA[${partner.subAppid}]]>`, `<sub_appid><![CDATA[${subAppid}]]>`)
    const callsB = recordForwarded(hook('sub-b'))
    // B's order of that number is paid, by another transaction: the refund is not of its payment.
    const toB = await notify('wechatpay.v2', 'sub-b', { body: readdressed(partner.otherSubMchid, partner.otherSubAppid) })
    expect({ status: toB.status, body: await toB.text() }).toEqual({
      status: 403,
      body: "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[refund names another transaction than the order's payment]]></return_msg></xml>",
    })
    const b = await order('sub-b', 'wechatpay', 'T20251124001')
    expect(b).toMatchObject({ status: 'paid', events: [{ type: 'payment.succeeded' }] })
    expect(b!.notifications.at(-1)).toMatchObject({ verdict: 'rejected', reason: 'transaction_mismatch' })
    // C never saw that order: the refund does not prove a payment to C (as a direct merchant's would).
    await save('sub-c', { wechatpay: wechatpay({ subMchid: '1900000777' }) })
    const callsC = recordForwarded(hook('sub-c'))
    const toC = await notify('wechatpay.v2', 'sub-c', { body: readdressed('1900000777', partner.subAppid) })
    expect(toC.status).toBe(409)
    const c = await order('sub-c', 'wechatpay', 'T20251124001')
    expect(c?.status ?? 'none').not.toBe('paid')
    expect(c?.events ?? []).toEqual([])
    await forwardedTo('sub-b', 'wechatpay', 'T20251124001', callsB)
    await forwardedTo('sub-c', 'wechatpay', 'T20251124001', callsC)
    expect([...callsB, ...callsC].filter((call) => call.type !== 'payment.succeeded')).toEqual([])
    expect(callsC).toEqual([])
    // A's own refund is A's, applied to A's paid order.
    const toA = await notify('wechatpay.v2', 'sub-a', v2Fixtures.cases.partnerRefund)
    expect(await toA.text()).toBe(V2_ACCEPT)
    expect((await order('sub-a', 'wechatpay', 'T20251124001'))?.events.map((e) => e.type)).toEqual([
      'payment.succeeded',
      'refund.succeeded',
    ])
  })

  it('finds a sub-merchant’s lost payment through the partner query endpoint', async () => {
    const calls = recordForwarded(hook('sub-a'))
    const outTradeNo = 'T-PARTNER-QUERY'
    const seen: string[] = []
    network.use(
      http.get('https://api.mch.weixin.qq.com/v3/pay/partner/transactions/out-trade-no/:no', ({ request }) => {
        seen.push(new URL(request.url).search)
        const body = JSON.stringify({
          sp_appid: wx.appid,
          sp_mchid: wx.mchid,
          sub_appid: partner.subAppid,
          sub_mchid: partner.subMchid,
          out_trade_no: outTradeNo,
          transaction_id: '4200002026112299999999',
          trade_type: 'JSAPI',
          trade_state: 'SUCCESS',
          success_time: '2026-11-22T09:59:58+08:00',
          amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
        })
        return new HttpResponse(body, { headers: { 'content-type': 'application/json', ...v3SignedHeaders(body, 'platformCertA') } })
      }),
    )
    expect(
      (await admin(`/admin/merchants/sub-a/orders/${outTradeNo}`, { method: 'PUT', body: JSON.stringify({ amount: 100 }) })).status,
    ).toBe(200)
    const synced = await admin(`/admin/merchants/sub-a/orders/${outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(((await synced.json()) as { results: { status: string }[] }).results[0]!.status).toBe('paid')
    expect(seen).toEqual([`?sp_mchid=${wx.mchid}&sub_mchid=${partner.subMchid}`])
    expect(await forwardedTo('sub-a', 'wechatpay', outTradeNo, calls)).toEqual([outTradeNo])
  })
})

describe('Alipay third-party apps and certificate mode', () => {
  it('ISV: a notify for the authorizing app is accepted once; one for another app is refused', async () => {
    const calls = recordForwarded(hook('isv-shop'))
    expect(await (await notify('alipay', 'isv-shop', alipayFixtures.cases.isvPayment)).text()).toBe('success')
    expect(await (await notify('alipay', 'isv-shop', alipayFixtures.cases.isvPayment)).text()).toBe('success')
    expect(await forwardedTo('isv-shop', 'alipay', 'T20261122-0021', calls)).toEqual(['T20261122-0021'])
    const other = await notify('alipay', 'isv-shop', alipayFixtures.cases.isvOtherAuthApp)
    expect({ status: other.status, body: await other.text() }).toEqual({ status: 403, body: 'failure' })
    expect(await order('isv-shop', 'alipay', 'T20261122-0022')).toBeNull()
  })

  it('certificate mode: a query answer from another certificate changes nothing; the configured one pays the order once', async () => {
    const calls = recordForwarded(hook('cert-shop'))
    const outTradeNo = alipayFixtures.certMode.paidOrder
    let answer = alipayFixtures.answers.certModeOtherCert.body
    network.use(
      http.post(
        'https://openapi.alipay.com/gateway.do',
        () => new HttpResponse(answer, { headers: { 'content-type': 'text/html;charset=utf-8' } }),
      ),
    )
    expect(
      (await admin(`/admin/merchants/cert-shop/orders/${outTradeNo}`, { method: 'PUT', body: JSON.stringify({ amount: 8888 }) })).status,
    ).toBe(200)
    const sync = async () =>
      (await admin(`/admin/merchants/cert-shop/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })).json()

    expect(await sync()).toMatchObject({ results: [{ status: 'pending', query: 'alipay failed: signature_invalid' }] })
    expect(await forwardedTo('cert-shop', 'alipay', outTradeNo, calls)).toEqual([])

    answer = alipayFixtures.answers.certModePaid.body
    expect(await sync()).toMatchObject({ results: [{ status: 'paid' }] })
    // The notification, signed with the certificate's key, arrives after all: the same payment, no second event.
    expect(await (await notify('alipay', 'cert-shop', alipayFixtures.cases.certModePayment)).text()).toBe('success')
    const forged = await notify('alipay', 'cert-shop', alipayFixtures.cases.certModeOtherCert)
    expect({ status: forged.status, body: await forged.text() }).toEqual({ status: 401, body: 'failure' })
    expect(await forwardedTo('cert-shop', 'alipay', outTradeNo, calls)).toEqual([outTradeNo])
  })
})
