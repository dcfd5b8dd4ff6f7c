/**
 * The dashboard's server side through the real Worker: `/dashboard` and its files served with a strict
 * Content-Security-Policy (no token needed: they hold no data) and revalidated by ETag; and `GET /admin/endpoints`,
 * each merchant's endpoint health for the console's merchant list (token required).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { admin, forwardUrl, freshPayment, notify, ownKeys, registerMerchant } from '../security/harness'
import { merchantEndpoint } from '../support/operations'
import { PROJECTION_WAIT } from '../support/orders'

const page = (path: string, headers: Record<string, string> = {}) => exports.default.fetch(`https://gw.test${path}`, { headers })

interface EndpointRow {
  merchant_id: string
  url: string
  disabled_at: string | null
  disabled_reason: string | null
  failing_since: string | null
  last_attempt_at: string | null
  last_success_at: string | null
  last_failure_at: string | null
  last_24h: { delivered: number; failed: number; attempts: number; attempt_success_rate: number | null }
}

async function endpoints(query = ''): Promise<{ endpoints: EndpointRow[]; next_cursor: string | null }> {
  const response = await admin(`/admin/endpoints${query}`)
  expect(response.status).toBe(200)
  return response.json()
}

/** A merchant of its own ids, paid once through Alipay, its delivery's first attempt made. */
async function paidOnce(merchantId: string, answer: number): Promise<void> {
  await registerMerchant(merchantId, { identity: ownKeys(merchantId), providers: ['alipay'] })
  merchantEndpoint(forwardUrl(merchantId), () => answer)
  const payment = freshPayment('alipay', { identity: ownKeys(merchantId) })
  expect((await notify('alipay', merchantId, payment)).status).toBe(200)
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }))
}

describe('GET /dashboard', () => {
  it('serves the page without a token, under a Content-Security-Policy that allows this origin only', async () => {
    const response = await page('/dashboard')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = response.headers.get('content-security-policy') ?? ''
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive)
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/)
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await response.text()
    // Every file it names is this origin's: nothing from a CDN, no inline script.
    expect([...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,', '/dashboard/app.css', '/dashboard/app.js'])
    expect(html).not.toMatch(/<script>|<style>|style="/)
  })

  it('serves its script and style with their types, and answers 304 to a matching ETag', async () => {
    const script = await page('/dashboard/app.js')
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await script.text()).length).toBeGreaterThan(1000)
    const style = await page('/dashboard/app.css')
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8')
    const etag = style.headers.get('etag')!
    expect((await page('/dashboard/app.css', { 'if-none-match': etag })).status).toBe(304)
    expect((await page('/dashboard/app.css', { 'if-none-match': '"other"' })).status).toBe(200)
  })

  it('answers 404 for a file it does not have', async () => {
    const response = await page('/dashboard/secrets.json')
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no such endpoint' } })
  })
})

describe('HEAD', () => {
  const head = (path: string, headers: Record<string, string> = {}) =>
    exports.default.fetch(`https://gw.test${path}`, { method: 'HEAD', headers })

  it('answers as GET does, without the body: the console, the OpenAPI document, the admin API, a notify URL', async () => {
    const dashboard = await head('/dashboard')
    expect(dashboard.status).toBe(200)
    expect(dashboard.headers.get('content-type')).toBe((await page('/dashboard')).headers.get('content-type'))
    expect(dashboard.headers.get('content-security-policy')).not.toBeNull()
    expect(await dashboard.text()).toBe('')
    expect((await head('/admin/openapi.json')).status).toBe(200)
    // The admin API still needs its token; a notify URL still takes POST only.
    expect((await head('/admin/merchants')).status).toBe(401)
    expect((await head('/admin/merchants', { authorization: `Bearer ${env.ADMIN_TOKEN}` })).status).toBe(200)
    const notifyUrl = await head('/notify/acme/alipay')
    expect([notifyUrl.status, notifyUrl.headers.get('allow')]).toEqual([405, 'POST'])
  })
})

describe('GET /admin/endpoints', () => {
  it('needs the admin token', async () => {
    expect((await admin('/admin/endpoints', { token: null })).status).toBe(401)
    expect((await admin('/admin/endpoints', { token: 'wrong' })).status).toBe(401)
  })

  it("shows each merchant's endpoint: failing since its first failed attempt, healthy after a success, disabled by an operator", async () => {
    await paidOnce('ep-failing', 500)
    await paidOnce('ep-healthy', 200)
    await registerMerchant('ep-idle', { identity: ownKeys('ep-idle'), providers: ['alipay'] })
    expect((await admin('/admin/merchants/ep-idle/endpoint/disable', { method: 'POST' })).status).toBe(200)

    // Counters and a first-attempt success reach D1 and the monitor through the projection queue, a moment later.
    await vi.waitFor(async () => {
      const rows = new Map((await endpoints()).endpoints.map((row) => [row.merchant_id, row]))
      const failing = rows.get('ep-failing')!
      expect(failing.url).toBe(forwardUrl('ep-failing'))
      expect(failing.disabled_at).toBeNull()
      expect(failing.failing_since).not.toBeNull()
      expect(failing.last_attempt_at).toBe(failing.last_failure_at)
      expect(failing.last_success_at).toBeNull()
      expect(failing.last_24h).toEqual({ delivered: 0, failed: 0, attempts: 1, attempt_success_rate: 0 })

      const healthy = rows.get('ep-healthy')!
      expect(healthy.failing_since).toBeNull()
      expect(healthy.last_attempt_at).toBe(healthy.last_success_at)
      expect(healthy.last_24h).toEqual({ delivered: 1, failed: 0, attempts: 1, attempt_success_rate: 1 })

      const idle = rows.get('ep-idle')!
      expect(idle.disabled_at).not.toBeNull()
      expect(idle.disabled_reason).toBe('manual')
      expect(idle.last_attempt_at).toBeNull()
      expect(idle.last_24h.attempt_success_rate).toBeNull()
    }, PROJECTION_WAIT)
  })

  it('pages newest merchant first, and refuses a limit outside 1–100', async () => {
    const first = await endpoints('?limit=1')
    expect(first.endpoints).toHaveLength(1)
    expect(first.next_cursor).not.toBeNull()
    const second = await endpoints(`?limit=1&cursor=${encodeURIComponent(first.next_cursor!)}`)
    expect(second.endpoints[0]!.merchant_id).not.toBe(first.endpoints[0]!.merchant_id)
    const refused = await admin('/admin/endpoints?limit=0')
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^limit: /)
  })
})
