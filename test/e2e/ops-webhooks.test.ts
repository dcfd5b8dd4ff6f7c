/**
 * Operational webhooks and the test event through the real Worker, msw as the ops endpoint and the merchant:
 * `notifications.rejected_spike`, `certificate.expiring` (the daily cron), retries of the ops endpoint with the same
 * webhook-id and timed from an attempt's start, nothing queued without an ops endpoint, and `POST …/test-event`.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import type { MerchantMonitor } from '../../src/ops/monitor-object'
import { monitorStub, reportDeliveryRun } from '../../src/ops/monitor'
import { drainOpsEvents } from '../../src/ops/outbox'
import { MonitorStore } from '../../src/storage/monitor'
import { network, OPS_URL } from '../msw'
import { admin, FORWARD_SECRET, fixturePost, forwardUrl, notify, registerFixtureMerchant } from '../security/harness'
import { merchantEndpoint, opsEndpoint, receive, runDailyCron, runMonitorAlarm, type Received } from '../support/operations'
import { checkAllCertificates } from '../../src/ops/certificates'
import { defaultRegistry } from '../../src/providers'
import { setInstanceEnv } from '../support/instance-env'

afterEach(() => {
  vi.useRealTimers()
})

describe('notifications.rejected_spike', () => {
  it('is sent once a merchant got 20 rejected notifications within 5 minutes, and not again within the 5 minutes', async () => {
    const M = 'ops-spike'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint()
    const forged = fixturePost('alipay', alipayFixtures.cases.tamperedAmount)
    for (let i = 0; i < 19; i++) expect((await notify('alipay', M, forged)).status).toBeGreaterThanOrEqual(400)
    await runMonitorAlarm(M)
    expect(ops).toEqual([])
    for (let i = 0; i < 3; i++) await notify('alipay', M, forged)
    await vi.waitFor(async () => {
      await runMonitorAlarm(M)
      expect(ops.map((e) => e.type)).toEqual(['notifications.rejected_spike'])
    })
    expect(ops[0]!.data).toMatchObject({ merchant_id: M, rejected: 20, window_minutes: 5, rejected_by_reason: { signature_invalid: 20 } })
  })
})

/** How many rejections the merchant's monitor has counted so far. */
function rejectionsCounted(merchantId: string): Promise<number> {
  return runInDurableObject(monitorStub(env, merchantId), (_: MerchantMonitor, state) =>
    Object.values(new MonitorStore(state.storage.sql).rejectionsSince(0)).reduce((sum, n) => sum + n, 0),
  )
}

describe('notifications.rejected_spike’s window', () => {
  /** Sends 10 forged notifications at each instant, then lets the monitor send what it queued. */
  async function rejectAt(merchantId: string, instants: string[]): Promise<Received[]> {
    await registerFixtureMerchant(merchantId)
    const ops = opsEndpoint(merchantId)
    vi.useFakeTimers({ toFake: ['Date'] })
    const forged = fixturePost('alipay', alipayFixtures.cases.tamperedAmount)
    for (const instant of instants) {
      vi.setSystemTime(Date.parse(instant))
      for (let i = 0; i < 10; i++) expect((await notify('alipay', merchantId, forged)).status).toBeGreaterThanOrEqual(400)
    }
    // The rejections reach the monitor after the replies (waitUntil): its alarm runs once they are counted.
    await vi.waitFor(async () => expect(await rejectionsCounted(merchantId)).toBe(10 * instants.length))
    await runMonitorAlarm(merchantId)
    return ops
  }

  it('counts 20 within 5 minutes wherever the minutes fall (00:00:59 and 00:05:01, six minute buckets apart)', async () => {
    const ops = await rejectAt('ops-spike-straddle', ['2031-07-01T00:00:59Z', '2031-07-01T00:05:01Z'])
    await vi.waitFor(() => expect(ops.map((e) => e.type)).toEqual(['notifications.rejected_spike']))
    expect(ops[0]!.data).toMatchObject({ rejected: 20, since: '2031-07-01T00:00:01.000Z', until: '2031-07-01T00:05:01.000Z' })
  })

  it('does not count 20 spread over more than 5 minutes (00:00:00 and 00:05:01)', async () => {
    const ops = await rejectAt('ops-spike-spread', ['2031-07-01T00:00:00Z', '2031-07-01T00:05:01Z'])
    await runMonitorAlarm('ops-spike-spread')
    expect(ops).toEqual([])
  })
})

