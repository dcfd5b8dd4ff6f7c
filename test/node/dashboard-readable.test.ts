/**
 * What the console says, against a stand-in admin API, on an audit's findings: an order's and a refund's status, and
 * an attempt's error, in words with their code beside them, where the raw codes were shown; the stats chart's time
 * axis, in the zone the header names, and drawn again without moving anything below it.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium } from './browser'
import { EMPTY_STATS, FAILED, json, ORIGIN, standInMerchant } from './console-stand-in'

let browser: Browser
let page: Page

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

it("says an order's and a refund's status and an attempt's error in words, each with its code beside it", async () => {
  page = await browser.newPage()
  const attempt = { number: 1, started_at: '2026-12-03T00:00:01Z', status_code: null, latency_ms: 12, error: 'network error' }
  const order = {
    merchant_id: 'm1',
    provider: 'alipay',
    out_trade_no: 'T1',
    status: 'partially_refunded',
    amount: 8888,
    expected_amount: null,
    currency: 'CNY',
    transaction_id: '2026120322001',
    paid_at: '2026-12-03T00:00:00Z',
    refunded_amount: 1000,
    updated_at: '2026-12-03T00:05:00Z',
    compacted_at: null,
    notifications: [],
    events: [{ id: 'evt_1', type: 'payment.succeeded', created_at: '2026-12-03T00:00:00Z', data: { amount: 8888 } }],
    deliveries: [
      {
        id: 'd1',
        event_id: 'evt_1',
        type: 'payment.succeeded',
        status: 'pending',
        attempts: 1,
        next_attempt_at: '2026-12-03T00:01:00Z',
        last_status_code: null,
        attempt_log: [attempt],
      },
    ],
    refunds: [{ out_refund_no: 'R1', refund_id: null, amount: null, registered_amount: 1000, status: 'pending' }],
    reconciliation: null,
    other_providers: [],
  }
  const delivery = {
    ...FAILED,
    status: 'pending',
    reason: null,
    next_attempt_at: '2026-12-03T00:01:00Z',
    event: { id: 'evt_1', type: 'payment.succeeded', data: {} },
    attempts: [{ at: attempt.started_at, status_code: null, duration_ms: 12, error: 'network error', response_snippet: '' }],
  }
  const calls: Record<string, number> = {}
  await standInMerchant(page, calls, (route, url) => {
    const path = url.pathname
    if (path === '/admin/merchants/m1/orders/T1') return json(route, order)
    if (path === '/admin/deliveries/d1') return json(route, delivery)
    if (path === '/admin/merchants/m1/test-event')
      return json(route, {
        event_id: 'evt_t',
        delivered: false,
        status_code: null,
        duration_ms: 12,
        error: 'network error',
        response_snippet: '',
      })
    if (path === '/admin/merchants/m1/stats') return json(route, EMPTY_STATS)
    if (path === '/admin/merchants/m1/deliveries') return json(route, { deliveries: [], next_cursor: null })
    return route.fulfill({ status: 404, body: '{}' })
  })
  const connection = 'could not connect to the endpoint, or the connection broke (network error)'

  await page.goto(`${ORIGIN}/dashboard#/merchants/m1/orders/T1`)
  const card = page.getByRole('region', { name: 'Order', exact: true })
  await expect.poll(() => card.locator('dd').first().textContent()).toBe('partially refunded (partially_refunded)')
  expect(await card.locator('dd code').first().textContent()).toBe('partially_refunded')
  const refund = page.getByRole('region', { name: 'Refunds table' }).getByRole('row').filter({ hasText: 'R1' })
  expect(await refund.getByRole('cell').last().textContent()).toBe('not settled yet (pending)')
  const timeline = page.getByRole('list', { name: 'Timeline of T1 at m1' })
  const tried = (await timeline.getByRole('listitem').last().textContent()) ?? ''
  expect([tried.startsWith('Attempt 1'), tried.endsWith(` ${connection} in 12 ms`)], tried).toEqual([true, true])

  await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
  const row = page.getByRole('region', { name: 'Attempts table' }).getByRole('row').nth(1)
  await expect.poll(() => row.getByRole('cell').nth(4).textContent()).toBe(connection)

  await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
  await page.getByRole('button', { name: 'Send test event' }).click()
  await expect
    .poll(() => page.getByRole('region', { name: 'Endpoint', exact: true }).getByRole('status').textContent())
    .toBe(`Test event failed: ${connection} in 12 ms.`)
  await page.close()
}, 30_000)

it("labels the chart's time axis (start, middle, end) in the zone the header names, and moves nothing when it is drawn again", async () => {
  const context = await browser.newContext({ timezoneId: 'Asia/Shanghai', locale: 'en-GB', viewport: { width: 1280, height: 900 } })
  page = await context.newPage()
  // 25 hourly buckets from 10:00 UTC (18:00 in Shanghai): the axis runs to 11:00 UTC the next day.
  const hour = (i: number) => ({
    start: new Date(Date.UTC(2026, 11, 2, 10 + i)).toISOString(),
    notifications: { accepted: i % 3, duplicate: 0, rejected: 0 },
    deliveries: { delivered: i % 3, failed: i % 5 === 0 ? 1 : 0, success_rate: null, latency_ms: { p50: null, p95: null } },
  })
  let statsAsked = 0
  await standInMerchant(page, {}, (route, url) => {
    const path = url.pathname
    // No series at first (a merchant with nothing yet), a full day once a send has been made.
    if (path === '/admin/merchants/m1/stats')
      return json(route, { ...EMPTY_STATS, series: statsAsked++ === 0 ? [] : Array.from({ length: 25 }, (_, i) => hour(i)) })
    if (path === '/admin/merchants/m1/deliveries')
      return json(route, { deliveries: [{ ...FAILED, attempts: 3, last_status_code: null }], next_cursor: null })
    if (path === '/admin/deliveries/d1/replay') return json(route, { ...FAILED, status: 'pending' })
    return route.fulfill({ status: 404, body: '{}' })
  })
  await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
  expect(await page.locator('header .zone').textContent()).toBe('Times in Asia/Shanghai (UTC+08:00) (UTC on hover)')
  const below = page.getByRole('heading', { name: 'Deliveries', exact: true })
  const top = () => below.evaluate((el) => el.getBoundingClientRect().top + (el.ownerDocument.defaultView?.scrollY ?? 0))
  const before = await top()
  await page.getByRole('row').filter({ hasText: 'T1' }).getByRole('button', { name: 'Send again' }).click()
  const axis = page.getByRole('list', { name: 'Time axis' })
  await expect
    .poll(() => axis.getByRole('listitem').allTextContents(), { timeout: 5000 })
    .toEqual(['2 Dec, 18:00', '3 Dec, 06:30', '3 Dec, 19:00'])
  expect(await top()).toBe(before)
  expect(
    await axis
      .locator('time')
      .first()
      .evaluate((t) => [t.getAttribute('datetime'), t.title]),
  ).toEqual(['2026-12-02T10:00:00.000Z', '2026-12-02 10:00:00 UTC'])
  // Each label where its time is: the start at the chart's left edge, the middle at its middle, the end at its right.
  const chart = page.getByRole('img', { name: /^Per hour from 2 Dec, 18:00 to 3 Dec, 19:00: / })
  const { x, width } = (await chart.boundingBox()) ?? { x: Number.NaN, width: Number.NaN }
  const at = await axis.locator('time').evaluateAll((times) => times.map((t) => t.getBoundingClientRect()))
  const offsets = [at[0]?.left ?? x, at[1] ? (at[1].left + at[1].right) / 2 : x, at[2]?.right ?? x]
  expect(offsets.map((px, i) => Math.abs(px - (x + (i * width) / 2)) < 1)).toEqual([true, true, true])
  await context.close()
}, 30_000)
