/**
 * The console in Chromium against a real `wrangler dev`, in what an operator meets beyond the happy path (an audit's
 * findings): a gateway that cannot be reached at sign-in or during an action, one order number at both providers,
 * refund and close amounts, the gateway's own queries on a timeline, provider notifications in recovery, no second
 * action while a disable is in flight, a replay or test event refused while the endpoint is disabled (said with the
 * button to press, not the API's path), a delivery page refreshing under the reader, Load more after an unapplied
 * filter change, and more merchants than one page. Every page checked still passes axe-core.
 */
import { createServer, type Server } from 'node:http'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ALIPAY_APP_PRIVATE_KEY, alipayPaymentBody, alipayQueryAnswer, alipaySection, postAlipay } from './alipay-notification'
import { launchChromium, seriousViolations } from './browser'
import { postWechatpayV2, wechatpayV2PaymentBody, wechatpayV2Section } from './wechatpay-notification'
import { adminFetch, eventually, freePort, startWranglerDev, type WranglerDev, throwawaySecrets } from './wrangler-dev'

const { adminToken: ADMIN_TOKEN, masterKey: MASTER_KEY, forwardSecret: SECRET } = throwawaySecrets('ops')
const M = 'ops-both'
/** A merchant whose Alipay orders the gateway can query (at the stand-in below). */
const QUERIED = 'ops-queried'
/** One number, an order at each provider. */
const SAME = 'OPS-SAME-1'
const SAME_ALIPAY_TRADE = '2026113022001000000000000001'
/** How long a page may take to show what the API already has. */
const POLL = { timeout: 10_000 }
/** Enough deliveries for a second page (50 a page). */
const MANY = 52

let gateway: WranglerDev
let server: Server
let browser: Browser
let page: Page
/** What the merchant's endpoint answers now. */
let answer = 200
const received: string[] = []

const admin = (path: string, init: RequestInit = {}): Promise<Response> => adminFetch(gateway, path, init)

/** The console's alert for a gateway it cannot reach, within `scope`. */
const unreachableAlert = (scope: Page | Locator): Locator => scope.getByRole('alert').getByText(/could not be reached/)

async function adminJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await admin(path, init)
  const text = await response.text()
  expect(response.ok, `${path}: ${response.status} ${text}`).toBe(true)
  return JSON.parse(text) as T
}

interface DeliveryRow {
  id: string
  type: string
  out_trade_no: string | null
  status: string
  reason: string | null
  attempts: number
}

function deliveryWhere(query: string, matches: (d: DeliveryRow) => boolean): Promise<DeliveryRow> {
  return eventually(async () => {
    const { deliveries } = await adminJson<{ deliveries: DeliveryRow[] }>(`/admin/merchants/${M}/deliveries?${query}`)
    const found = deliveries.find(matches)
    if (found === undefined) throw new Error(`${query}: no matching delivery in ${JSON.stringify(deliveries)}`)
    return found
  }, 60_000)
}

/** The merchant's endpoint (`/hooks`) and a stand-in for Alipay's gateway (`/gateway.do`), which knows one paid order. */
function startServer(port: number): Promise<void> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (request.url?.startsWith('/gateway.do')) {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        // One paid trade of ¥5.00, whatever number is asked about.
        const outTradeNo = (JSON.parse(form.get('biz_content') ?? '{}') as { out_trade_no?: string }).out_trade_no ?? ''
        const trade = { out_trade_no: outTradeNo, trade_no: '2026113022009999', trade_status: 'TRADE_SUCCESS', total_amount: '5.00' }
        response
          .writeHead(200, { 'content-type': 'text/html;charset=utf-8' })
          .end(alipayQueryAnswer({ ...trade, send_pay_date: '2026-11-30 09:59:58' }))
        return
      }
      received.push(String(request.headers['webhook-id']))
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'down')
    })
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
}

/**
 * Opens a page of the console by its hash, drawn afresh: going to the hash already shown would draw nothing new.
 */
async function open(hash: string): Promise<void> {
  await page.goto(`${gateway.url}/dashboard${hash}`)
  await page.reload()
}

