/**
 * The retention walk (`POST /admin/merchants/{merchantId}/retention`) through the real Worker: orders and a subject
 * whose objects have no retention date, as an earlier version left them (their alarms deleted here), each get one,
 * page by page; a second walk changes nothing, one after ORDER_RETENTION_DAYS is shortened brings the dates forward;
 * past the date each object keeps only its tombstone.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import { subjectStub } from '../../src/order/subject-key'
import { ACCEPT, admin, fixturePost, forwardUrl, freshPayment, notify, registerFixtureMerchant } from '../security/harness'
import { awaitProjection, objectStore, PROJECTION_WAIT } from '../support/orders'
import { merchantEndpoint } from '../support/operations'
import { receiveEvents } from '../support/refunds'

const M = 'retention-walk'
const DAY_MS = 24 * 3600_000
/** wrangler.toml's (400 days). */
const RETENTION_MS = Number(env.ORDER_RETENTION_DAYS) * DAY_MS
/** The Alipay service-market order of the `nonTradeV2` fixture: a subject object. */
const COMMODITY_ORDER_ID = '2026112200000018079639'
/** Well after the real clock: every alarm set is in the future, and runs only when the test runs it. */
const START = Date.parse('2031-01-01T00:00:00Z')

afterEach(() => {
  vi.useRealTimers()
})

interface RetentionReply {
  status: number
  body: { checked: number; scheduled: number; failed: number; next_cursor: string | null } | { error: { code: string; message: string } }
}

