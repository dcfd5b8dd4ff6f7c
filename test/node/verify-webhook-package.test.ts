/**
 * `paygate/verify-webhook` as a merchant's project imports it: the committed build (verifier/) is what
 * `npm run build:verifier` makes from src/verify-webhook.ts now, loads in plain Node (no bundler, no TypeScript),
 * verifies an event signed by the official `standardwebhooks` library and refuses a tampered one, and its declarations
 * type a TypeScript consumer.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OUTPUTS, verifierFiles } from '../../scripts/build-verifier.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
let merchant: string

/** A merchant's project with paygate installed (as `npm install <path to paygate>` links it). */
beforeAll(() => {
  merchant = mkdtempSync(join(tmpdir(), 'paygate-merchant-'))
  writeFileSync(join(merchant, 'package.json'), JSON.stringify({ name: 'merchant', type: 'module', private: true }))
  mkdirSync(join(merchant, 'node_modules'))
  symlinkSync(ROOT, join(merchant, 'node_modules', 'paygate'), 'dir')
  symlinkSync(join(ROOT, 'node_modules', 'standardwebhooks'), join(merchant, 'node_modules', 'standardwebhooks'), 'dir')
  mkdirSync(join(merchant, 'node_modules', '@types'))
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(merchant, 'node_modules', '@types', 'node'), 'dir')
})

afterAll(() => {
  if (merchant) rmSync(merchant, { recursive: true, force: true })
})

const CONSUMER = `
import { Webhook } from 'standardwebhooks'
import { verifyWebhook, WebhookVerificationError } from 'paygate/verify-webhook'

const secret = 'whsec_' + Buffer.from('a merchant secret of 32 bytes!!!').toString('base64')
const body = JSON.stringify({ type: 'webhook.test', timestamp: '2026-11-30T00:00:00Z', data: { merchant_id: 'shop' } })
const now = new Date()
const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(Math.floor(now / 1000)) }
headers['webhook-signature'] = new Webhook(secret).sign('evt_1', now, body)
const event = await verifyWebhook(secret, headers, body)
let tampered
try {
  await verifyWebhook(secret, headers, body.replace('shop', 'shoq'))
} catch (error) {
  tampered = error instanceof WebhookVerificationError ? error.reason : String(error)
}
console.log(JSON.stringify({ type: event.type, merchant: event.data.merchant_id, tampered }))
`

describe('paygate/verify-webhook, as merchants import it', () => {
  it('is up to date with src/verify-webhook.ts (run `npm run build:verifier` after changing it)', async () => {
    const files = await verifierFiles()
    expect(readFileSync(OUTPUTS.js, 'utf8')).toBe(files.js)
    expect(readFileSync(OUTPUTS.types, 'utf8')).toBe(files.types)
  })

  it('loads in plain Node and verifies what the official Standard Webhooks library signs', () => {
    writeFileSync(join(merchant, 'consumer.mjs'), CONSUMER)
    // The Node running the tests (the project's pinned one), and every other `node` on the PATH (the machine's own).
    const onPath = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((line) => line !== '')
    const nodes = [...new Set([process.execPath, ...onPath].map((path) => realpathSync(path)))]
    for (const node of nodes) {
      const output = execFileSync(node, ['consumer.mjs'], { cwd: merchant, encoding: 'utf8' })
      expect(JSON.parse(output), node).toEqual({ type: 'webhook.test', merchant: 'shop', tampered: 'no_matching_signature' })
    }
  })

  it("types a TypeScript consumer: the event union narrows by `type`, and Node's request.headers go in as they are", () => {
    writeFileSync(
      join(merchant, 'consumer.ts'),
      `import { createServer } from 'node:http'
import { verifyWebhook, type MerchantEvent } from 'paygate/verify-webhook'
export async function amountOf(secret: string, headers: Record<string, string>, body: string): Promise<number | null> {
  const event: MerchantEvent = await verifyWebhook(secret, headers, body)
  return event.type === 'payment.succeeded' ? event.data.amount : null
}
export const server = createServer(async (request, response) => {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const event = await verifyWebhook('whsec_c2VjcmV0', request.headers, Buffer.concat(chunks))
  response.writeHead(204).end(event.type)
})
`,
    )
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--lib',
      'es2022,dom',
      'consumer.ts',
    ]
    const result = spawnSync(process.execPath, [tsc, ...args], { cwd: merchant, encoding: 'utf8' })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})