describe('WeChat Pay signature probes', () => {
  it('are refused (401) but never count towards notifications.rejected_spike', async () => {
    const M = 'ops-probes'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(v3Fixtures.now)
    const probe = fixturePost('wechatpay.v3', v3Fixtures.cases.probe)
    for (let i = 0; i < 25; i++) expect((await notify('wechatpay.v3', M, probe)).status).toBe(401)
    await runMonitorAlarm(M)
    expect(ops).toEqual([])
  })
})

describe('certificate.expiring', () => {
  it('tells about a configured platform certificate within 30 days of expiry, once, from the daily cron', async () => {
    const M = 'ops-certificates'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-07-01T00:00:00Z'))
    await registerFixtureMerchant(M)
    const ops = opsEndpoint()
    await runDailyCron()
    await runMonitorAlarm(M)
    expect(ops).toEqual([])

    // The fixture's certificate A expires on 2036-11-22; 21 days before, the cron finds it.
    vi.setSystemTime(Date.parse('2036-11-01T03:17:00Z'))
    await runDailyCron()
    await runMonitorAlarm(M)
    const { platformCertA } = keys.wechatpay
    expect(ops.map((e) => [e.type, e.data])).toEqual([
      [
        'certificate.expiring',
        {
          merchant_id: M,
          provider: 'wechatpay',
          name: `platformPublicKeys.${platformCertA.serial}`,
          expires_at: '2036-11-22T07:46:02.000Z',
        },
      ],
    ])
    // The next day's run tells nobody again.
    vi.setSystemTime(Date.parse('2036-11-02T03:17:00Z'))
    await runDailyCron()
    await runMonitorAlarm(M)
    expect(ops).toHaveLength(1)
  })
})

describe('the daily certificate check', () => {
  it('goes on past a merchant whose monitor cannot be reached: the others are told, that one is logged', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-07-01T00:00:00Z'))
    await registerFixtureMerchant('ops-cert-unreachable')
    await registerFixtureMerchant('ops-cert-reachable')
    const ops = opsEndpoint('ops-cert-reachable')
    const monitors = {
      getByName: (name: string) =>
        name === 'ops-cert-unreachable'
          ? { certificatesExpiring: () => Promise.reject(new Error('monitor unreachable')) }
          : env.MONITORS.getByName(name),
    }
    // The fixture's certificate A expires on 2036-11-22: 21 days before, both merchants have it expiring.
    vi.setSystemTime(Date.parse('2036-11-01T03:17:00Z'))
    const checked = await checkAllCertificates({ ...env, MONITORS: monitors } as unknown as Env, defaultRegistry, Date.now())
    expect(checked.failed).toBe(1)
    await runMonitorAlarm('ops-cert-reachable')
    expect(ops.map((e) => e.type)).toEqual(['certificate.expiring'])
  })
})

/** Runs the merchant's monitor object with `value` as its env (an ops webhook unset, say) until set again. */
function monitorEnv(merchantId: string, value: Env): Promise<void> {
  return setInstanceEnv(monitorStub(env, merchantId), value)
}

describe('certificate.expiring before the ops webhook is configured', () => {
  it('is told once it is: nothing is remembered as told while there was no one to tell', async () => {
    const M = 'ops-certificates-later'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-07-01T00:00:00Z'))
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    // Not configured yet (say OPS_WEBHOOK_SECRET put before OPS_WEBHOOK_URL is deployed) when the cron finds the
    // fixture's certificate A (expiring on 2036-11-22) 21 days before.
    await monitorEnv(M, { ...env, OPS_WEBHOOK_URL: undefined } as Env)
    vi.setSystemTime(Date.parse('2036-11-01T03:17:00Z'))
    await runDailyCron()
    await runMonitorAlarm(M)
    expect(ops).toEqual([])
    // Configured; the next day's check tells it, once.
    await monitorEnv(M, env)
    for (const day of ['2036-11-02', '2036-11-03']) {
      vi.setSystemTime(Date.parse(`${day}T03:17:00Z`))
      await runDailyCron()
      await runMonitorAlarm(M)
    }
    expect(ops.map((e) => e.type)).toEqual(['certificate.expiring'])
  })
})

