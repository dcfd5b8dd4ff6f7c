import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, vi } from 'vitest'
import { MAX_DELIVERY_ATTEMPTS } from '../../src/delivery/schedule'
import type { OrderObject } from '../../src/order/order-object'
import type { VerifiedNotification } from '../../src/providers/core/types'
import { network } from '../msw'
import { receive, type Received } from '../support/operations'
import {
  deliveryRows,
  FORWARD,
  inOrderStore,
  makeDeliveriesDue,
  PROJECTION_WAIT,
  paymentNotification,
  refundNotification,
  SETTINGS,
  stubFor,
  uniqueOrder,
  makeLastAttemptDue,
} from '../support/orders'

/** A merchant endpoint that answers with the given statuses in turn (then 200) and records every call. */
function merchantEndpoint(statuses: number[] = [], headers: Record<string, string> = {}) {
  const received: Received[] = []
  network.use(
    http.post(FORWARD.url, async ({ request }) => {
      received.push(await receive(request))
      const status = statuses.shift() ?? 200
      return new HttpResponse(status === 200 ? 'ok' : 'merchant says no', { status, headers })
    }),
  )
  return received
}

const ingest = (order: ReturnType<typeof uniqueOrder>, notification: VerifiedNotification = paymentNotification(order)) =>
  stubFor(order).ingest({ order, notification, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })

async function runAlarm(order: ReturnType<typeof uniqueOrder>): Promise<void> {
  await runDurableObjectAlarm(stubFor(order))
}

