/**
 * The console's endpoint actions against a stand-in admin API, on an audit's findings: Disable endpoint, which stops
 * every delivery of the merchant, asks first (Escape and Cancel change nothing, a double-click on its confirmation
 * disables once); Enable does not ask. A refusal (409) of a button's action names the button, in the console's
 * words, where it quoted the API's path.
 */
import type { Browser, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

describe('Disable endpoint asks first (it stops every delivery of the merchant); Enable does not', () => {
  it('says what disabling does, focuses the dialog, and changes nothing on Escape or Cancel', async () => {
    page = await browser.newPage()
    const calls: Record<string, number> = {}
    await standInMerchant(page, calls)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    const disable = page.getByRole('button', { name: 'Disable endpoint' })
    await disable.click()
    await page.waitForTimeout(300)
    expect(calls, 'nothing sent before it is confirmed').toEqual({})
    const dialog = page.getByRole('dialog', { name: 'Disable the endpoint?' })
    await dialog.waitFor({ timeout: 2000 })
    expect(await dialog.textContent()).toMatch(
      /Nothing will be sent to https:\/\/shop\.example\/hook until it is enabled again.*wait as failed \(reason endpoint_disabled\).*Recover/s,
    )
    expect(await page.evaluate('document.activeElement?.closest("dialog") !== null')).toBe(true)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await disable.click()
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.waitForTimeout(300)
    expect(calls).toEqual({})
    expect(await disable.isVisible()).toBe(true)
    await page.close()
  }, 30_000)

  it('disables once for a double-click on its confirmation, and clicks nothing the dialog covered; Enable asks nothing', async () => {
    page = await browser.newPage()
    const calls: Record<string, number> = {}
    await standInMerchant(page, calls)
    await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
    await page.getByRole('button', { name: 'Disable endpoint' }).click()
    const dialog = page.getByRole('dialog', { name: 'Disable the endpoint?' })
    await dialog.waitFor({ timeout: 2000 })
    // Whatever lies under the confirmation once the dialog is gone: it must not take the double-click's second click.
    const confirm = dialog.getByRole('button', { name: 'Disable', exact: true })
    const covered: string[] = []
    await page.exposeFunction('coveredClick', (what: string) => covered.push(what))
    await page.evaluate(
      `document.addEventListener('click', (e) => { if (!e.target.closest('dialog')) coveredClick(e.target.tagName + ':' + e.detail) })`,
    )
    await confirm.dblclick()
    await page.getByRole('region', { name: 'Endpoint', exact: true }).getByRole('status').getByText('Endpoint disabled').waitFor()
    await page.waitForTimeout(500)
    expect(calls).toEqual({ disable: 1 })
    expect(covered).toEqual([])
    // The focus back where it was: on the button, now Enable endpoint.
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Enable endpoint')

    await page.getByRole('button', { name: 'Enable endpoint' }).click()
    await page.getByRole('region', { name: 'Endpoint', exact: true }).getByRole('status').getByText('Endpoint enabled').waitFor()
    expect(calls).toEqual({ disable: 1, enable: 1 })
    expect(await page.getByRole('dialog').count()).toBe(0)
    await page.close()
  }, 30_000)
})

/** What the API answers a send while the endpoint is disabled (src/http/admin-common.ts, requireEnabledEndpoint). */
const disabledRefusal = (route: Route, then: string) =>
  json(
    route,
    { error: { code: 'conflict', message: `the endpoint is disabled: enable it first (POST …/endpoint/enable), then ${then}` } },
    409,
  )

it("names the button whose action the API refused, in the console's words, where the message quoted the API's path", async () => {
  page = await browser.newPage()
  const calls: Record<string, number> = {}
  const sends = (route: Route, url: URL) => {
    const path = url.pathname
    if (path === '/admin/merchants/m1/test-event') return disabledRefusal(route, 'send the test event')
    if (path === '/admin/deliveries/d1/replay') return disabledRefusal(route, 'send it again')
    if (path === '/admin/merchants/m1/deliveries/recover') return disabledRefusal(route, 'recover')
    if (path === '/admin/deliveries/d1')
      return json(route, { ...FAILED, event: { id: 'evt_1', type: 'payment.succeeded', data: {} }, attempts: [] })
    if (path === '/admin/merchants/m1/stats') return json(route, EMPTY_STATS)
    if (path === '/admin/merchants/m1/deliveries')
      return json(route, { deliveries: [{ ...FAILED, attempts: 3, last_status_code: null }], next_cursor: null })
    return route.fulfill({ status: 404, body: '{}' })
  }
  await standInMerchant(page, calls, sends, '2026-12-03T00:00:00Z')
  const enable = "enable it first (“Enable endpoint”, on the merchant's page)"
  const alertIn = (name: string) => page.getByRole('region', { name, exact: true }).getByRole('alert')

  await page.goto(`${ORIGIN}/dashboard#/merchants/m1`)
  await page.getByRole('button', { name: 'Send test event' }).click()
  await expect
    .poll(() => alertIn('Endpoint').textContent())
    .toBe(`“Send test event” was refused. The endpoint is disabled: ${enable}, then send the test event.`)

  await page.getByRole('row').filter({ hasText: 'T1' }).getByRole('button', { name: 'Send again' }).click()
  await expect
    .poll(() => alertIn('Deliveries').first().textContent())
    .toBe(`“Send again” (payment.succeeded for T1) was refused. The endpoint is disabled: ${enable}, then send it again.`)

  await page.getByRole('button', { name: 'Recover failed deliveries…' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Send 1' }).click()
  await expect
    .poll(() => page.locator('form.recover').getByRole('alert').textContent())
    .toBe(`“Recover failed deliveries” was refused. The endpoint is disabled: ${enable}, then recover.`)

  await page.goto(`${ORIGIN}/dashboard#/deliveries/d1`)
  await page.getByRole('button', { name: 'Send again' }).click()
  await expect
    .poll(() => alertIn('Delivery').textContent())
    .toBe(`“Send again” was refused. The endpoint is disabled: ${enable}, then send it again.`)
  expect(await page.getByText(/POST|…\//).count()).toBe(0)
  await page.close()
}, 30_000)