/** Requests to an admin path (query aside), for `page.route` to fail them as an unreachable gateway would. */
const adminPath = (path: string) => (url: URL) => url.pathname === path

async function expectAccessible(name: string): Promise<void> {
  expect(await seriousViolations(page), name).toEqual([])
}

/**
 * A payment whose delivery the merchant answers with 500 (until the test ends), its page open once it waits for a
 * retry; `refreshed` waits for the page's next look at it.
 */
async function openRetryingDelivery(outTradeNo: string) {
  answer = 500
  onTestFinished(() => {
    answer = 200
  })
  expect(await postAlipay(gateway.url, M, alipayPaymentBody(outTradeNo))).toBe('success')
  const retrying = await deliveryWhere(`out_trade_no=${outTradeNo}`, (d) => d.status === 'pending' && d.attempts >= 1)
  await page.goto(`${gateway.url}/dashboard#/deliveries/${retrying.id}`)
  await page.getByRole('heading', { name: /^Delivery of / }).waitFor()
  const refreshed = () => page.waitForResponse((r) => r.url().endsWith(`/admin/deliveries/${retrying.id}`), { timeout: 10_000 })
  return { retrying, refreshed }
}

beforeAll(async () => {
  const port = await freePort()
  await startServer(port)
  gateway = await startWranglerDev({ ADMIN_TOKEN, MASTER_KEY })
  await adminJson(`/admin/merchants/${M}`, {
    method: 'PUT',
    body: JSON.stringify({
      forward: { url: `http://127.0.0.1:${port}/hooks`, secret: SECRET },
      wechatpay: wechatpayV2Section(),
      alipay: alipaySection(),
    }),
  })
  // Another app id: one Alipay identity belongs to one merchant.
  const queried = { ...alipaySection(), appId: '2021000000009999', appPrivateKey: ALIPAY_APP_PRIVATE_KEY }
  await adminJson(`/admin/merchants/${QUERIED}`, {
    method: 'PUT',
    body: JSON.stringify({
      forward: { url: `http://127.0.0.1:${port}/hooks`, secret: SECRET },
      alipay: { ...queried, gatewayUrl: `http://127.0.0.1:${port}/gateway.do` },
    }),
  })
  browser = await launchChromium()
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Shanghai', locale: 'en-GB' })
  page = await context.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
  await new Promise((resolve) => server?.close(resolve))
})

