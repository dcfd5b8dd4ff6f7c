/**
 * What the console says, against a stand-in admin API, on an audit's findings: an order's and a refund's status, and
 * an attempt's error, in words with their code beside them, where the raw codes were shown.
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
