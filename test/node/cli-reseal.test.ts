/**
 * `npm run admin -- reseal` when some merchants' secrets open with neither master key: it goes through every page,
 * names those merchants and what to set, and exits 1. The gateway's side (`POST /admin/reseal` listing them as
 * `unreadable`) is tested in test/http/rotation.test.ts; here a stand-in answers as it does.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCli, standInGateway } from './cli-run'

const TOKEN = 'cli-reseal-token'
const PAGES = [
  { resealed: 1, unchanged: 0, unreadable: ['m-old'], next_cursor: 'page-2' },
  { resealed: 0, unchanged: 2, unreadable: ['m-older'], next_cursor: null },
]

let gateway: Awaited<ReturnType<typeof standInGateway>>
const bodies: unknown[] = []

beforeAll(async () => {
  gateway = await standInGateway(({ method, url, authorization, body }) => {
    if (method !== 'POST' || url !== '/admin/reseal' || authorization !== `Bearer ${TOKEN}`) return null
    bodies.push(body)
    return { json: PAGES[(body as { cursor?: string }).cursor === 'page-2' ? 1 : 0] }
  })
})

afterAll(() => gateway.close())

function reseal(...flags: string[]) {
  return runCli({ url: gateway.url, token: TOKEN }, 'reseal', ...flags)
}

it('names the merchants neither key opens, says what to set, and exits 1 after every page', async () => {
  const run = await reseal()
  // Progress goes to stderr, the outcome to stdout.
  expect(run.stderr).toContain('resealed 1, already current 2…')
  expect({ code: run.code, stdout: run.stdout }).toEqual({
    code: 1,
    stdout:
      'resealed 1 merchant(s); 2 already under the current MASTER_KEY; 2 could not be opened with MASTER_KEY or ' +
      'MASTER_KEY_PREVIOUS: m-old, m-older\nset MASTER_KEY_PREVIOUS to the key they were sealed under, then run reseal again\n',
  })
  expect(bodies).toEqual([{}, { cursor: 'page-2' }])
  const json = await reseal('--json')
  expect(json.code).toBe(1)
  expect(JSON.parse(json.stdout)).toEqual({ resealed: 1, unchanged: 2, unreadable: ['m-old', 'm-older'] })
})
