/**
 * The console's committed bundle (src/http/dashboard-bundle.ts) is what `npm run build:dashboard` makes from
 * dashboard/ now, so the Worker never serves a stale console; and the whole console stays under its 60 KB budget.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { BUNDLE_PATH, dashboardModule, dashboardSize } from '../../scripts/build-dashboard.mjs'

describe('the dashboard bundle', () => {
  it('is up to date with dashboard/ (run `npm run build:dashboard` after changing it)', async () => {
    expect(readFileSync(BUNDLE_PATH, 'utf8')).toBe(await dashboardModule())
  })

  it('is under 60 KB gzipped, page, script and style together', async () => {
    const size = (await dashboardSize()).gzip
    expect(size).toBeLessThan(60_000)
  })
})
