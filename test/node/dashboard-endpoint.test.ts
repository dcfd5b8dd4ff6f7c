/**
 * The console's endpoint actions against a stand-in admin API, on an audit's findings: Disable endpoint, which stops
 * every delivery of the merchant, asks first (Escape and Cancel change nothing, a double-click on its confirmation
 * disables once); Enable does not ask.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './browser'
import { ORIGIN, standInMerchant } from './console-stand-in'

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