describe('delivery from the order object alarm', () => {
  it('retries after failures with the same webhook-id, freshly signed, until the merchant accepts', async () => {
    const order = uniqueOrder()
    const received = merchantEndpoint([500, 503])
    const { eventIds } = await ingest(order)

    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(1))
    const [afterFirst] = await deliveryRows(order)
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 })
    // Second attempt is due ~5 s later (±20 % jitter).
    expect(afterFirst!.next_attempt_at! - Date.now()).toBeGreaterThan(3_500)
    expect(afterFirst!.next_attempt_at! - Date.now()).toBeLessThan(6_500)

    await makeDeliveriesDue(order)
    await runAlarm(order)
    await makeDeliveriesDue(order)
    await runAlarm(order)
    await vi.waitFor(async () =>
      expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 }),
    )

    expect(received.map((r) => r.id)).toEqual([eventIds[0], eventIds[0], eventIds[0]])
    const wh = new Webhook(FORWARD.secret.slice('whsec_'.length))
    for (const r of received) {
      expect(() =>
        wh.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature }),
      ).not.toThrow()
    }
    // Every attempt is on record with its status code and the start of the reply.
    const snapshot = await stubFor(order).snapshot()
    expect(snapshot!.deliveries[0]!.attempt_log.map((a) => a.status_code)).toEqual([500, 503, 200])
  })

  it('delivers the events of one order in the order they happened, one at a time', async () => {
    const order = uniqueOrder()
    const received = merchantEndpoint([500])
    await ingest(order)
    await ingest(order, refundNotification(order, 'R1', 40))

    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(1))
    // The payment failed once: the refund waits behind it instead of overtaking it.
    expect(received.map((r) => r.type)).toEqual(['payment.succeeded'])
    expect((await deliveryRows(order)).map((d) => d.status)).toEqual(['pending', 'pending'])
    // The admin views say so: the refund has no attempt time of its own (not its creation time, long past) while the
    // payment's retry goes first.
    const snapshot = (await stubFor(order).snapshot())!
    expect(snapshot.deliveries.map((d) => [d.type, d.next_attempt_at !== null])).toEqual([
      ['payment.succeeded', true],
      ['refund.succeeded', false],
    ])
    expect(Date.parse(snapshot.deliveries[0]!.next_attempt_at!)).toBeGreaterThan(Date.now())
    expect(await stubFor(order).delivery(snapshot.deliveries[1]!.id)).toMatchObject({ status: 'pending', next_attempt_at: null })

    await makeDeliveriesDue(order)
    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(3))
    expect(received.map((r) => r.type)).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
  })

  it('stops at 410 Gone, keeps the delivery as failed, and replays it on request with the same id', async () => {
    const order = uniqueOrder()
    const received = merchantEndpoint([410])
    const { eventIds } = await ingest(order)
    await runAlarm(order)
    await vi.waitFor(async () =>
      expect((await deliveryRows(order))[0]).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 }),
    )

    const [failed] = await deliveryRows(order)
    // The merchant fixed its endpoint and saved its settings again (a newer version re-enables it).
    await stubFor(order).replay(failed!.id, { ...SETTINGS, version: 2 })
    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(2))
    expect(received[1]!.id).toBe(eventIds[0])
    expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered', attempts: 2 })
  })

  it('a 410 from the endpoint the merchant replaced during the attempt disables nothing: the event goes to the new one', async () => {
    const order = uniqueOrder('GONE')
    const newUrl = 'https://merchant.example/hooks/new-endpoint'
    let attemptIsOut!: () => void
    let answerOld!: () => void
    const attemptOut = new Promise<void>((resolve) => (attemptIsOut = resolve))
    const oldAnswered = new Promise<void>((resolve) => (answerOld = resolve))
    const toNewUrl: string[] = []
    network.use(
      http.post(FORWARD.url, async () => {
        attemptIsOut()
        await oldAnswered
        return new HttpResponse('gone', { status: 410 })
      }),
      http.post(newUrl, ({ request }) => {
        toNewUrl.push(request.headers.get('webhook-id')!)
        return new HttpResponse('ok')
      }),
    )
    const { eventIds } = await ingest(order)
    const alarm = runAlarm(order)
    await attemptOut
    // While the attempt to the old URL is out, a refund arrives with the merchant's new settings (version 2).
    const newSettings = { forward: { url: newUrl, secret: FORWARD.secret }, version: 2 }
    const refund = await stubFor(order).ingest({
      order,
      notification: refundNotification(order, 'R1', 30),
      settings: newSettings,
      receivedAt: Date.now(),
      source: 'notify',
    })
    answerOld()
    await alarm

    const state = await inOrderStore(order, (store) => ({
      disabledAt: store.forwardTarget.get()?.disabledAt,
      deliveries: store.deliveries.all().map((d) => [d.eventType, d.status, d.attempts, d.retriesFrom ?? 0]),
    }))
    // The 410 used no step of the new endpoint's retry schedule: it starts afresh after that attempt.
    expect(state).toEqual({
      disabledAt: null,
      deliveries: [
        ['payment.succeeded', 'delivered', 2, 1],
        ['refund.succeeded', 'delivered', 1, 0],
      ],
    })
    expect(toNewUrl).toEqual([eventIds[0], refund.eventIds[0]])
  })

  it('marks a delivery failed after the last scheduled attempt', async () => {
    const order = uniqueOrder()
    const received = merchantEndpoint([500])
    await ingest(order)
    await inOrderStore(order, (store) => {
      for (const record of store.events.allRecords()) store.events.put({ ...record, delivery: { ...record.delivery!, attempts: 10 } })
    })
    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(1))
    expect((await deliveryRows(order))[0]).toMatchObject({ status: 'failed', attempts: 11, next_attempt_at: null, last_error: 'HTTP 500' })
  })

  it('honours Retry-After within bounds', async () => {
    const order = uniqueOrder()
    merchantEndpoint([503], { 'retry-after': '6' })
    await ingest(order)
    await runAlarm(order)
    await vi.waitFor(async () => expect((await deliveryRows(order))[0]!.attempts).toBe(1))
    const wait = (await deliveryRows(order))[0]!.next_attempt_at! - Date.now()
    // The first retry waits 5 s ± 20 %; Retry-After 6 s asks for more, within 1.3 × 5 s.
    expect(wait).toBeGreaterThan(5_000)
    expect(wait).toBeLessThanOrEqual(6_000)
  })

  it('delivers an accepted notification after the runtime restarts the object', async () => {
    const order = uniqueOrder()
    const received = merchantEndpoint()
    await runInDurableObject(stubFor(order), async (instance: OrderObject) => {
      // Accept the notification without letting the alarm run, then lose the in-memory object.
      await instance.ingest({
        order,
        notification: paymentNotification(order),
        settings: SETTINGS,
        receivedAt: Date.now(),
        source: 'notify',
      })
    })
    await evictDurableObject(stubFor(order))
    await runAlarm(order)
    await vi.waitFor(() => expect(received).toHaveLength(1))
    expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered' })
  })

  it('projects deliveries to D1 so the admin API can list them', async () => {
    const order = uniqueOrder()
    merchantEndpoint()
    const { eventIds } = await ingest(order)
    await runAlarm(order)
    await vi.waitFor(async () => {
      const row = await env.DB.prepare('SELECT status, out_trade_no, type FROM deliveries WHERE event_id = ?').bind(eventIds[0]).first()
      expect(row).toEqual({ status: 'delivered', out_trade_no: order.outTradeNo, type: 'payment.succeeded' })
    }, PROJECTION_WAIT)
  })
})

