/**
 * `npm run admin -- reseal` when some merchants' secrets open with neither master key: it goes through every page,
 * names those merchants and what to set, and exits 1. The gateway's side (`POST /admin/reseal` listing them as
 * `unreadable`) is tested in test/http/rotation.test.ts; here a stand-in answers as it does.
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCli } from './cli-run'
import { freePort } from './wrangler-dev'

const TOKEN = 'cli-reseal-token'
const PAGES = [
  { resealed: 1, unchanged: 0, unreadable: ['m-old'], next_cursor: 'page-2' },
  { resealed: 0, unchanged: 2, unreadable: ['m-older'], next_cursor: null },
]

let gateway: Server
let url: string
const bodies: unknown[] = []

beforeAll(async () => {
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  gateway = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    request.on('end', () => {
      const authorized = request.headers.authorization === `Bearer ${TOKEN}`
      if (request.method !== 'POST' || request.url !== '/admin/reseal' || !authorized) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no"}}')
        return
      }
      const body = JSON.parse(text) as { cursor?: string }
      bodies.push(body)
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(PAGES[body.cursor === 'page-2' ? 1 : 0]))
    })
  })
  await new Promise<void>((resolve) => gateway.listen(port, '127.0.0.1', resolve))
})

afterAll(async () => {
  await new Promise((resolve) => gateway.close(resolve))
})

function reseal(...flags: string[]) {
  return runCli({ url, token: TOKEN }, 'reseal', ...flags)
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
