/**
 * Lists and single records of the admin API for operators (and the dashboard to come): the merchant list, the
 * delivery filters (`type`, `out_trade_no`, `since`, `until`), and one delivery with its attempts and replies.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { network } from '../msw'
import { admin, forwardUrl, freshPayment, notify, ownKeys, registerFixtureMerchant, registerMerchant } from '../security/harness'
import { alipayRefund } from '../support/operations'
import { awaitProjection, makePendingDue, objectStore } from '../support/orders'

afterEach(() => {
  vi.useRealTimers()
})

async function body<T>(path: string): Promise<T> {
  const response = await admin(path)
  expect(response.status, path).toBe(200)
  return (await response.json()) as T
}

async function errorOf(path: string): Promise<[number, string]> {
  const response = await admin(path)
  return [response.status, ((await response.json()) as { error: { message: string } }).error.message]
}

interface MerchantList {
  merchants: {
    id: string
    forward: { url: string; disabled_at: string | null }
    providers: string[]
    created_at: string
    updated_at: string
  }[]
  next_cursor: string | null
}

describe('GET /admin/merchants', () => {
  it('lists merchants newest first, page by page, with their endpoint and providers and no secret', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const ids = ['list-a', 'list-b', 'list-c']
    for (const [i, id] of ids.entries()) {
      vi.setSystemTime(Date.parse('2031-05-01T00:00:00Z') + i * 1000)
      await registerMerchant(id, { identity: ownKeys(id) })
    }
    await admin('/admin/merchants/list-b/endpoint/disable', { method: 'POST' })
    const first = await body<MerchantList>('/admin/merchants?limit=2')
    expect(first.merchants.map((m) => m.id)).toEqual(['list-c', 'list-b'])
    expect(first.merchants[1]).toMatchObject({
      forward: { url: forwardUrl('list-b'), disabled_at: expect.stringMatching(/^2031-/) },
      providers: ['wechatpay', 'alipay'],
      created_at: '2031-05-01T00:00:01.000Z',
    })
    expect(JSON.stringify(first)).not.toContain('whsec_')
    const second = await body<MerchantList>(`/admin/merchants?limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`)
    expect(second.merchants.map((m) => m.id)).toEqual(['list-a'])
    expect(second.next_cursor).toBeNull()
    expect(second.merchants[0]!.forward.disabled_at).toBeNull()
  })

  it('refuses a limit outside 1–100 and a cursor it did not make, naming the parameter', async () => {
    expect(await errorOf('/admin/merchants?limit=0')).toEqual([400, 'limit: an integer from 1 to 100'])
    expect(await errorOf('/admin/merchants?limit=101')).toEqual([400, 'limit: an integer from 1 to 100'])
    expect(await errorOf('/admin/merchants?cursor=bm90LWEtY3Vyc29y')).toEqual([400, 'cursor: not a cursor returned by this endpoint'])
  })

  it('says a cursor from before an upgrade is one (versions before 2026-12 wrote base64 of ["time","id"])', async () => {
    const earlier = encodeURIComponent(btoa(JSON.stringify(['2026-11-30T10:00:00.000Z', 'list-a'])))
    expect(await errorOf(`/admin/merchants?cursor=${earlier}`)).toEqual([
      400,
      'cursor: from an earlier version of the gateway (before an upgrade); start again without a cursor',
    ])
  })
})

interface DeliveryList {
  deliveries: {
    id: string
    event_id: string
    type: string
    out_trade_no: string
    status: string
    reason: string | null
    created_at: string
  }[]
  next_cursor: string | null
}

describe('deliveries', () => {
  it('filter by type, out_trade_no, since and until', async () => {
    const M = 'lists-deliveries'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-05-02T00:00:00Z'))
    await registerFixtureMerchant(M)
    network.use(http.post(forwardUrl(M), () => HttpResponse.text('ok')))
    const a = freshPayment('alipay', { amount: 1000 })
    await notify('alipay', M, a)
    vi.setSystemTime(Date.parse('2031-05-02T01:00:00Z'))
    await notify('alipay', M, alipayRefund(a.outTradeNo, { totalFen: 1000, refundedFen: 100, outBizNo: 'RF-L' }))
    const b = freshPayment('alipay')
    await notify('alipay', M, b)
    for (const no of [a.outTradeNo, b.outTradeNo])
      await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: no }))
    await awaitProjection([a.outTradeNo, b.outTradeNo].map((outTradeNo) => ({ merchantId: M, provider: 'alipay' as const, outTradeNo })))

    const all = await body<DeliveryList>(`/admin/merchants/${M}/deliveries`)
    // Newest first: the first payment, an hour older than the rest, comes last.
    expect(all.deliveries).toHaveLength(3)
    expect(all.deliveries[2]).toMatchObject({ out_trade_no: a.outTradeNo, type: 'payment.succeeded' })
    expect(all.deliveries.every((d) => d.status === 'delivered' && d.reason === null)).toBe(true)
    const refunds = await body<DeliveryList>(`/admin/merchants/${M}/deliveries?type=refund.succeeded`)
    expect(refunds.deliveries.map((d) => d.out_trade_no)).toEqual([a.outTradeNo])
    const ofA = await body<DeliveryList>(`/admin/merchants/${M}/deliveries?out_trade_no=${encodeURIComponent(a.outTradeNo)}`)
    expect(ofA.deliveries.map((d) => d.type).sort()).toEqual(['payment.succeeded', 'refund.succeeded'])
    const early = await body<DeliveryList>(`/admin/merchants/${M}/deliveries?until=2031-05-02T00:30:00Z`)
    expect(early.deliveries.map((d) => [d.out_trade_no, d.type])).toEqual([[a.outTradeNo, 'payment.succeeded']])
    const late = await body<DeliveryList>(`/admin/merchants/${M}/deliveries?since=2031-05-02T00:30:00Z&limit=1`)
    expect(late.deliveries).toHaveLength(1)
    expect(late.next_cursor).not.toBeNull()
    expect(await errorOf(`/admin/merchants/${M}/deliveries?type=payment.paid`)).toEqual([
      400,
      'type: one of payment.succeeded, payment.closed, refund.succeeded, refund.failed, refund.closed, provider.notification, webhook.test',
    ])
    // The contract's event types include webhook.test; a test event is sent once and kept as no delivery.
    expect(await body<DeliveryList>(`/admin/merchants/${M}/deliveries?type=webhook.test`)).toEqual({ deliveries: [], next_cursor: null })
    expect((await errorOf(`/admin/merchants/${M}/deliveries?out_trade_no=${'x'.repeat(65)}`))[1]).toBe(
      'out_trade_no: must be at most 64 characters',
    )
  })

  it('GET /admin/deliveries/{id}: every attempt with its time, status, duration, error and the first 1 KiB of the reply', async () => {
    const M = 'lists-detail'
    await registerFixtureMerchant(M)
    let calls = 0
    network.use(
      http.post(forwardUrl(M), () => {
        calls += 1
        return calls === 1 ? new HttpResponse(`down ${'x'.repeat(2000)}`, { status: 503 }) : HttpResponse.text('thanks')
      }),
    )
    const payment = freshPayment('alipay')
    await notify('alipay', M, payment)
    const stub = orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo })
    await runDurableObjectAlarm(stub)
    await runInDurableObject(stub, (o) => makePendingDue(objectStore(o)))
    await runDurableObjectAlarm(stub)
    await awaitProjection([{ merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo }])
    const [listed] = (await body<DeliveryList>(`/admin/merchants/${M}/deliveries`)).deliveries
    const detail = await body<{
      id: string
      event_id: string
      status: string
      merchant_id: string
      provider: string
      attempts: { at: string; status_code: number | null; duration_ms: number; error: string | null; response_snippet: string | null }[]
      event: { type: string; data: { out_trade_no: string } }
    }>(`/admin/deliveries/${listed!.id}`)
    expect(detail).toMatchObject({ id: listed!.id, event_id: listed!.event_id, status: 'delivered', merchant_id: M, provider: 'alipay' })
    expect(detail.attempts.map((a) => a.status_code)).toEqual([503, 200])
    expect(detail.attempts[0]!.response_snippet).toHaveLength(1024)
    expect(detail.attempts[0]!.response_snippet!.startsWith('down xxx')).toBe(true)
    expect(detail.attempts[1]).toMatchObject({ response_snippet: 'thanks', error: null })
    expect(detail.attempts.every((a) => typeof a.duration_ms === 'number' && /^\d{4}-/.test(a.at))).toBe(true)
    expect(detail.event).toMatchObject({ type: 'payment.succeeded', data: { out_trade_no: payment.outTradeNo } })
    expect(await errorOf('/admin/deliveries/dlv_nothing')).toEqual([404, 'delivery dlv_nothing does not exist'])
  })
})

describe('since and until', () => {
  it('refuse a date-time that names no real time, or one outside the years 0000–9999 in UTC, and take the ISO-8601 forms they took', async () => {
    const M = 'lists-instants'
    await registerMerchant(M, { identity: ownKeys(M) })
    const at = (list: string, query: string) => `/admin/merchants/${M}/${list}?${query}`
    const notAnInstant = 'an ISO-8601 instant such as 2026-11-25T12:00:00Z'
    // Date.parse rolls each of these into the next month or day.
    expect(await errorOf(at('stats', 'since=2031-02-30T00:00:00Z'))).toEqual([400, `since: ${notAnInstant}`])
    expect(await errorOf(at('deliveries', 'since=2031-02-31T00:00:00Z'))).toEqual([400, `since: ${notAnInstant}`])
    expect(await errorOf(at('notifications', 'until=2031-05-02T24:00:00Z'))).toEqual([400, `until: ${notAnInstant}`])
    const unreal = ['2031-04-31T00:00:00Z', '2100-02-29T00:00:00Z', '2031-13-01T00:00:00Z', '2031-05-02T23:60:00Z', '2031-05-02T23:59:60Z']
    const malformed = ['2031-05-02T00:00:00+24:00', '2031-05-02T00:00:00+08', '2031-05-02T00Z', '2031-05-02', '2031-05-02T00:00:00 Z']
    for (const text of [...unreal, ...malformed]) {
      expect(await errorOf(at('deliveries', `since=${encodeURIComponent(text)}`)), text).toEqual([400, `since: ${notAnInstant}`])
    }
    // Past 9999 in UTC the stored form has a sign and six digits, and no longer compares as text.
    const outside = 'must fall within the years 0000–9999 in UTC'
    expect(await errorOf(at('stats', `until=${encodeURIComponent('9999-12-31T23:00:00-05:00')}`))).toEqual([400, `until: ${outside}`])
    expect(await errorOf(at('deliveries', `since=${encodeURIComponent('0000-01-01T00:30:00+01:00')}`))).toEqual([400, `since: ${outside}`])
    // RFC 3339's forms (a fraction, an offset, lowercase t and z, 29 February of a leap year, the ends of the range),
    // and the ISO-8601 forms taken before: no seconds, no offset (UTC), an offset without its colon.
    const taken = [
      '2032-02-29T00:00:00Z',
      '2031-05-02T08:00:00.123456+08:00',
      '2031-05-02t00:00:00z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T18:59:59-05:00',
      '2031-05-02T00:00Z',
      '2031-05-02T00:00:00',
      '2031-05-02T08:00:00+0800',
    ]
    for (const text of taken) expect((await admin(at('deliveries', `since=${encodeURIComponent(text)}`))).status, text).toBe(200)
    const window = await body<{ since: string; until: string }>(
      at('stats', `since=${encodeURIComponent('2031-05-02T08:00:30.5+08:00')}&until=2031-05-02T01:00:00Z`),
    )
    expect([window.since, window.until]).toEqual(['2031-05-02T00:00:00.000Z', '2031-05-02T01:00:00.000Z'])
  })

  it('refuse an until that is not after since on every endpoint that takes both, lists as stats and recover do', async () => {
    const M = 'lists-window-order'
    await registerMerchant(M, { identity: ownKeys(M) })
    const after = 'until: must be after since'
    // The same instant written in two offsets is an empty window too.
    for (const query of [
      'since=2031-05-02T01:00:00Z&until=2031-05-02T00:00:00Z',
      'since=2031-05-02T08:00:00%2B08:00&until=2031-05-02T00:00:00Z',
    ]) {
      for (const list of ['deliveries', 'notifications', 'stats']) {
        expect(await errorOf(`/admin/merchants/${M}/${list}?${query}`), `${list}?${query}`).toEqual([400, after])
      }
    }
    const recover = await admin(`/admin/merchants/${M}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since: '2031-05-02T01:00:00Z', until: '2031-05-02T00:00:00Z', status: 'failed' }),
    })
    expect([recover.status, ((await recover.json()) as { error: { message: string } }).error.message]).toEqual([400, after])
    // Either bound alone is a window still.
    for (const list of ['deliveries', 'notifications']) {
      expect((await admin(`/admin/merchants/${M}/${list}?since=2031-05-02T01:00:00Z`)).status).toBe(200)
      expect((await admin(`/admin/merchants/${M}/${list}?until=2031-05-02T01:00:00Z`)).status).toBe(200)
    }
  })
})

describe('cursors', () => {
  it('continue only the list that returned them: the same list of the same merchant', async () => {
    const [A, B] = ['cursor-a', 'cursor-b']
    const ordersOf = new Map<string, string[]>()
    for (const M of [A, B]) {
      await registerFixtureMerchant(M)
      network.use(http.post(forwardUrl(M), () => HttpResponse.text('ok')))
      const payments = [freshPayment('alipay'), freshPayment('alipay')]
      for (const payment of payments) {
        await notify('alipay', M, payment)
        await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo }))
      }
      // Sent twice: the order's trail (read from its object) is two entries, two pages of one.
      await notify('alipay', M, payments[0]!)
      ordersOf.set(
        M,
        payments.map((p) => p.outTradeNo),
      )
      await awaitProjection(payments.map(({ outTradeNo }) => ({ merchantId: M, provider: 'alipay' as const, outTradeNo })))
    }
    const otherList =
      'cursor: returned by another list; a cursor continues only the list that returned it (the same list of the same merchant)'

    const first = await body<DeliveryList>(`/admin/merchants/${A}/deliveries?limit=1`)
    const cursor = first.next_cursor!
    // Opaque, and a URL carries it as it is.
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    const second = await body<DeliveryList>(`/admin/merchants/${A}/deliveries?limit=1&cursor=${cursor}`)
    expect(second.deliveries.map((d) => d.id)).not.toEqual(first.deliveries.map((d) => d.id))
    expect(second.next_cursor).toBeNull()
    expect(await errorOf(`/admin/merchants/${B}/deliveries?limit=1&cursor=${cursor}`)).toEqual([400, otherList])
    expect(await errorOf(`/admin/merchants/${A}/notifications?cursor=${cursor}`)).toEqual([400, otherList])
    const filtered = await body<DeliveryList>(`/admin/merchants/${A}/deliveries?status=delivered&limit=1`)
    const filteredRest = `/admin/merchants/${A}/deliveries?status=delivered&limit=1&cursor=${filtered.next_cursor}`
    expect((await body<DeliveryList>(filteredRest)).deliveries).toHaveLength(1)

    const order = `out_trade_no=${ordersOf.get(A)![0]}`
    const trail = await body<{ next_cursor: string | null }>(`/admin/merchants/${A}/notifications?${order}&limit=1`)
    const trailRest = await body<{ notifications: unknown[] }>(
      `/admin/merchants/${A}/notifications?${order}&limit=1&cursor=${trail.next_cursor}`,
    )
    expect(trailRest.notifications).toHaveLength(1)
    expect(await errorOf(`/admin/merchants/${B}/notifications?${order}&cursor=${trail.next_cursor}`)).toEqual([400, otherList])

    const merchants = (await body<MerchantList>('/admin/merchants?limit=1')).next_cursor!
    expect((await admin(`/admin/merchants?limit=1&cursor=${merchants}`)).status).toBe(200)
    expect(await errorOf(`/admin/merchants/${A}/deliveries?cursor=${merchants}`)).toEqual([400, otherList])
    expect(await errorOf(`/admin/endpoints?cursor=${merchants}`)).toEqual([400, otherList])

    // The walks too: reseal goes through the merchants, retention through one merchant's objects.
    const post = async (path: string, cursor: string) => {
      const response = await admin(path, { method: 'POST', body: JSON.stringify({ cursor }) })
      return [response.status, ((await response.json()) as { error?: { message: string } }).error?.message]
    }
    expect(await post('/admin/reseal', merchants)).toEqual([400, otherList])
    const walk = await admin(`/admin/merchants/${A}/retention`, { method: 'POST', body: JSON.stringify({ limit: 1 }) })
    const walkCursor = ((await walk.json()) as { next_cursor: string }).next_cursor
    expect(await post(`/admin/merchants/${B}/retention`, walkCursor)).toEqual([400, otherList])
    expect(await post(`/admin/merchants/${A}/retention`, walkCursor)).toEqual([200, undefined])
  })
})
