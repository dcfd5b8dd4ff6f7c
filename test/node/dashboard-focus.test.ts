/**
 * The console against a mocked admin API (the real bundle, served by the test): a delivery that finishes while the
 * operator holds a selection is shown finished once the selection goes; the focus an operator moves elsewhere during a
 * slow action stays where they put it; an order reduced to its tombstone says why its timeline begins late; a
 * double-click on Send again sends once, and a second Enter after confirming a recovery does not start another; the
 * Rejected page asks which merchant rather than showing the newest's, and says what each reason means; a delivery
 * held behind an earlier event of its order says so; the focus is never dropped by a last page or a failed page.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './browser'
import { json, ORIGIN, serveConsole } from './console-stand-in'

let browser: Browser
let page: Page

const delivery = (status: string, attempts: number) => ({
  id: 'd1',
  merchant_id: 'm1',
  type: 'payment.succeeded',
  status,
  reason: null,
  provider: 'alipay',
  out_trade_no: 'T1',
  event_id: 'evt_1',
  created_at: '2026-12-03T00:00:00Z',
  next_attempt_at: status === 'pending' ? '2026-12-03T05:00:00Z' : null,
  event: { id: 'evt_1', type: 'payment.succeeded', data: {} },
  attempts: Array.from({ length: attempts }, () => ({
    at: '2026-12-03T00:00:01Z',
    status_code: 500,
    duration_ms: 5,
    error: null,
    response_snippet: '',
  })),
})

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

describe('the console keeps up without getting in the way', () => {
  it('delivery page: a delivery that finishes while the operator holds a selection is shown finished once the selection goes', async () => {
    page = await browser.newPage()
    let current = delivery('pending', 1)
    let gets = 0
    await serveConsole(page, (route, url) => {
      if (url.pathname === '/admin/deliveries/d1') {
        gets += 1
        return json(route, current)
      }
      return route.fulfill({ status: 404, body: '{}' })
    })
    await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
    await page.getByText(/retrying \(1 attempt so far\)/).waitFor()
    // The operator selects the delivery id to copy it.
    await page.locator('code', { hasText: /^d1$/ }).selectText()
    current = delivery('delivered', 2) // delivered meanwhile
    await page.waitForTimeout(2600) // one refresh (every 2 s) under the selection
    await page.evaluate('getSelection().removeAllRanges()') // selection done
    await page.waitForTimeout(5000)
    const status = await page.locator('#delivery-status').textContent()
    expect(gets).toBeGreaterThan(2)
    expect(status).toBe('delivered')
    await page.close()
  }, 30_000)

  it('merchant page: the focus the operator moved to another field during a slow test event stays there', async () => {
    page = await browser.newPage()
    await serveConsole(page, async (route, url) => {
      const p = url.pathname
      if (p === '/admin/merchants/m1')
        return json(route, { id: 'm1', forward: { url: 'https://shop.example/hook' }, endpoint_health: null })
      if (p === '/admin/merchants/m1/stats')
        return json(route, {
          notifications: { accepted: 0, duplicate: 0, rejected: 0, rejected_by_reason: {} },
          deliveries: { delivered: 0, failed: 0, pending: 0, success_rate: null, latency_ms: { p50: null, p95: null } },
          series: [],
        })
      if (p === '/admin/merchants/m1/deliveries') return json(route, { deliveries: [], next_cursor: null })
      if (p === '/admin/merchants/m1/test-event') {
        await new Promise((r) => setTimeout(r, 2000)) // the merchant's endpoint is slow (up to 15 s)
        return json(route, { delivered: true, status_code: 200, error: null, duration_ms: 1900 })
      }
      return route.fulfill({ status: 404, body: '{}' })
    })
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    await page.getByRole('button', { name: 'Send test event' }).click()
    // Meanwhile the operator goes on: types an order number.
    await page.getByLabel('Order number (out_trade_no)').click()
    await page.keyboard.type('ORDER-1')
    await page.getByText(/Test event delivered/).waitFor()
    await page.waitForTimeout(100)
    const focused = await page.evaluate("document.activeElement?.tagName + ':' + document.activeElement?.id")
    expect(focused).toBe('INPUT:order-number')
    await page.close()
  }, 30_000)

  it('order page: a compacted order says when, and why the events before then are not on its timeline', async () => {
    page = await browser.newPage()
    const order = (compactedAt: string | null) => ({
      merchant_id: 'm1',
      provider: 'alipay',
      out_trade_no: 'T-OLD',
      status: 'partially_refunded',
      amount: 8888,
      expected_amount: null,
      currency: 'CNY',
      transaction_id: '2025120122001',
      paid_at: '2025-12-01T00:00:00Z',
      refunded_amount: 1000,
      updated_at: '2027-01-10T00:00:00Z',
      compacted_at: compactedAt,
      // What the tombstone kept (the accepted notification) and what came after it (a late refund).
      notifications: [
        { id: 'ntf_1', channel: 'alipay', received_at: '2025-12-01T00:00:01Z', verdict: 'accepted', reason: null, source: 'notify' },
      ],
      events: [{ id: 'evt_2', type: 'refund.succeeded', created_at: '2027-01-10T00:00:00Z', data: { refund: { amount: 1000 } } }],
      deliveries: [],
      refunds: [],
      reconciliation: null,
      other_providers: [],
    })
    let compactedAt: string | null = '2027-01-05T08:00:00Z'
    await serveConsole(page, (route, url) =>
      url.pathname === '/admin/merchants/m1/orders/T-OLD' ? json(route, order(compactedAt)) : route.fulfill({ status: 404, body: '{}' }),
    )
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1/orders/T-OLD`)
    const timeline = page.locator('section[aria-labelledby="timeline-heading"]')
    const said = timeline.locator('#compacted')
    await expect
      .poll(() => said.textContent())
      .toMatch(/^At .*2027.*, past its retention date, the gateway dropped .*no longer listed here/)
    expect(await said.locator('time').getAttribute('datetime')).toBe('2027-01-05T08:00:00Z')
    expect(await said.getByRole('link', { name: "The merchant's deliveries" }).getAttribute('href')).toBe('#/merchants/m1')
    expect(await timeline.getByRole('listitem').count()).toBe(2)

    // Never compacted: no such notice.
    compactedAt = null
    await page.reload()
    await page.getByRole('heading', { name: 'Order T-OLD' }).waitFor()
    expect(await timeline.locator('#compacted').count()).toBe(0)
    await page.close()
  }, 30_000)
})

describe('one action per action meant (from a console audit: a double-click sent an event twice)', () => {
  const summary = { id: 'd1', event_id: 'evt_1', type: 'payment.succeeded', out_trade_no: 'T1', status: 'pending' }
  /** A merchant page whose API answers at once, counting replays and recover calls. */
  async function merchantConsole(p: Page, counts: { replays: number; recovers: number; stats?: number }, replayMs = 0) {
    await serveConsole(p, async (route, url) => {
      const path = url.pathname
      if (path === '/admin/deliveries/d1/replay') {
        counts.replays += 1
        await new Promise((resolve) => setTimeout(resolve, replayMs))
        return json(route, summary)
      }
      if (path === '/admin/deliveries/d1') return json(route, delivery('failed', 3))
      if (path === '/admin/merchants/m1')
        return json(route, { id: 'm1', forward: { url: 'https://shop.example/hook' }, endpoint_health: null })
      if (path === '/admin/merchants/m1/stats') {
        // Failed until a replay has been asked for: then delivered.
        counts.stats = (counts.stats ?? 0) + 1
        const failed = counts.replays === 0 ? 1 : 0
        return json(route, {
          notifications: { accepted: 0, duplicate: 0, rejected: 0, rejected_by_reason: {} },
          deliveries: { delivered: 1 - failed, failed, pending: 0, success_rate: null, latency_ms: { p50: null, p95: null } },
          series: [],
        })
      }
      if (path === '/admin/merchants/m1/deliveries') {
        const { attempts: _attempts, event: _event, ...row } = delivery('failed', 3)
        return json(route, { deliveries: [{ ...row, attempts: 3, last_status_code: 500 }], next_cursor: null })
      }
      if (path === '/admin/merchants/m1/deliveries/recover') {
        counts.recovers += 1
        return json(route, { recovered: 1, orders: 1, next_cursor: null })
      }
      return route.fulfill({ status: 404, body: '{}' })
    })
  }

  it('a double-click on Send again, on the delivery page and in the list, sends the event once', async () => {
    page = await browser.newPage()
    const counts = { replays: 0, recovers: 0 }
    await merchantConsole(page, counts)
    await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
    await page.getByRole('button', { name: 'Send again' }).dblclick()
    await page.getByText('Queued to be sent again, with the same webhook-id.').waitFor({ timeout: 5000 })
    await page.waitForTimeout(500)
    expect(counts.replays).toBe(1)
    // A second, deliberate click later sends again: that is what the button is for.
    await page.getByRole('button', { name: 'Send again' }).click()
    await expect.poll(() => counts.replays).toBe(2)

    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    const inList = page.getByRole('row').filter({ hasText: 'T1' }).getByRole('button', { name: 'Send again' })
    await inList.dblclick({ timeout: 5000 })
    await page.getByText(/Queued to be sent again/).waitFor({ timeout: 5000 })
    await page.waitForTimeout(500)
    expect(counts.replays).toBe(3)
    await page.close()
  }, 30_000)

  it('a send in flight is not sent again from its row drawn anew meanwhile (Filter redraws the list)', async () => {
    page = await browser.newPage()
    const counts = { replays: 0, recovers: 0 }
    await merchantConsole(page, counts, 1500)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    const send = () => page.getByRole('row').filter({ hasText: 'T1' }).getByRole('button', { name: 'Send again' })
    await send().click()
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForTimeout(300) // the list drawn again, the send still in flight
    await send().click()
    await page.getByText(/Queued to be sent again/).waitFor()
    await page.waitForTimeout(500)
    expect(counts.replays).toBe(1)
    await page.close()
  }, 30_000)

  it('Send again in the list moves no row under the pointer, and the counts above catch up once the list does', async () => {
    page = await browser.newPage()
    const counts = { replays: 0, recovers: 0 }
    await merchantConsole(page, counts)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    const send = page.getByRole('row').filter({ hasText: 'T1' }).getByRole('button', { name: 'Send again' })
    // Its place in the page (not in the viewport, which the click may scroll).
    const top = () => send.evaluate((button) => button.getBoundingClientRect().top + (button.ownerDocument.defaultView?.scrollY ?? 0))
    const before = await top()
    await send.click()
    await page.getByText(/Queued to be sent again/).waitFor()
    expect(await top()).toBe(before)
    await page.getByText('1 delivered, 0 still failed', { exact: false }).waitFor({ timeout: 5000 })
    await page.close()
  }, 30_000)

  it("a double-click on the recovery's confirmation recovers once, and its second click lands on nothing the dialog covered", async () => {
    page = await browser.newPage()
    const counts = { replays: 0, recovers: 0 }
    await merchantConsole(page, counts)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
    const send = page.getByRole('dialog').getByRole('button', { name: 'Send 1' })
    await send.waitFor()
    const covered: string[] = []
    await page.exposeFunction('coveredClick', (what: string) => covered.push(what))
    await page.evaluate(
      `document.addEventListener('click', (e) => { if (!e.target.closest('dialog')) coveredClick(e.target.tagName + ':' + (e.target.textContent ?? '').slice(0, 40)) })`,
    )
    await send.dblclick()
    await page.getByText('1 delivery queued to be sent again.').waitFor()
    await page.waitForTimeout(500)
    expect(counts).toMatchObject({ recovers: 1, replays: 0 })
    expect(covered).toEqual([])
    await page.close()
  }, 30_000)

  it('after a recovery is confirmed, the focus is on its outcome: a second Enter starts nothing', async () => {
    page = await browser.newPage()
    const counts = { replays: 0, recovers: 0 }
    await merchantConsole(page, counts)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
    const send = page.getByRole('dialog').getByRole('button', { name: 'Send 1' })
    await send.waitFor()
    await page.keyboard.press('Enter')
    await page.keyboard.press('Enter')
    await page.getByText('1 delivery queued to be sent again.').waitFor()
    await page.keyboard.press('Enter')
    await page.waitForTimeout(500)
    expect(counts.recovers).toBe(1)
    expect(await page.getByRole('dialog').isVisible()).toBe(false)
    expect(await page.getByText('1 delivery queued to be sent again.').isVisible()).toBe(true)
    await page.close()
  }, 30_000)
})

