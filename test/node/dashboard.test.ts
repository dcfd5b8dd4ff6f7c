/**
 * The console at /dashboard in Debian's Chromium (playwright-core), against a real `wrangler dev` with local D1 and
 * Durable Objects, and a merchant server on loopback that answers 500 until told otherwise. In turn: a wrong token
 * gets nowhere; sign in; find the failing merchant; open its failing delivery and its attempts; send it again and
 * see it delivered; disable the endpoint (confirmed), enable it, recover what failed meanwhile after a confirmation; an order's
 * whole timeline; rejected notifications by reason; sign out. Every page passes axe-core (no serious or critical
 * violation) and loads nothing from another origin.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLeaks, knownSecrets } from '../support/leaks'
import { alipayPaymentBody, alipaySection, postAlipay } from './alipay-notification'
import { launchChromium, screenshot, seriousViolations } from './browser'
import { adminFetch, eventually, freePort, startWranglerDev, type WranglerDev, throwawaySecrets } from './wrangler-dev'

const { adminToken: ADMIN_TOKEN, masterKey: MASTER_KEY, forwardSecret: SECRET } = throwawaySecrets('dash')
const M = 'dash-failing'
const FIRST = 'DASH-ORDER-1'
const SECOND = 'DASH-ORDER-2'
const FIRST_NOTIFY_ID = `dash${randomBytes(6).toString('hex')}`

let gateway: WranglerDev
let merchantServer: Server
let browser: Browser
let context: BrowserContext
let page: Page
/** What the merchant server answers now. */
let answer = 500
const received: string[] = []
/** Every URL the browser asked for: all must be the gateway's own. */
const requested: string[] = []

async function adminApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await adminFetch(gateway, path, init)
  expect(response.ok, `${path}: ${response.status}`).toBe(true)
  return (await response.json()) as T
}

interface DeliveryRow {
  id: string
  out_trade_no: string
  status: string
  attempts: number
  reason: string | null
}

/** Polls the admin API (the D1 projection) until the order's delivery matches. */
function deliveryOf(outTradeNo: string, matches: (d: DeliveryRow) => boolean, timeoutMs = 60_000): Promise<DeliveryRow> {
  return eventually(async () => {
    const { deliveries } = await adminApi<{ deliveries: DeliveryRow[] }>(`/admin/merchants/${M}/deliveries?out_trade_no=${outTradeNo}`)
    const found = deliveries.find(matches)
    if (found === undefined) throw new Error(`${outTradeNo}: no matching delivery in ${JSON.stringify(deliveries)}`)
    return found
  }, timeoutMs)
}

async function expectAccessible(name: string): Promise<void> {
  await screenshot(page, name)
  expect(await seriousViolations(page), name).toEqual([])
}

beforeAll(async () => {
  const port = await freePort()
  merchantServer = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      received.push(String(request.headers['webhook-id']))
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'merchant is down for maintenance')
    })
  })
  await new Promise<void>((resolve) => merchantServer.listen(port, '127.0.0.1', resolve))
  gateway = await startWranglerDev({ ADMIN_TOKEN, MASTER_KEY })
  await adminApi(`/admin/merchants/${M}`, {
    method: 'PUT',
    body: JSON.stringify({ forward: { url: `http://127.0.0.1:${port}/hooks`, secret: SECRET }, alipay: alipaySection() }),
  })
  expect(await postAlipay(gateway.url, M, alipayPaymentBody(FIRST, { notifyId: FIRST_NOTIFY_ID }))).toBe('success')
  // The first attempt and the first retry (within 10 s) both fail.
  await deliveryOf(FIRST, (d) => d.attempts >= 2)
  browser = await launchChromium()
  // Times are shown in the browser's zone: Beijing here, UTC on hover.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Shanghai', locale: 'en-GB' })
  page = await context.newPage()
  page.on('request', (request) => requested.push(request.url()))
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
  await new Promise((resolve) => merchantServer?.close(resolve))
  expect(findLeaks(gateway?.output ?? [], knownSecrets({ ADMIN_TOKEN, MASTER_KEY, SECRET }))).toEqual([])
})