describe('the ops endpoint', () => {
  it('is retried with the same webhook-id, freshly signed, like a merchant endpoint', async () => {
    const M = 'ops-retry'
    await registerFixtureMerchant(M)
    const received: Received[] = []
    network.use(
      http.post(OPS_URL, async ({ request }) => {
        received.push(await receive(request))
        return new HttpResponse(null, { status: received.length === 1 ? 503 : 204 })
      }),
    )
    await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })
    await runMonitorAlarm(M)
    expect(received).toHaveLength(1)
    await runInDurableObject(monitorStub(env, M), (_m: MerchantMonitor, state) => {
      state.storage.sql.exec("UPDATE ops_events SET next_attempt_at = 0 WHERE status = 'pending'")
    })
    await runMonitorAlarm(M)
    expect(received.map((r) => r.id)).toEqual([received[0]!.id, received[0]!.id])
    const webhook = new Webhook(env.OPS_WEBHOOK_SECRET!.slice('whsec_'.length))
    for (const r of received) {
      expect(() =>
        webhook.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature }),
      ).not.toThrow()
    }
    const rows = await runInDurableObject(monitorStub(env, M), (_m: MerchantMonitor, state) =>
      state.storage.sql.exec('SELECT status, attempts FROM ops_events').toArray(),
    )
    expect(rows).toEqual([{ status: 'delivered', attempts: 2 }])
  })

  it("times a retry from the failed attempt's start, as merchant deliveries do: a slow ops endpoint is retried as often", async () => {
    const M = 'ops-slow-retry'
    const id = 'evt_ops_slow_retry'
    // The outbox's clock: each attempt at the ops endpoint takes the whole 15 s attempt limit, then fails.
    const start = Date.parse('2031-03-01T00:00:00Z')
    let now = start
    network.use(
      http.post(OPS_URL, ({ request }) => {
        if (request.headers.get('webhook-id') !== id) return undefined
        now += 15_000
        return new HttpResponse('busy', { status: 503 })
      }),
    )
    const { next, attempts } = await runInDurableObject(monitorStub(env, M), async (_m: MerchantMonitor, state) => {
      const store = new MonitorStore(state.storage.sql)
      store.addOpsEvent({ id, type: 'endpoint.disabled', body: JSON.stringify({ type: 'endpoint.disabled', data: {} }) }, now)
      const target = { url: OPS_URL, secret: env.OPS_WEBHOOK_SECRET! }
      const due = await drainOpsEvents(store, { merchantId: M, target, now: () => now, random: () => 0.999_999 })
      return { next: due, attempts: store.opsEvent(id)!.attempts }
    })
    // The first retry's 5 s (at most 6 s) was over before the 15 s attempt was: it went as the attempt ended. The next
    // waits 30 s (at most 36 s) from the first retry's start, 15 s in, not from its end.
    expect(attempts).toBe(2)
    expect(next).toBe(start + 15_000 + 36_000)
  })

  it('keeps what was queued while the ops webhook is unset for a while (a deploy), and sends it once it is back', async () => {
    const M = 'ops-unset-for-a-while'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-08-01T00:00:00Z'))
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    // Queued while configured; by the time the monitor sends, the URL is gone (a deploy without it).
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    await monitorEnv(M, { ...env, OPS_WEBHOOK_URL: undefined } as Env)
    await runMonitorAlarm(M)
    const stored = () =>
      runInDurableObject(monitorStub(env, M), (_m: MerchantMonitor, state) =>
        state.storage.sql.exec('SELECT status, last_error, next_attempt_at FROM ops_events').toArray(),
      )
    expect(await stored()).toEqual([{ status: 'pending', last_error: 'no ops webhook configured', next_attempt_at: Date.now() + 3600_000 }])
    // Back an hour later: sent.
    await monitorEnv(M, env)
    vi.setSystemTime(Date.now() + 3600_000)
    await runMonitorAlarm(M)
    expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled'])
    expect(await stored()).toMatchObject([{ status: 'delivered' }])
  })

  it('fails what was queued once the ops webhook has stayed unset for a day', async () => {
    const M = 'ops-unset-for-good'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-08-01T00:00:00Z'))
    await registerFixtureMerchant(M)
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    await monitorEnv(M, { ...env, OPS_WEBHOOK_URL: undefined } as Env)
    for (let hour = 0; hour <= 24; hour++) {
      await runMonitorAlarm(M)
      vi.setSystemTime(Date.now() + 3600_000)
    }
    const rows = await runInDurableObject(monitorStub(env, M), (_m: MerchantMonitor, state) =>
      state.storage.sql.exec('SELECT status, last_error FROM ops_events').toArray(),
    )
    expect(rows).toEqual([{ status: 'failed', last_error: 'no ops webhook configured' }])
  })

  it('gets nothing, and nothing is queued, while OPS_WEBHOOK_URL is not set', async () => {
    const M = 'ops-unset'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint()
    await setInstanceEnv(monitorStub(env, M), { ...env, OPS_WEBHOOK_URL: undefined, OPS_WEBHOOK_SECRET: undefined })
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    expect(await runDurableObjectAlarm(monitorStub(env, M))).toBe(false)
    expect(ops).toEqual([])
  })
})

