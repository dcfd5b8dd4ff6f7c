/**
 * A WeChat Pay v3 query answer signed under a platform certificate the merchant does not know yet, through the real
 * Worker, its merchant replica and order objects: like a notification, it brings one on-demand download of
 * `GET /v3/certificates` (at most once a minute per merchant) and is verified again; an answer whose key stays unknown
 * is still refused. Certificate downloads and answers are stood in with msw and signed live with node:crypto
 * (test/support/platform-certificates.ts, test/support/refunds.ts).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { admin, getOrder, notify, recordForwarded } from '../support/gateway'
import { inOrderStore, runDueQuery } from '../support/orders'
import {
  API,
  autoMerchant,
  certificatesEndpoint,
  minutesPass,
  putMerchant,
  scheduledDownload,
  v3OrderQueryAnswers,
} from '../support/platform-certificates'
import { v3RefundQueryAnswers } from '../support/refunds'
import { freshOrderNo, ownIds, v3Payment } from '../security/signing'

const ref = (merchantId: string, outTradeNo: string) => ({ merchantId, provider: 'wechatpay' as const, outTradeNo })

/**
 * A merchant with `confirmPaymentsByQuery` whose scheduled download left it knowing certificate C only (WeChat then
 * listed no other), and one payment of it held for confirmation: notified under certificate C's key.
 */
async function heldPayment(id: string): Promise<{ endpoint: ReturnType<typeof certificatesEndpoint>; outTradeNo: string }> {
  const endpoint = certificatesEndpoint('onlyC')
  await putMerchant(id, { ...autoMerchant(id), confirmPaymentsByQuery: true })
  await scheduledDownload(id)
  const outTradeNo = freshOrderNo('held')
  const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
  expect((await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })).status).toBe(204)
  expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'pending', events: [] })
  return { endpoint, outTradeNo }
}

const lastResult = (id: string, outTradeNo: string) =>
  inOrderStore(ref(id, outTradeNo), (store) => store.reconciliation.get()?.lastResult ?? null)

async function sync(id: string, outTradeNo: string): Promise<unknown> {
  const reply = await admin(`/admin/merchants/${id}/orders/${outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
  expect(reply.status).toBe(200)
  return reply.json()
}

beforeEach(() => {
  vi.useRealTimers()
})

describe('a v3 query answer signed under a platform certificate the merchant does not know', () => {
  it('confirms a held payment on the first alarm when /v3/certificates lists the certificate now: one download', async () => {
    const id = 'auto-certs-query-confirm'
    const { endpoint, outTradeNo } = await heldPayment(id)
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    // WeChat lists certificate A now and signs its answer with it; the last download was over a minute ago.
    endpoint.answer = 'rotated'
    await minutesPass(id, 61_000)
    const before = endpoint.requests
    const query = v3OrderQueryAnswers(id, { [outTradeNo]: 100 }, 'platformCertA')

    // Refused for its unknown serial, the download brings certificate A, and WeChat is asked again.
    await runDurableObjectAlarm(orderStub(env, ref(id, outTradeNo)))
    expect(query.asked).toEqual([outTradeNo, outTradeNo])
    expect(endpoint.requests).toBe(before + 1)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    expect(await lastResult(id, outTradeNo)).toBe('wechatpay.v3 paid (accepted)')
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))
  })

  it('refuses an answer whose key stays unknown after the download, and downloads no more within the minute', async () => {
    const id = 'auto-certs-query-unknown'
    const { endpoint, outTradeNo } = await heldPayment(id)
    await minutesPass(id, 61_000)
    const before = endpoint.requests
    // Certificate B's key: neither configured nor listed by /v3/certificates.
    const query = v3OrderQueryAnswers(id, { [outTradeNo]: 100 }, 'platformCertB')

    // The download brings no other certificate: not asked again.
    await runDurableObjectAlarm(orderStub(env, ref(id, outTradeNo)))
    expect(query.asked).toEqual([outTradeNo])
    expect(endpoint.requests).toBe(before + 1)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    expect(await lastResult(id, outTradeNo)).toBe('wechatpay.v3 failed: signature_invalid')

    // The next query, within the minute: refused again, with no download.
    await runDueQuery(ref(id, outTradeNo))
    expect(query.asked).toEqual([outTradeNo, outTradeNo])
    expect(endpoint.requests).toBe(before + 1)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    expect(await lastResult(id, outTradeNo)).toBe('wechatpay.v3 failed: signature_invalid')
  })

  it('downloads for an admin sync the same way: once for a newly listed certificate, not again within the minute', async () => {
    const id = 'auto-certs-query-sync'
    // The merchant's scheduled download failed: it knows no platform certificate at all.
    const endpoint = certificatesEndpoint('unavailable')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    endpoint.answer = 'rotated'
    await minutesPass(id, 61_000)
    const before = endpoint.requests
    const paid = freshOrderNo('sync')
    const stranger = freshOrderNo('sync')
    const query = v3OrderQueryAnswers(id, { [paid]: 100, [stranger]: 200 }, 'platformCertC')

    expect(await sync(id, paid)).toMatchObject({
      results: [{ provider: 'wechatpay', status: 'paid', query: 'wechatpay.v3 paid (accepted)' }],
    })
    expect(endpoint.requests).toBe(before + 1)
    expect(await getOrder(id, paid)).toMatchObject({ status: 'paid', amount: 100 })

    // Within the minute, an answer under a serial WeChat does not list: refused, nothing stored, no download.
    query.signer = 'platformCertB'
    expect(await sync(id, stranger)).toMatchObject({
      results: [{ provider: 'wechatpay', status: 'pending', query: 'wechatpay.v3 failed: signature_invalid' }],
    })
    expect(query.asked).toEqual([paid, paid, stranger])
    expect(endpoint.requests).toBe(before + 1)
    expect((await admin(`/admin/merchants/${id}/orders/${stranger}`)).status).toBe(404)
  })

  it('settles a registered refund whose query answer is signed under a newly listed certificate: one download', async () => {
    const id = 'auto-certs-query-refund'
    const endpoint = certificatesEndpoint('onlyC')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    const outTradeNo = freshOrderNo('rfq')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })).status).toBe(204)
    const outRefundNo = `RF-${outTradeNo}`
    const registered = await admin(`/admin/merchants/${id}/orders/${outTradeNo}/refunds/${outRefundNo}`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 40 }),
    })
    expect(registered.status).toBe(200)
    // The order query is answered too (under certificate C, known), so the refund query is the only one to download.
    v3OrderQueryAnswers(id, { [outTradeNo]: 100 }, 'platformCertC')
    // The refund answer is signed with certificate A's key, which WeChat lists only now.
    const refunds = v3RefundQueryAnswers([{ outTradeNo, outRefundNo, amount: 40, total: 100 }], 'provider', API)
    endpoint.answer = 'rotated'
    await minutesPass(id, 61_000)
    const before = endpoint.requests

    expect(await sync(id, outTradeNo)).toMatchObject({
      results: [{ provider: 'wechatpay', status: 'partially_refunded', refunds: [expect.stringContaining('succeeded (accepted)')] }],
    })
    expect(refunds.asked).toEqual([outRefundNo, outRefundNo])
    expect(endpoint.requests).toBe(before + 1)
  })
})