describe('the dashboard', () => {
  it('serves its page with a strict Content-Security-Policy, and shows nothing but the sign-in form without a token', async () => {
    const response = await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'")
    await expect(page.getByLabel('Admin token').isVisible()).resolves.toBe(true)
    expect(await page.getByText(M).count()).toBe(0)
    await expectAccessible('sign-in')
  })

  it('gets nowhere with a wrong token, and keeps nothing', async () => {
    await page.getByLabel('Admin token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('That token was refused.').waitFor()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    expect(await page.getByRole('heading', { name: 'Merchants' }).count()).toBe(0)
    expect(await page.getByText(M).count()).toBe(0)
  })

  it('signs in by keyboard, keeps the token out of URLs and cookies, and lists the failing merchant with its health', async () => {
    await page.getByLabel('Admin token').focus()
    await page.keyboard.type(ADMIN_TOKEN)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: M }).waitFor()
    expect(requested.some((url) => url.includes(ADMIN_TOKEN))).toBe(false)
    expect(await context.cookies()).toEqual([])
    await page.getByRole('link', { name: 'Merchants', exact: true }).first().click()
    await page.getByRole('heading', { name: 'Merchants' }).waitFor()
    await page.getByLabel('Find a merchant by id').fill('dash-fail')
    const row = page.getByRole('row').filter({ hasText: M })
    await expect(row.getByText('failing', { exact: true }).isVisible()).resolves.toBe(true)
    const failingSince = row.locator('time').first()
    expect(await failingSince.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
    await expectAccessible('merchants')
  })

  it("opens the merchant, sees its failing delivery, and the delivery's failed attempts with the reply", async () => {
    await page.getByRole('link', { name: M }).click()
    await page.getByRole('heading', { name: M }).waitFor()
    const row = page.getByRole('row').filter({ hasText: FIRST })
    await expect(row.getByText(/retrying \(\d+ attempts? so far\)/).isVisible()).resolves.toBe(true)
    await expectAccessible('merchant')
    await row.getByRole('link').first().click()
    await page.getByRole('heading', { name: 'Delivery of payment.succeeded' }).waitFor()
    const attempts = page.getByRole('region', { name: 'Attempts' }).getByRole('row')
    expect(await attempts.count()).toBeGreaterThanOrEqual(3)
    await expect(attempts.nth(1).textContent()).resolves.toContain('500')
    await expect(attempts.nth(1).textContent()).resolves.toContain('merchant is down for maintenance')
    await expectAccessible('delivery')
  })

  it('sends it again once the merchant answers, and shows it delivered', async () => {
    answer = 200
    await page.getByRole('button', { name: 'Send again' }).click()
    await page.locator('#delivery-status').getByText('delivered').waitFor({ timeout: 30_000 })
    expect(received.length).toBeGreaterThanOrEqual(3)
  })

  it('disables the endpoint, enables it, and recovers what failed meanwhile after saying how many', async () => {
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    const endpoint = page.getByRole('region', { name: 'Endpoint', exact: true })
    await page.getByRole('button', { name: 'Disable endpoint' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Disable', exact: true }).click()
    await endpoint.getByRole('status').getByText('Endpoint disabled').waitFor()
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(SECOND))).toBe('success')
    await deliveryOf(SECOND, (d) => d.status === 'failed' && d.reason === 'endpoint_disabled')
    await page.getByRole('button', { name: 'Enable endpoint' }).click()
    await endpoint.getByRole('status').getByText('Endpoint enabled').waitFor()
    const before = received.length
    await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('1 failed delivery will be sent again').waitFor()
    await screenshot(page, 'recover')
    expect(await seriousViolations(page)).toEqual([])
    await dialog.getByRole('button', { name: 'Send 1' }).click()
    await page.getByText('1 delivery queued to be sent again.').waitFor()
    await deliveryOf(SECOND, (d) => d.status === 'delivered', 30_000)
    expect(received.length).toBe(before + 1)
  })

  it("shows an order's whole timeline: notifications with their verdicts, the event, its delivery's attempts", async () => {
    // The same notification again: a duplicate on the timeline.
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(FIRST, { notifyId: FIRST_NOTIFY_ID }))).toBe('success')
    await page.getByLabel('Order number (out_trade_no)').fill(FIRST)
    await page.getByRole('button', { name: 'Show timeline' }).click()
    await page.getByRole('heading', { name: `Order ${FIRST}` }).waitFor()
    await expect(page.getByText('¥88.88').first().isVisible()).resolves.toBe(true)
    const timeline = page.getByRole('list', { name: `Timeline of ${FIRST} at ${M}` })
    const text = (await timeline.textContent()) ?? ''
    expect(text).toMatch(
      /Notification.*accepted.*Event.*payment\.succeeded ¥88\.88.*delivered.*Attempt 1.*HTTP 500.*Attempt \d.*HTTP 200.*Notification.*duplicate/s,
    )
    await expectAccessible('order')
  })

  it('lists rejected notifications newest first with their reasons, filtered by reason', async () => {
    expect(await postAlipay(gateway.url, M, alipayPaymentBody('DASH-TAMPERED', { tampered: true }))).not.toBe('success')
    await eventually(async () => {
      const { notifications } = await adminApi<{ notifications: unknown[] }>(`/admin/merchants/${M}/notifications?verdict=rejected`)
      expect(notifications).toHaveLength(1)
    })
    await page.getByRole('link', { name: 'Rejected' }).click()
    await page.getByRole('heading', { name: 'Rejected notifications' }).waitFor()
    const table = page.getByRole('region', { name: 'Rejected notifications' })
    await expect(table.textContent()).resolves.toMatch(/alipay\s*signature_invalid/)
    await expectAccessible('rejected')
    await page.getByLabel('Reason').fill('merchant_mismatch')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByText('No rejected notification with reason merchant_mismatch.').waitFor()
    await page.getByLabel('Reason').fill('signature_invalid')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByRole('row').filter({ hasText: 'signature_invalid' }).waitFor()
  })

  it('is readable on a phone: nothing wider than the screen', async () => {
    // The same tab: the token is kept per tab (sessionStorage), so a new one would ask for it again.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    await page.getByRole('heading', { name: M }).waitFor()
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390)
    await screenshot(page, 'merchant-phone')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('loaded nothing from another origin', () => {
    const origins = new Set(requested.filter((url) => !url.startsWith('data:')).map((url) => new URL(url).origin))
    expect([...origins]).toEqual([gateway.url])
  })

  it('signs out and forgets the token', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Admin token').waitFor()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await page.reload()
    await expect(page.getByLabel('Admin token').isVisible()).resolves.toBe(true)
  })
})