it("Rejected: asks which merchant when none was opened (not the newest one's empty list), and says what a reason means", async () => {
  page = await browser.newPage()
  await serveConsole(page, (route, url) => {
    const path = url.pathname
    if (path === '/admin/merchants') return json(route, { merchants: [{ id: 'm-new' }, { id: 'm-old' }], next_cursor: null })
    if (path === '/admin/merchants/m-old/notifications')
      return json(route, {
        notifications: [
          {
            id: 'ntf_rej_1',
            channel: 'wechatpay.v3',
            received_at: '2026-12-03T00:00:00Z',
            verdict: 'rejected',
            reason: 'stale_timestamp',
            out_trade_no: null,
            count: 1,
            first_received_at: null,
            notification_type: null,
            subject_id: null,
          },
        ],
        next_cursor: null,
      })
    if (path === '/admin/merchants/m-old/stats') return route.fulfill({ status: 404, body: '{}' })
    return route.fulfill({ status: 404, body: '{}' })
  })
  await page.goto(`${ORIGIN}/dashboard#/rejected`)
  await page.getByText('Choose a merchant, or type its id above:').waitFor()
  expect(await page.getByRole('table').count()).toBe(0)
  await page.getByRole('link', { name: 'm-old' }).click()
  const cell = page.getByRole('cell').filter({ hasText: 'stale_timestamp' })
  await cell.waitFor()
  expect(await cell.textContent()).toBe(
    'stale_timestamp its WeChat Pay v3 timestamp is more than 5 minutes from now: a replay, or a clock far off',
  )
  await page.close()
}, 30_000)

