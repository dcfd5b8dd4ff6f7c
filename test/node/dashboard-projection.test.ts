/**
 * The dead-letter store in the console (from the notes' left-alone list: no view of it): projection records parked
 * after their queue retries are said on the merchants page, with what it means for the lists, and sent again from there.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium } from './browser'
import { json, ORIGIN, serveConsole } from './console-stand-in'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** The merchants page with `parked` records parked; each re-drive sends up to `page` of them. */
async function merchantsWithParked(p: Page, parked: number, page: number, calls: { redrive: number }) {
  let left = parked
  await serveConsole(p, (route, url) => {
    if (url.pathname === '/admin/endpoints') return json(route, { endpoints: [], next_cursor: null })
    if (url.pathname === '/admin/projection')
      return json(route, { parked: left, oldest_parked_at: left === 0 ? null : '2026-12-03T08:00:00Z' })
    if (url.pathname === '/admin/projection/redrive' && route.request().method() === 'POST') {
      calls.redrive += 1
      const redriven = Math.min(page, left)
      left -= redriven
      return json(route, { redriven, remaining: left })
    }
    return route.fulfill({ status: 404, body: '{}' })
  })
}

it('says how many records are parked and what that means, and sends them all again with one click (a double-click too)', async () => {
  const page = await browser.newPage()
  const calls = { redrive: 0 }
  await merchantsWithParked(page, 750, 500, calls)
  await page.goto(`${ORIGIN}/dashboard#/merchants`)
  const alert = page.getByRole('alert')
  await alert.waitFor({ timeout: 5000 })
  expect(await alert.textContent()).toMatch(
    /^750 projection records are parked since .*: D1 did not take them, so the lists, counts and stats below may be behind the orders\. Nothing is lost\./,
  )
  await alert.getByRole('button', { name: 'Send them again' }).dblclick()
  await page.getByText('750 projection records are back on the projection queue', { exact: false }).waitFor({ timeout: 5000 })
  await page.waitForTimeout(300)
  expect(calls.redrive).toBe(2)
  await page.close()
}, 30_000)

it('says nothing when nothing is parked', async () => {
  const page = await browser.newPage()
  await merchantsWithParked(page, 0, 500, { redrive: 0 })
  await page.goto(`${ORIGIN}/dashboard#/merchants`)
  await page.getByText('No merchants yet.').waitFor({ timeout: 5000 })
  expect(await page.getByRole('alert').count()).toBe(0)
  await page.close()
}, 30_000)