async function retention(merchantId: string, body: Record<string, unknown>): Promise<RetentionReply> {
  const response = await admin(`/admin/merchants/${merchantId}/retention`, { method: 'POST', body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as RetentionReply['body'] }
}

/** Every page of a merchant's walk, `limit` objects a page: each page's [checked, scheduled, failed]. */
async function walk(limit?: number, merchantId = M): Promise<[number, number, number][]> {
  const pages: [number, number, number][] = []
  let cursor: string | undefined
  do {
    const reply = await retention(merchantId, { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) })
    expect(reply.status).toBe(200)
    const page = reply.body as { checked: number; scheduled: number; failed: number; next_cursor: string | null }
    pages.push([page.checked, page.scheduled, page.failed])
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return pages
}

type Stub = DurableObjectStub<Rpc.DurableObjectBranded>

const alarmOf = (stub: Stub) => runInDurableObject(stub, (_: unknown, state) => state.storage.getAlarm())
const compactedAt = (stub: Stub) => runInDurableObject(stub, (o: object) => objectStore(o).compactedAt())

describe('the retention walk, once after upgrading', () => {
  it('gives each settled order and subject with no retention date its date, page by page; past it they are compacted', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(START)
    await registerFixtureMerchant(M)
    const received = receiveEvents(forwardUrl(M))
    const payments = [freshPayment('alipay'), freshPayment('alipay')]
    for (const payment of payments) expect((await notify('alipay', M, payment)).status).toBe(200)
    const accepted = await notify('alipay', M, fixturePost('alipay', alipayFixtures.cases.nonTradeV2))
    expect([accepted.status, await accepted.text()]).toEqual([ACCEPT.alipay.status, ACCEPT.alipay.body])
    const orders: OrderRef[] = payments.map((p) => ({ merchantId: M, provider: 'alipay', outTradeNo: p.outTradeNo }))
    const stubs: Stub[] = [
      ...orders.map((o) => orderStub(env, o)),
      subjectStub(env, { merchantId: M, provider: 'alipay', subjectKey: COMMODITY_ORDER_ID }),
    ]

    // Delivered and handed to D1: each object's alarm is then its retention date, ORDER_RETENTION_DAYS on.
    for (const stub of stubs) await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received).toHaveLength(3))
    await awaitProjection(orders)
    await vi.waitFor(async () => {
      const row = await env.DB.prepare('SELECT status FROM deliveries WHERE merchant_id = ? AND subject_key = ?')
        .bind(M, COMMODITY_ORDER_ID)
        .first<{ status: string }>()
      expect(row?.status).toBe('delivered')
    }, PROJECTION_WAIT)
    const dates = (await Promise.all(stubs.map(alarmOf))) as number[]
    for (const date of dates) {
      expect(date).toBeGreaterThanOrEqual(START + RETENTION_MS)
      expect(date).toBeLessThanOrEqual(Date.now() + RETENTION_MS)
    }

    // As an earlier version left them: settled, and no alarm that would ever reduce them.
    for (const stub of stubs) await runInDurableObject(stub, (_: unknown, state) => state.storage.deleteAlarm())
    expect(await Promise.all(stubs.map(alarmOf))).toEqual([null, null, null])

    // One object a page: the two orders, then the subject (from its delivery in D1); each gets its date back.
    expect(await walk(1)).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [1, 1, 0],
    ])
    expect(await Promise.all(stubs.map(alarmOf))).toEqual(dates)
    // A second walk finds each with its date, and changes nothing.
    expect(await walk()).toEqual([[3, 0, 0]])
    expect(await Promise.all(stubs.map(alarmOf))).toEqual(dates)

    // A shorter ORDER_RETENTION_DAYS: the next walk brings each date forward, and only once.
    for (const stub of stubs) {
      await runInDurableObject(stub, (o: object) => {
        ;(o as { env: Env }).env = { ...env, ORDER_RETENTION_DAYS: '100' } as Env
      })
    }
    expect(await walk()).toEqual([[3, 3, 0]])
    const sooner = dates.map((date) => date - RETENTION_MS + 100 * DAY_MS)
    expect(await Promise.all(stubs.map(alarmOf))).toEqual(sooner)
    expect(await walk()).toEqual([[3, 0, 0]])

    // Past the date, each object keeps only its tombstone.
    vi.setSystemTime(Math.max(...sooner) + 1000)
    for (const stub of stubs) await runDurableObjectAlarm(stub)
    for (const stub of stubs) expect(await compactedAt(stub)).not.toBeNull()
    // Reduced, there is nothing left to date: a walk after it schedules nothing.
    expect(await walk()).toEqual([[3, 0, 0]])
  })

  it('leaves an object whose alarm is running to that run, and goes on past an object it cannot reach', async () => {
    const merchantId = `${M}-busy`
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(START)
    await registerFixtureMerchant(merchantId)
    receiveEvents(forwardUrl(merchantId))
    const payments = [freshPayment('alipay'), freshPayment('alipay')]
    for (const payment of payments) expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    const orders: OrderRef[] = payments.map((p) => ({ merchantId, provider: 'alipay', outTradeNo: p.outTradeNo }))
    const [running, unreachable] = [orderStub(env, orders[0]!), orderStub(env, orders[1]!)]
    for (const stub of [running, unreachable]) await runDurableObjectAlarm(stub)
    await awaitProjection(orders)
    for (const stub of [running, unreachable]) await runInDurableObject(stub, (_: unknown, state) => state.storage.deleteAlarm())

    // While an alarm runs its alarm reads as none, and the run may still owe its hand-off to the queue: the walk's
    // call leaves the object to it, and the run dates it itself.
    const scheduledDuringRun = await runInDurableObject(running, async (o: OrderObject) => {
      const run = o.alarm()
      const scheduled = await o.scheduleRetention()
      await run
      return scheduled
    })
    expect(scheduledDuringRun).toBe(false)
    const date = await alarmOf(running)
    expect(date).toBeGreaterThanOrEqual(START + RETENTION_MS)

    // An object whose call fails is counted, and the walk goes on with the others; reachable again, the next walk
    // dates it.
    await runInDurableObject(running, (_: unknown, state) => state.storage.deleteAlarm())
    await runInDurableObject(unreachable, (o: object) => {
      ;(objectStore(o) as { exists: () => boolean }).exists = () => {
        throw new Error('storage unreachable')
      }
    })
    expect(await walk(undefined, merchantId)).toEqual([[2, 1, 1]])
    expect(await alarmOf(running)).toBe(date)
    expect(await alarmOf(unreachable)).toBeNull()
    await runInDurableObject(unreachable, (o: object) => {
      delete (objectStore(o) as { exists?: unknown }).exists
    })
    expect(await walk(undefined, merchantId)).toEqual([[2, 1, 0]])
    expect(await alarmOf(unreachable)).toBeGreaterThanOrEqual(START + RETENTION_MS)
  })

  it('leaves an object with work left alone: its sooner alarm, a delivery retry, stays', async () => {
    const merchantId = `${M}-pending`
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(START)
    await registerFixtureMerchant(merchantId)
    merchantEndpoint(forwardUrl(merchantId), () => 503)
    const payment = freshPayment('alipay')
    expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }
    const stub = orderStub(env, order)
    // The first attempt fails: the alarm is the retry, minutes away, and the delivery is still pending.
    await runDurableObjectAlarm(stub)
    await awaitProjection([order])
    const retry = await alarmOf(stub)
    expect(retry).toBeLessThan(START + DAY_MS)
    expect(await walk(undefined, merchantId)).toEqual([[1, 0, 0]])
    expect(await alarmOf(stub)).toBe(retry)
  })

  it('refuses a cursor it did not make, a limit out of range, and a merchant that does not exist', async () => {
    await registerFixtureMerchant(`${M}-errors`)
    // A list's cursor of an earlier version is said to be one.
    expect(await retention(`${M}-errors`, { cursor: btoa(JSON.stringify(['2031-01-01T00:00:00.000Z', 'dlv_1'])) })).toMatchObject({
      status: 400,
      body: { error: { message: 'cursor: from an earlier version of the gateway (before an upgrade); start again without a cursor' } },
    })
    const notOurs = [
      btoa(JSON.stringify({ walk: 'refunds', after: null })),
      btoa(JSON.stringify({ walk: 'orders', after: ['alipay'] })),
      btoa(JSON.stringify({ walk: 'subjects', after: ['alipay', 7] })),
      'nope',
    ]
    for (const cursor of notOurs) {
      expect(await retention(`${M}-errors`, { cursor })).toEqual({
        status: 400,
        body: { error: { code: 'invalid_request', message: 'cursor: not a cursor returned by this endpoint' } },
      })
    }
    for (const limit of [0, 101]) expect((await retention(`${M}-errors`, { limit })).status).toBe(400)
    expect(await retention('nobody-here', {})).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'merchant nobody-here does not exist' } },
    })
  })
})