it('a delivery held behind an earlier event of its order says so, where it read "pending", "Next attempt —"', async () => {
  page = await browser.newPage()
  await serveConsole(page, (route, url) =>
    url.pathname === '/admin/deliveries/d1'
      ? json(route, { ...delivery('pending', 0), type: 'refund.succeeded', next_attempt_at: null })
      : route.fulfill({ status: 404, body: '{}' }),
  )
  await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
  await expect
    .poll(() => page.locator('#delivery-status').textContent())
    .toBe('waiting for an earlier event to be delivered (recover it if it failed)')
  await page.close()
}, 30_000)

it('keeps the focus: the last page of Load more says so where the button was; a failed page focuses its heading and offers Try again', async () => {
  page = await browser.newPage()
  const refusal = (id: string) => ({
    id,
    channel: 'alipay',
    received_at: '2026-12-03T00:00:00Z',
    verdict: 'rejected',
    reason: 'signature_invalid',
    out_trade_no: null,
    count: 1,
    first_received_at: null,
    notification_type: null,
    subject_id: null,
  })
  let deliveryAnswers = 500
  await serveConsole(page, (route, url) => {
    const path = url.pathname
    if (path === '/admin/merchants') return json(route, { merchants: [{ id: 'm1' }], next_cursor: null })
    if (path === '/admin/merchants/m1/notifications')
      return url.searchParams.get('cursor') === 'c2'
        ? json(route, { notifications: [refusal('ntf_rej_2')], next_cursor: null })
        : json(route, { notifications: [refusal('ntf_rej_1')], next_cursor: 'c2' })
    if (path === '/admin/deliveries/d1')
      return deliveryAnswers === 500
        ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal","message":"boom"}}' })
        : json(route, delivery('delivered', 1))
    return route.fulfill({ status: 404, body: '{}' })
  })
  await page.goto(`${ORIGIN}/dashboard#/rejected?merchant=m1`)
  const more = page.getByRole('button', { name: 'Load more' })
  await more.focus()
  await page.keyboard.press('Enter')
  await page.getByText('That was the last page.').waitFor()
  expect(await more.isHidden()).toBe(true)
  expect(await page.evaluate('document.activeElement?.textContent')).toBe('That was the last page.')
  expect(await page.getByRole('row').count()).toBe(3) // the header and both refusals

  await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
  await page.getByRole('heading', { name: 'Something went wrong' }).waitFor()
  expect(await page.evaluate('document.activeElement?.textContent')).toBe('Something went wrong')
  deliveryAnswers = 200
  await page.getByRole('button', { name: 'Try again' }).click()
  await page.getByRole('heading', { name: 'Delivery of payment.succeeded' }).waitFor()
  await page.close()
}, 30_000)