/** A merchant endpoint that holds its first request until `answer(status)`, then answers every later one 200. */
function heldEndpoint() {
  const received: Received[] = []
  let attemptIsOut!: () => void
  let answer!: (status: number) => void
  const attemptOut = new Promise<void>((resolve) => (attemptIsOut = resolve))
  const answered = new Promise<number>((resolve) => (answer = resolve))
  network.use(
    http.post(FORWARD.url, async ({ request }) => {
      received.push(await receive(request))
      if (received.length > 1) return new HttpResponse('ok')
      attemptIsOut()
      const status = await answered
      return new HttpResponse(status === 200 ? 'ok' : 'merchant says no', { status })
    }),
  )
  return { received, attemptOut, answer }
}

describe('a replay that comes while the delivery’s attempt is out', () => {
  it('sends the event again at once when that attempt fails, even its last scheduled one', async () => {
    const order = uniqueOrder('REPLAYOUT')
    const merchant = heldEndpoint()
    const { eventIds } = await ingest(order)
    // All but the last scheduled attempt failed; the last is due now.
    await makeLastAttemptDue(order)
    const [row] = await deliveryRows(order)
    const alarm = runAlarm(order)
    await merchant.attemptOut
    expect((await stubFor(order).replay(row!.id, SETTINGS))?.status).toBe('pending')
    merchant.answer(503)
    await alarm
    expect(merchant.received.map((r) => r.id)).toEqual([eventIds[0], eventIds[0]])
    expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered', attempts: MAX_DELIVERY_ATTEMPTS + 1 })
  })

  it('counts that attempt as the replay when it lands: the event is not sent twice', async () => {
    const order = uniqueOrder('REPLAYLANDS')
    const merchant = heldEndpoint()
    await ingest(order)
    const [row] = await deliveryRows(order)
    const alarm = runAlarm(order)
    await merchant.attemptOut
    await stubFor(order).replay(row!.id, SETTINGS)
    merchant.answer(200)
    await alarm
    await runAlarm(order)
    expect(merchant.received).toHaveLength(1)
    expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered', attempts: 1 })
  })

  it('a replay of a later event sends the earlier one again at once when its attempt, out meanwhile, fails', async () => {
    const order = uniqueOrder('REPLAYBEHIND')
    const merchant = heldEndpoint()
    await ingest(order)
    await ingest(order, refundNotification(order, 'R1', 30))
    // The payment failed 7 times (the merchant was down); its 8th attempt, hours after the 7th, is due now.
    await inOrderStore(order, (store) => {
      const [payment] = store.events.allRecords()
      store.events.put({ ...payment!, delivery: { ...payment!.delivery!, attempts: 7, nextAttemptAt: 0 } })
    })
    const [, refund] = await deliveryRows(order)
    const alarm = runAlarm(order)
    await merchant.attemptOut
    await stubFor(order).replay(refund!.id, SETTINGS)
    merchant.answer(503)
    await alarm
    expect(merchant.received.map((r) => r.type)).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
    expect((await deliveryRows(order)).map((d) => d.status)).toEqual(['delivered', 'delivered'])
  })
})