describe('POST /admin/merchants/{merchantId}/test-event', () => {
  it('sends a signed webhook.test event and replies with the attempt; refused while the endpoint is disabled', async () => {
    const M = 'test-event'
    await registerFixtureMerchant(M)
    let status = 200
    const received = merchantEndpoint(forwardUrl(M), () => status)
    const send = async () => (await (await admin(`/admin/merchants/${M}/test-event`, { method: 'POST' })).json()) as Record<string, unknown>

    const ok = await send()
    expect(ok).toMatchObject({ delivered: true, status_code: 200, error: null, response_snippet: 'ok' })
    expect(ok.event_id).toMatch(/^evt_/)
    const [event] = received
    expect(event).toMatchObject({ id: ok.event_id, type: 'webhook.test', data: { merchant_id: M } })
    const verified = new Webhook(FORWARD_SECRET.slice('whsec_'.length)).verify(event!.body, {
      'webhook-id': event!.id,
      'webhook-timestamp': event!.timestamp,
      'webhook-signature': event!.signature,
    })
    expect(verified).toMatchObject({ type: 'webhook.test', data: { merchant_id: M } })

    status = 500
    const failed = await send()
    expect(failed).toMatchObject({ delivered: false, status_code: 500, error: 'HTTP 500', response_snippet: 'merchant is down' })
    expect(received).toHaveLength(2)
    // Never retried, never stored as a delivery.
    const list = (await (await admin(`/admin/merchants/${M}/deliveries`)).json()) as { deliveries: unknown[] }
    expect(list.deliveries).toEqual([])

    // Nothing is sent to a disabled endpoint, this event included.
    await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })
    const refused = await admin(`/admin/merchants/${M}/test-event`, { method: 'POST' })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('enable it first') } })
    expect(received).toHaveLength(2)
    expect((await admin('/admin/merchants/test-event-nobody/test-event', { method: 'POST' })).status).toBe(404)
  })

  it("one that lands shows in the endpoint's health and ends its failing streak; one that fails starts none", async () => {
    const M = 'test-event-health'
    await registerFixtureMerchant(M)
    let status = 500
    merchantEndpoint(forwardUrl(M), () => status)
    const health = async () =>
      ((await (await admin(`/admin/merchants/${M}`)).json()) as { endpoint_health: Record<string, string | null> }).endpoint_health
    const send = () => admin(`/admin/merchants/${M}/test-event`, { method: 'POST' })

    expect(await (await send()).json()).toMatchObject({ delivered: false, status_code: 500 })
    // Nothing told the monitor: no health to show.
    expect(await health()).toBeUndefined()
    // A delivery failed an hour ago: the streak the endpoint card shows.
    const failedAt = Date.now() - 3_600_000
    await reportDeliveryRun(env, {
      merchantId: M,
      url: forwardUrl(M),
      attempts: [{ at: failedAt, ok: false }],
      goneUrl: null,
      exhausted: [],
    })
    const failing = new Date(failedAt).toISOString()
    expect(await health()).toEqual({ failing_since: failing, last_failure_at: failing, last_success_at: null })

    status = 200
    const before = Date.now()
    expect(await (await send()).json()).toMatchObject({ delivered: true, status_code: 200 })
    const after = await health()
    expect(after).toMatchObject({ failing_since: null, last_failure_at: failing })
    expect(Date.parse(after.last_success_at!)).toBeGreaterThanOrEqual(before)
  })

  it('answered 410 Gone: the endpoint is disabled (reason gone) and the ops webhook told, as for a delivery', async () => {
    const M = 'test-event-gone'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    merchantEndpoint(forwardUrl(M), () => 410)
    const gone = (await (await admin(`/admin/merchants/${M}/test-event`, { method: 'POST' })).json()) as Record<string, unknown>
    expect(gone).toMatchObject({ delivered: false, status_code: 410, error: 'endpoint gone (410)' })
    const { forward } = (await (await admin(`/admin/merchants/${M}`)).json()) as { forward: Record<string, unknown> }
    expect(forward).toMatchObject({ url: forwardUrl(M), disabled_reason: 'gone', disabled_at: expect.any(String) })
    await runMonitorAlarm(M)
    expect(ops.filter((e) => e.type === 'endpoint.disabled').map((e) => e.data)).toEqual([
      expect.objectContaining({ merchant_id: M, url: forwardUrl(M), reason: 'gone' }),
    ])
  })
})