it("names each delivery link on an order's timeline by its event, where every one read 'delivery'", async () => {
  page = await browser.newPage()
  const event = (id: string, type: string, at: string) => ({ id, type, created_at: at, data: { amount: 100 } })
  const sent = (id: string, eventId: string) => ({
    id,
    event_id: eventId,
    type: 'payment.succeeded',
    status: 'delivered',
    attempts: 1,
    next_attempt_at: null,
    last_status_code: 200,
    attempt_log: [],
  })
  await serveConsole(page, (route, url) =>
    url.pathname === '/admin/merchants/m1/orders/T1'
      ? json(route, {
          merchant_id: 'm1',
          provider: 'alipay',
          out_trade_no: 'T1',
          status: 'refunded',
          amount: 100,
          expected_amount: null,
          currency: 'CNY',
          transaction_id: '2026',
          paid_at: '2026-12-03T00:00:00Z',
          refunded_amount: 100,
          updated_at: '2026-12-03T00:01:00Z',
          compacted_at: null,
          notifications: [],
          events: [event('evt_1', 'payment.succeeded', '2026-12-03T00:00:00Z'), event('evt_2', 'refund.succeeded', '2026-12-03T00:01:00Z')],
          deliveries: [sent('dlv_1', 'evt_1'), sent('dlv_2', 'evt_2')],
          refunds: [],
          reconciliation: null,
          other_providers: [],
        })
      : route.fulfill({ status: 404, body: '{}' }),
  )
  await page.goto(`${ORIGIN}/dashboard#/merchants/m1/orders/T1`)
  await page.getByRole('link', { name: /^delivery of refund\.succeeded, / }).waitFor()
  expect(await page.getByRole('link', { name: /^delivery of payment\.succeeded, / }).getAttribute('href')).toBe('#/deliveries/dlv_1')
  expect(await page.getByRole('link', { name: 'delivery', exact: true }).count()).toBe(0)
  await page.close()
}, 30_000)
