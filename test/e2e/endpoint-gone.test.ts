/**
 * Standard Webhooks' 410 Gone: the merchant's endpoint asks not to be called again. paygate stops
 * sending to it (merchant-wide), keeps the events as failed for replay, and resumes when the
 * merchant is saved again.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import { orderStub } from '../../src/order/order-key'
import { network } from '../msw'
import { admin, FORWARD_URL, getOrder, notify, putMerchant } from '../support/gateway'

const MERCHANT = 'gone'

describe('an endpoint that answers 410 Gone', () => {
  beforeAll(async () => {
    await putMerchant(MERCHANT)
  })

  it('is disabled for the whole merchant, and re-enabled by saving the merchant; failed events replay', async () => {
    const calls: string[] = []
    network.use(
      http.post(FORWARD_URL, async ({ request }) => {
        calls.push(request.headers.get('webhook-id')!)
        return new HttpResponse('gone', { status: calls.length === 1 ? 410 : 200 })
      }),
    )
    // First order: its delivery meets 410.
    expect((await notify('alipay', MERCHANT, alipayFixtures.cases.tradeSuccessUtf8)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo: 'T20261122-0001' }))
    await vi.waitFor(async () => expect((await getOrder(MERCHANT, 'T20261122-0001')).deliveries[0]).toMatchObject({ status: 'failed' }))
    const merchant = (await (await admin(`/admin/merchants/${MERCHANT}`)).json()) as { forward: { disabled_at?: string } }
    expect(merchant.forward.disabled_at).toMatch(/^\d{4}-/)

    // Another order of the same merchant: not sent to the disabled endpoint at all.
    expect((await notify('wechatpay.v2', MERCHANT, v2Fixtures.cases.md5WithSignType)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'wechatpay', outTradeNo: 'T20251124001' }))
    await vi.waitFor(async () => expect((await getOrder(MERCHANT, 'T20251124001')).deliveries[0]).toMatchObject({ status: 'failed' }))
    expect(calls).toHaveLength(1)

    // The merchant fixes its endpoint and saves its settings: re-enabled; replay sends the same event id.
    await putMerchant(MERCHANT)
    expect(((await (await admin(`/admin/merchants/${MERCHANT}`)).json()) as { forward: object }).forward).not.toHaveProperty('disabled_at')
    const failed = (await getOrder(MERCHANT, 'T20251124001')).deliveries[0]!
    await vi.waitFor(async () => {
      const listed = (await (await admin(`/admin/merchants/${MERCHANT}/deliveries?status=failed`)).json()) as {
        deliveries: { id: string }[]
      }
      expect(listed.deliveries.map((d) => d.id)).toContain(failed.id)
    })
    const replay = await admin(`/admin/deliveries/${failed.id}/replay`, { method: 'POST' })
    expect(replay.status).toBe(202)
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'wechatpay', outTradeNo: 'T20251124001' }))
    await vi.waitFor(() => expect(calls).toEqual([calls[0], failed.event_id]))
    await vi.waitFor(async () => expect((await getOrder(MERCHANT, 'T20251124001')).deliveries[0]).toMatchObject({ status: 'delivered' }))
  })
})