describe('the dashboard, beyond the happy path', () => {
  it('signs in only when the token is refused says so: an unreachable gateway or a 5xx keeps the typed token', async () => {
    await page.goto(`${gateway.url}/dashboard`)
    const token = page.getByLabel('Admin token')
    const probe = adminPath('/admin/merchants')
    // A token no header can carry (a typographic quote pasted with it) is named as such, not as an unreachable gateway.
    await token.fill(`${ADMIN_TOKEN}’`)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .getByText(/The token holds a space, a line break or a character no token has/)
      .waitFor()
    await page.route(probe, (route) => route.abort('connectionrefused'))
    await token.fill(ADMIN_TOKEN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await unreachableAlert(page).waitFor()
    expect(await token.inputValue()).toBe(ADMIN_TOKEN)
    await page.unroute(probe)
    await page.route(probe, (route) => route.fulfill({ status: 503, body: 'upstream unavailable' }))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .getByText(/answered an error \(HTTP 503\)/)
      .waitFor()
    expect(await token.inputValue()).toBe(ADMIN_TOKEN)
    expect(await page.getByText('That token was refused.').count()).toBe(0)
    await expectAccessible('sign-in error')
    await page.unroute(probe)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Merchants' }).waitFor()
  })

  it("reaches each provider's order under one number: from its delivery, and from an old provider-less link", async () => {
    expect(await postWechatpayV2(gateway.url, M, wechatpayV2PaymentBody(SAME, 100))).toContain('SUCCESS')
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(SAME, { tradeNo: SAME_ALIPAY_TRADE }))).toBe('success')
    const alipayDelivery = await eventually(async () => {
      const { deliveries } = await adminJson<{ deliveries: DeliveryRow[] }>(`/admin/merchants/${M}/deliveries?out_trade_no=${SAME}`)
      const views = await Promise.all(deliveries.map((d) => adminJson<{ id: string; provider: string }>(`/admin/deliveries/${d.id}`)))
      const found = views.find((d) => d.provider === 'alipay')
      if (deliveries.length < 2 || found === undefined) throw new Error(`not both deliveries yet: ${JSON.stringify(views)}`)
      return found
    })
    await page.goto(`${gateway.url}/dashboard#/deliveries/${alipayDelivery.id}`)
    await page.getByRole('heading', { name: 'Delivery of payment.succeeded' }).waitFor()
    await page.getByRole('link', { name: SAME }).click()
    await page.getByRole('heading', { name: `Order ${SAME}` }).waitFor()
    const order = page.getByRole('region', { name: 'Order', exact: true })
    await expect(order.textContent()).resolves.toMatch(/Provider\s*alipay.*Amount\s*¥88\.88/s)
    // A link from before the provider was carried: the order with the latest activity, and a way to the other.
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}/orders/${SAME}`)
    await page.getByRole('heading', { name: `Order ${SAME}` }).waitFor()
    await expect(order.textContent()).resolves.toMatch(/Provider\s*alipay.*Amount\s*¥88\.88/s)
    await page.getByRole('link', { name: 'its wechatpay order' }).click()
    await expect.poll(() => order.textContent(), POLL).toMatch(/Provider\s*wechatpay.*Amount\s*¥1\.00/s)
    await expectAccessible('order of one provider')
  })

  it("shows a refund's own amount on the timeline, and a closed order's amount", async () => {
    const refund = { refund_fee: '10.00', out_biz_no: 'OPS-R1', gmt_refund: '2026-11-30 10:05:00' }
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(SAME, { tradeNo: SAME_ALIPAY_TRADE, fields: refund }))).toBe('success')
    await open(`#/merchants/${M}/orders/${SAME}?provider=alipay`)
    const timeline = page.getByRole('list', { name: `Timeline of ${SAME} at ${M}` })
    await expect.poll(() => timeline.textContent(), POLL).toMatch(/refund\.succeeded ¥10\.00/)
    expect(await timeline.textContent()).toMatch(/payment\.succeeded ¥88\.88/)

    const closed = alipayPaymentBody('OPS-CLOSED-1', { fields: { trade_status: 'TRADE_CLOSED', total_amount: '12.34' } })
    expect(await postAlipay(gateway.url, M, closed)).toBe('success')
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}/orders/OPS-CLOSED-1?provider=alipay`)
    const order = page.getByRole('region', { name: 'Order', exact: true })
    await expect.poll(() => order.textContent(), POLL).toMatch(/Status\s*closed.*Amount\s*¥12\.34/s)
  })

  it("tells the gateway's own provider queries apart from the provider's notifications on the timeline", async () => {
    const order = `/admin/merchants/${QUERIED}/orders/OPS-QUERIED-1`
    await adminJson(order, { method: 'PUT', body: JSON.stringify({ amount: 500, channel: 'alipay' }) })
    const sync = await adminJson(`${order}/sync?provider=alipay`, { method: 'POST' })
    expect(sync, JSON.stringify(sync)).toMatchObject({ results: [{ status: 'paid' }] })
    await open(`#/merchants/${QUERIED}/orders/OPS-QUERIED-1?provider=alipay`)
    const timeline = page.getByRole('list', { name: `Timeline of OPS-QUERIED-1 at ${QUERIED}` })
    await expect.poll(() => timeline.textContent(), POLL).toMatch(/Query result.*alipay\s*accepted/s)
    expect(await timeline.textContent()).not.toMatch(/Notification/)
  })

  it("shows a provider notification's type and subject, and recovers it with the other failed deliveries", async () => {
    await adminJson(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })
    const other = alipayPaymentBody('OPS-OTHER-1', {
      fields: { notify_type: 'servicemarket_order_notify', commodity_order_id: 'OPS-CO-1' },
    })
    expect(await postAlipay(gateway.url, M, other)).toBe('success')
    const failed = await deliveryWhere('type=provider.notification', (d) => d.status === 'failed' && d.reason === 'endpoint_disabled')
    await page.goto(`${gateway.url}/dashboard#/deliveries/${failed.id}`)
    const card = page.getByRole('region', { name: 'Delivery', exact: true })
    await expect.poll(() => card.textContent(), POLL).toMatch(/Notification type\s*servicemarket_order_notify\s*Subject\s*OPS-CO-1/)
    await adminJson(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })

    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('1 failed delivery will be sent again').waitFor()
    const before = received.length
    // Needs the server to recover provider.notification deliveries too (it queued none of them before).
    await dialog.getByRole('button', { name: 'Send 1' }).click()
    await page.getByText('1 delivery queued to be sent again.').waitFor()
    // Left before the list's refresh (1.5 s after the recovery) comes: the page that is gone asks for nothing.
    const listRequests: string[] = []
    const isList = adminPath(`/admin/merchants/${M}/deliveries`)
    const onRequest = (request: { url(): string }) => {
      if (isList(new URL(request.url()))) listRequests.push(request.url())
    }
    page.on('request', onRequest)
    await page.goto(`${gateway.url}/dashboard#/merchants`)
    await page.getByRole('heading', { name: 'Merchants' }).waitFor()
    await deliveryWhere('type=provider.notification', (d) => d.id === failed.id && d.status === 'delivered')
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    page.off('request', onRequest)
    expect(listRequests).toEqual([])
    expect(received.length).toBe(before + 1)
  })

  it('says why nothing is recovered when nothing failed, without calling anything pending', async () => {
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    // A window before anything happened: nothing in it failed.
    await page.getByLabel('Failed deliveries created since').fill('2020-01-01T00:00')
    await page.getByLabel('Created before (optional').fill('2020-01-02T00:00')
    await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
    const status = page.getByText(/nothing to recover/)
    await status.waitFor()
    expect(await status.textContent()).not.toMatch(/pending/)
  })

  it("starts nothing else while a disable is in flight, then shows the API's refusal of a replay or a test event, and claims no success", async () => {
    const endpoint = page.getByRole('region', { name: 'Endpoint', exact: true })
    // The disable held back: while it is in flight, no second action can start (a test event would still go out).
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      await page.route('**/endpoint/disable', async (route) => {
        await held
        await route.continue()
      })
      await page.getByRole('button', { name: 'Disable endpoint' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Disable', exact: true }).click()
      await endpoint.getByRole('status').getByText('Disabling').waitFor()
      expect(await endpoint.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true)
      release()
      // Its own status line: the deliveries list may already say "failed (endpoint disabled)" from an earlier test.
      await endpoint.getByRole('status').getByText('Endpoint disabled').waitFor()
      // Needs the server's 409 conflict for a test event and a replay while the endpoint is disabled.
      await page.getByRole('button', { name: 'Send test event' }).click()
      await endpoint
        .getByRole('alert')
        .getByText(/disabled/)
        .waitFor()
      // The API's reason, with the button to press named where the API quotes its own path.
      const enableFirst = "The endpoint is disabled: enable it first (“Enable endpoint”, on the merchant's page), then"
      expect(await endpoint.getByRole('alert').textContent()).toBe(`“Send test event” was refused. ${enableFirst} send the test event.`)
      const delivery = await deliveryWhere(`out_trade_no=${SAME}`, (d) => d.status === 'delivered')
      await page.goto(`${gateway.url}/dashboard#/deliveries/${delivery.id}`)
      // The delivery's own page and card: until the page changes, the merchant page's alert above would match.
      await page.getByRole('heading', { name: /^Delivery of / }).waitFor()
      const card = page.getByRole('region', { name: 'Delivery', exact: true })
      await card.getByRole('button', { name: 'Send again' }).click()
      await card
        .getByRole('alert')
        .getByText(/disabled/)
        .waitFor()
      expect(await card.getByRole('alert').textContent()).toBe(`“Send again” was refused. ${enableFirst} send it again.`)
      expect(await page.getByText(/Queued/).count()).toBe(0)
    } finally {
      // The tests after this one need the endpoint and the page's route, whatever became of this one.
      release()
      await page.unroute('**/endpoint/disable')
      await adminJson(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })
    }
  })

  it('keeps the event panel open while a retrying delivery refreshes itself, and keeps refreshing after a failed refresh', async () => {
    const { retrying, refreshed } = await openRetryingDelivery('OPS-RETRYING-1')
    await page.getByText(/retrying \(\d+ attempts? so far\)/).waitFor()
    const deliveryPath = `**/admin/deliveries/${retrying.id}`
    await page.getByText('The event as the merchant receives it').click()
    await refreshed()
    await refreshed()
    expect(await page.locator('details').evaluate((d) => (d as { open: boolean }).open)).toBe(true)
    await expect(page.getByText('"type": "payment.succeeded"').isVisible()).resolves.toBe(true)

    await page.route(deliveryPath, (route) => route.abort('connectionrefused'))
    const failedRefresh = page.getByRole('alert').getByText(/The last refresh .* failed: The gateway could not be reached/)
    await failedRefresh.waitFor({ timeout: 10_000 })
    const violations = await seriousViolations(page)
    expect(violations, JSON.stringify(violations)).toEqual([])
    await page.unroute(deliveryPath)
    // The next refresh comes anyway, and clears the warning.
    await refreshed()
    await failedRefresh.waitFor({ state: 'detached', timeout: 10_000 })

    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    const row = page.getByRole('row').filter({ hasText: 'OPS-RETRYING-1' })
    const replay = adminPath(`/admin/deliveries/${retrying.id}/replay`)
    await page.route(replay, (route) => route.abort('connectionrefused'))
    await row.getByRole('button', { name: 'Send again' }).click()
    await unreachableAlert(page.getByRole('region', { name: 'Deliveries' }).first()).waitFor()
    await page.unroute(replay)
  })

  it('keeps the keyboard where it was: a retrying delivery refreshing itself, Disable and Enable, Send again in the list', async () => {
    const { refreshed } = await openRetryingDelivery('OPS-FOCUS-1')
    const focused = () =>
      page.evaluate(() => {
        const { activeElement } = (
          globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string } | null } }
        ).document
        return `${activeElement?.tagName}:${activeElement?.textContent}`
      })
    await page.getByRole('link', { name: 'OPS-FOCUS-1' }).focus()
    await refreshed()
    await refreshed()
    expect(await focused()).toBe('A:OPS-FOCUS-1')

    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    const endpoint = page.getByRole('region', { name: 'Endpoint', exact: true })
    try {
      await page.getByRole('button', { name: 'Disable endpoint' }).focus()
      await page.keyboard.press('Enter')
      // The confirmation opens on Cancel; its Disable is before it.
      expect(await focused()).toBe('BUTTON:Cancel')
      await page.keyboard.press('Shift+Tab')
      await page.keyboard.press('Enter')
      await endpoint.getByRole('status').getByText('Endpoint disabled').waitFor()
      expect(await focused()).toBe('BUTTON:Enable endpoint')
      await page.keyboard.press('Enter')
      await endpoint.getByRole('status').getByText('Endpoint enabled').waitFor()
      expect(await focused()).toBe('BUTTON:Disable endpoint')
    } finally {
      await adminJson(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })
    }

    // Send again by keyboard: once the list is drawn again, the focus is on that row's button (or its link).
    const row = page.getByRole('row').filter({ hasText: 'OPS-FOCUS-1' })
    await row.getByRole('button', { name: 'Send again' }).focus()
    const listed = page.waitForResponse((r) => new URL(r.url()).pathname === `/admin/merchants/${M}/deliveries`, { timeout: 10_000 })
    await page.keyboard.press('Enter')
    await listed
    await page.waitForTimeout(100)
    expect(await focused()).toMatch(/^BUTTON:Send again$|^A:/)
  })

  it('continues the applied filter on Load more, and shows what Filter, Load more and Send again could not do', async () => {
    await Promise.all(Array.from({ length: MANY }, (_, i) => postAlipay(gateway.url, M, alipayPaymentBody(`OPS-MANY-${i}`))))
    await eventually(async () => {
      const { deliveries } = await adminJson<{ deliveries: DeliveryRow[] }>(`/admin/merchants/${M}/deliveries?status=delivered&limit=100`)
      expect(deliveries.filter((d) => d.out_trade_no?.startsWith('OPS-MANY-')).length).toBe(MANY)
    }, 60_000)
    await page.goto(`${gateway.url}/dashboard#/merchants/${M}`)
    const section = page.getByRole('region', { name: 'Deliveries', exact: true }).first()
    await section.getByLabel('Status').selectOption('delivered')
    await section.getByRole('button', { name: 'Filter' }).click()
    const rows = section.getByRole('region', { name: 'Deliveries' }).getByRole('row')
    await expect.poll(() => rows.count(), POLL).toBe(51)
    // Changed but not applied: Load more still continues the delivered list on screen, past the last OPS-MANY ones.
    await section.getByLabel('Type').selectOption('refund.succeeded')
    await section.getByRole('button', { name: 'Load more' }).click()
    await expect.poll(() => rows.filter({ hasText: 'OPS-MANY-' }).count(), POLL).toBe(MANY)
    await expect(rows.filter({ hasText: 'OPS-CLOSED-1' }).count()).resolves.toBe(1)

    await section.getByLabel('Type').selectOption('')
    await section.getByLabel('Created since', { exact: true }).fill('2026-12-02T10:00')
    await section.getByLabel('Created before', { exact: true }).fill('2026-12-01T10:00')
    await section.getByRole('button', { name: 'Filter' }).click()
    await section.getByRole('alert').getByText('must be earlier than').waitFor()
    await section.getByLabel('Created since', { exact: true }).fill('')
    await section.getByLabel('Created before', { exact: true }).fill('')

    await section.getByLabel('Status').selectOption('')
    await section.getByRole('button', { name: 'Filter' }).click()
    await expect.poll(() => rows.count(), POLL).toBe(51)
    const list = adminPath(`/admin/merchants/${M}/deliveries`)
    await page.route(list, (route) => route.abort('connectionrefused'))
    await section.getByRole('button', { name: 'Load more' }).click()
    await unreachableAlert(section).waitFor()
    await section.getByRole('button', { name: 'Filter' }).click()
    // The list that no longer answers the filter goes; the error stands in its place.
    await expect.poll(() => rows.count(), POLL).toBe(0)
    await expect(unreachableAlert(section).count()).resolves.toBeGreaterThanOrEqual(1)
    await expectAccessible('deliveries with errors')
    await page.unroute(list)
  })

  it('reaches the rejected notifications of a merchant beyond the first 100, and shows Load more failing on the merchants', async () => {
    expect(await postAlipay(gateway.url, M, alipayPaymentBody('OPS-TAMPERED', { tampered: true }))).not.toBe('success')
    const forward = { url: 'https://merchant.example/hooks', secret: SECRET }
    for (let i = 0; i < 101; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, 101 - i) }, (_, j) =>
          adminJson(`/admin/merchants/ops-filler-${String(i + j).padStart(3, '0')}`, {
            method: 'PUT',
            // Each its own Alipay app: one identity belongs to one merchant.
            body: JSON.stringify({ forward, alipay: { ...alipaySection(), appId: `2021099000${String(i + j).padStart(6, '0')}` } }),
          }),
        ),
      )
    }
    await page.getByRole('link', { name: 'Rejected', exact: true }).click()
    await page.getByRole('heading', { name: 'Rejected notifications' }).waitFor()
    await page.getByLabel('Merchant id').fill(M)
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByRole('region', { name: 'Rejected notifications' }).getByText('signature_invalid').waitFor()
    expect(page.url()).toContain(`#/rejected?merchant=${M}`)
    await expectAccessible('rejected of a later merchant')
    // Filter again with the same values: the page asks again (refusals since), though its address stays the same.
    const asked = page.waitForResponse((r) => new URL(r.url()).pathname === `/admin/merchants/${M}/notifications`, { timeout: 10_000 })
    await page.getByRole('button', { name: 'Filter' }).click()
    await asked

    // After opening a merchant's page, the Rejected link starts with that merchant, not the newest one.
    await open('#/merchants/ops-filler-050')
    await page.getByRole('heading', { name: 'ops-filler-050', level: 1 }).waitFor()
    await open(`#/merchants/${M}`)
    await page.getByRole('heading', { name: M, level: 1 }).waitFor()
    await page.getByRole('link', { name: 'Rejected', exact: true }).click()
    await page.getByRole('region', { name: 'Rejected notifications' }).getByText('signature_invalid').waitFor()
    expect(await page.getByLabel('Merchant id').inputValue()).toBe(M)

    await page.getByRole('link', { name: 'Merchants', exact: true }).click()
    await page.getByRole('heading', { name: 'Merchants' }).waitFor()
    const endpoints = adminPath('/admin/endpoints')
    await page.route(endpoints, (route) => route.abort('connectionrefused'))
    await page.getByRole('button', { name: 'Load more' }).click()
    await unreachableAlert(page).waitFor()
    await page.unroute(endpoints)
  })

  it('lists, for an order the gateway never stored, the authentic notifications it refused that name it', async () => {
    const refused = 'OPS-REFUSED-APP'
    // Signed by Alipay, for another app than the merchant's: refused (merchant_mismatch) before any order is stored.
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(refused, { fields: { app_id: '2021000000009999' } }))).not.toBe('success')
    // A forgery naming another number is listed under none.
    expect(await postAlipay(gateway.url, M, alipayPaymentBody('OPS-FORGED', { tampered: true }))).not.toBe('success')
    // Once the projection has it (the queue's consumer), the order's page lists it.
    const listed = () => adminJson<{ notifications: unknown[] }>(`/admin/merchants/${M}/notifications?out_trade_no=${refused}`)
    await expect.poll(async () => (await listed()).notifications.length, POLL).toBe(1)
    await open(`#/merchants/${M}/orders/${refused}`)
    const section = page.getByRole('region', { name: 'Refused notifications table', exact: true })
    await section.waitFor()
    expect(await section.textContent()).toMatch(/alipay\s*merchant_mismatch/)
    await open(`#/merchants/${M}/orders/OPS-FORGED`)
    await page.getByRole('heading', { name: 'Order OPS-FORGED' }).waitFor()
    await page.getByRole('alert').waitFor()
    expect(await page.getByRole('region', { name: 'Refused notifications table', exact: true }).count()).toBe(0)
    await expectAccessible('order never stored, with its refused notifications')
  })

  it('cuts a long order number short in the middle, keeping its end in view and the whole number in the page', async () => {
    const long = 'OPS-LONG-ORDER-NUMBER-2026113000000000042'
    expect(await postAlipay(gateway.url, M, alipayPaymentBody(long))).toBe('success')
    await deliveryWhere(`out_trade_no=${long}`, (d) => d.status === 'delivered')
    await open(`#/merchants/${M}`)
    const shown = page.getByRole('row').filter({ hasText: long }).locator('.ident')
    await expect(shown.getAttribute('title')).resolves.toBe(long)
    await expect(shown.textContent()).resolves.toBe(long)
    // Cut short: narrower than the whole number, its start clipped, its last characters wholly in view.
    const box = await shown.evaluate((el) => {
      const part = (selector: string) => {
        const found = el.querySelector(selector)
        if (found === null) throw new Error(`no ${selector}`)
        return found
      }
      const start = part('.ident-start')
      const end = part('.ident-end')
      const outer = el.getBoundingClientRect()
      const tail = end.getBoundingClientRect()
      return {
        clipped: start.scrollWidth > start.clientWidth,
        end: end.textContent,
        endInside: tail.width > 0 && tail.right <= outer.right + 0.5,
      }
    })
    expect(box).toEqual({ clipped: true, end: '000042', endInside: true })
  })
})
