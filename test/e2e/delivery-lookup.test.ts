/**
 * `GET /admin/deliveries/{id}` and its replay find a delivery the moment an order lists it: the id names the object that
 * holds it, so the lookup asks that object (the authority), not D1, which trails it by a queue batch. Ids of earlier
 * versions (`dlv_<random>`) are still found through D1.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import { network } from '../msw'
import { admin, forwardUrl, freshPayment, notify, registerFixtureMerchant } from '../security/harness'
import { getOrder } from '../support/gateway'
import { objectStore, PROJECTION_WAIT } from '../support/orders'
import { setInstanceEnv } from '../support/instance-env'

const MERCHANT = 'delivery-lookup'
const order = (outTradeNo: string) => orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo })

/** A queue that takes nothing: the object's state never reaches D1 while it is installed. */
const refusingQueue = {
  send: () => Promise.reject(new Error('Queue send failed')),
  sendBatch: () => Promise.reject(new Error('Queue send failed')),
} as unknown as Queue

const projectedDelivery = (id: string) => env.DB.prepare('SELECT id FROM deliveries WHERE id = ?').bind(id).first()

beforeAll(async () => {
  await registerFixtureMerchant(MERCHANT)
})

beforeEach(() => {
  network.use(http.post(forwardUrl(MERCHANT), () => HttpResponse.text('ok')))
})

describe('a delivery id', () => {
  it('names its object: the delivery is shown and replayed before D1 has it', async () => {
    const payment = freshPayment('alipay')
    await setInstanceEnv(order(payment.outTradeNo), { ...env, PROJECTION: refusingQueue })
    expect((await notify('alipay', MERCHANT, payment)).status).toBe(200)
    const [listed] = (await getOrder(MERCHANT, payment.outTradeNo)).deliveries
    expect(listed?.id).toMatch(/^dlv_o[A-Za-z0-9_-]{54}$/)
    expect(await projectedDelivery(listed!.id)).toBeNull()

    const shown = await admin(`/admin/deliveries/${listed!.id}`)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({
      id: listed!.id,
      event_id: listed!.event_id,
      merchant_id: MERCHANT,
      out_trade_no: payment.outTradeNo,
    })
    const replay = await admin(`/admin/deliveries/${listed!.id}/replay`, { method: 'POST' })
    expect(replay.status).toBe(202)
    expect(await replay.json()).toMatchObject({ id: listed!.id, out_trade_no: payment.outTradeNo, status: 'pending' })
    expect(await projectedDelivery(listed!.id)).toBeNull()
  })

  it('that names no object of this gateway is 404, whichever namespace it claims', async () => {
    const payment = freshPayment('alipay')
    expect((await notify('alipay', MERCHANT, payment)).status).toBe(200)
    const [listed] = (await getOrder(MERCHANT, payment.outTradeNo)).deliveries
    const asSubject = listed!.id.replace(/^dlv_o/, 'dlv_s')
    const noObject = `dlv_o${'A'.repeat(54)}`
    // An object of this gateway that holds nothing: reached, asked, and left without storage.
    const emptyObject = `dlv_o${Buffer.from(`${env.ORDERS.newUniqueId().toString()}${'00'.repeat(8)}`, 'hex').toString('base64url')}`
    // The last 11 characters are the random bytes' alone.
    const otherRandom = `${listed!.id.slice(0, -11)}${'A'.repeat(11)}`
    for (const id of [asSubject, noObject, emptyObject, otherRandom]) {
      const shown = await admin(`/admin/deliveries/${id}`)
      expect([id, shown.status, await shown.json()]).toEqual([
        id,
        404,
        { error: { code: 'not_found', message: `delivery ${id} does not exist` } },
      ])
      expect((await admin(`/admin/deliveries/${id}/replay`, { method: 'POST' })).status).toBe(404)
    }
  })

  it('of an earlier version (no object named) is found through D1 once projected', async () => {
    const payment = freshPayment('alipay')
    const legacyId = `dlv_${crypto.randomUUID().replaceAll('-', '')}`
    // The object names its next delivery the way earlier versions did.
    await runInDurableObject(order(payment.outTradeNo), (o: OrderObject) => {
      objectStore(o).newDeliveryId = () => legacyId
    })
    expect((await notify('alipay', MERCHANT, payment)).status).toBe(200)
    await runDurableObjectAlarm(order(payment.outTradeNo))
    await vi.waitFor(async () => expect(await projectedDelivery(legacyId)).toEqual({ id: legacyId }), PROJECTION_WAIT)

    const shown = await admin(`/admin/deliveries/${legacyId}`)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ id: legacyId, merchant_id: MERCHANT, out_trade_no: payment.outTradeNo, status: 'delivered' })
    expect((await admin(`/admin/deliveries/${legacyId}/replay`, { method: 'POST' })).status).toBe(202)

    // Past its retention date the object keeps only its tombstone: D1 still lists the delivery, and the 404 says why.
    await setInstanceEnv(order(payment.outTradeNo), { ...env, ORDER_RETENTION_DAYS: '0' } as unknown as Env)
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(order(payment.outTradeNo))
      expect(await runInDurableObject(order(payment.outTradeNo), (o: OrderObject) => objectStore(o).compactedAt())).not.toBeNull()
    })
    for (const response of [
      await admin(`/admin/deliveries/${legacyId}`),
      await admin(`/admin/deliveries/${legacyId}/replay`, { method: 'POST' }),
    ]) {
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
        `delivery ${legacyId} is no longer kept: its order passed its retention date (ORDER_RETENTION_DAYS) and its event was dropped; the deliveries list keeps its status`,
      )
    }
  })
})
