/**
 * @module The console's real bundle in Chromium against a stand-in admin API (each test answers the API itself), for
 * the console's tests that need no gateway: signed in already, at `ORIGIN`.
 */
import type { Page, Route } from 'playwright-core'
import { DASHBOARD_FILES } from '../../src/http/dashboard-bundle'

export const ORIGIN = 'http://console.test'

export const json = (route: Route, body: unknown, status = 200) =>
  route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) })

/** Serves the console's files; every other request under `ORIGIN` goes to `api`. */
export async function serveConsole(p: Page, api: (route: Route, url: URL) => Promise<void> | void): Promise<void> {
  await p.addInitScript(() => sessionStorage.setItem('paygate.admin-token', 'tok'))
  await p.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url())
    const file = DASHBOARD_FILES[url.pathname]
    if (file) return route.fulfill({ status: 200, contentType: file.type, body: file.body })
    return api(route, url)
  })
}

/** A merchant's counts with nothing in them. */
export const EMPTY_STATS = {
  notifications: { accepted: 0, duplicate: 0, rejected: 0, rejected_by_reason: {} },
  deliveries: { delivered: 0, failed: 0, pending: 0, success_rate: null, latency_ms: { p50: null, p95: null } },
  series: [],
}

/** A delivery of m1's that failed while its endpoint was disabled, as the deliveries list shows it. */
export const FAILED = {
  id: 'd1',
  merchant_id: 'm1',
  type: 'payment.succeeded',
  status: 'failed',
  reason: 'endpoint_disabled',
  provider: 'alipay',
  out_trade_no: 'T1',
  event_id: 'evt_1',
  created_at: '2026-12-03T00:00:00Z',
  next_attempt_at: null,
}

/**
 * Merchant m1's page, its endpoint disabled from `disabledFrom` (or enabled) and changed by Disable and Enable; `calls`
 * counts each POST by its path's last part; `extra` answers what else is asked (else no stats, no deliveries).
 */
export async function standInMerchant(
  p: Page,
  calls: Record<string, number>,
  extra?: (route: Route, url: URL) => Promise<void> | void,
  disabledFrom: string | null = null,
) {
  let disabledAt = disabledFrom
  await serveConsole(p, async (route, url) => {
    const path = url.pathname
    const forward = () => ({
      url: 'https://shop.example/hook',
      ...(disabledAt === null ? {} : { disabled_at: disabledAt, disabled_reason: 'manual' }),
    })
    if (route.request().method() === 'POST') {
      const last = path.split('/').at(-1) ?? ''
      calls[last] = (calls[last] ?? 0) + 1
    }
    if (path === '/admin/merchants/m1/endpoint/disable') {
      disabledAt = '2026-12-03T00:00:00Z'
      return json(route, { forward: forward() })
    }
    if (path === '/admin/merchants/m1/endpoint/enable') {
      disabledAt = null
      return json(route, { forward: forward() })
    }
    if (path === '/admin/merchants/m1') return json(route, { id: 'm1', forward: forward(), endpoint_health: null })
    if (extra !== undefined) return extra(route, url)
    if (path === '/admin/merchants/m1/stats') return json(route, EMPTY_STATS)
    if (path === '/admin/merchants/m1/deliveries') return json(route, { deliveries: [], next_cursor: null })
    return route.fulfill({ status: 404, body: '{}' })
  })
}
