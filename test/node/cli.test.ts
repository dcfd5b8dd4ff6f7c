/**
 * `npm run admin -- …` against a real `wrangler dev` (loopback, free ports, its own state directory, offline), with
 * a local merchant server: the CLI's commands in turn, `--json` for the checks and the readable tables too, PEM keys
 * read from files, progress on `recover`, errors with their exit codes. wrangler's own output (the Worker's log
 * lines included) is checked for leaks at the end, like every other test's.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import { findLeaks, knownSecrets } from '../support/leaks'
import { alipayPaymentBody, postAlipay } from './alipay-notification'
import { eventually, freePort, startWranglerDev, type WranglerDev, throwawaySecrets } from './wrangler-dev'

const CLI = fileURLToPath(new URL('../../cli/admin.ts', import.meta.url))
const { adminToken: ADMIN_TOKEN, masterKey: MASTER_KEY, forwardSecret: SECRET } = throwawaySecrets('cli')
const ROTATED = `whsec_${randomBytes(32).toString('base64')}`
const M = 'cli-shop'

let gateway: WranglerDev
let merchant: Server
let merchantUrl: string
let files: string
/** What the merchant server received, verified with the secret current at the time. */
const received: { id: string; type: string; outTradeNo: string | undefined; verifiedWith: 'secret' | 'rotated' | 'none' }[] = []

interface Run {
  code: number
  stdout: string
  stderr: string
}

function admin(...args: string[]): Promise<Run> {
  return adminWithToken(ADMIN_TOKEN, ...args)
}

function adminWithToken(token: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, PAYGATE_URL: gateway.url, PAYGATE_ADMIN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

async function json<T>(...args: string[]): Promise<T> {
  const run = await admin(...args, '--json')
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0)
  return JSON.parse(run.stdout) as T
}

/** A signed Alipay payment notification, posted to the gateway as Alipay would. */
async function pay(outTradeNo: string): Promise<void> {
  expect(await postAlipay(gateway.url, M, alipayPaymentBody(outTradeNo))).toBe('success')
}

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'paygate-cli-files-'))
  const port = await freePort()
  merchantUrl = `http://127.0.0.1:${port}/hooks`
  merchant = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = request.headers as Record<string, string>
      const verifies = (secret: string) => {
        try {
          new Webhook(secret.slice('whsec_'.length)).verify(body, headers)
          return true
        } catch {
          return false
        }
      }
      const event = JSON.parse(body) as { type: string; data: { out_trade_no?: string } }
      received.push({
        id: headers['webhook-id']!,
        type: event.type,
        outTradeNo: event.data.out_trade_no,
        verifiedWith: verifies(ROTATED) ? 'rotated' : verifies(SECRET) ? 'secret' : 'none',
      })
      response.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => merchant.listen(port, '127.0.0.1', resolve))
  gateway = await startWranglerDev({ ADMIN_TOKEN, MASTER_KEY })
})

afterAll(async () => {
  await gateway?.stop()
  await new Promise((resolve) => merchant?.close(resolve))
  if (files) rmSync(files, { recursive: true, force: true })
  // wrangler's output, the Worker's JSON log lines included, holds no secret either.
  const leaks = findLeaks(gateway?.output ?? [], knownSecrets({ ADMIN_TOKEN, MASTER_KEY, SECRET, ROTATED }))
  expect(leaks).toEqual([])
})

describe('npm run admin', () => {
  it('puts a merchant from a JSON file with PEM keys from files, lists it, reads it, patches its secret', async () => {
    const body = {
      forward: { url: merchantUrl, secret: SECRET },
      alipay: { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId, signType: 'RSA2' },
    }
    writeFileSync(join(files, 'merchant.json'), JSON.stringify(body))
    writeFileSync(join(files, 'alipay-public.pem'), keys.alipay.alipayKey.publicKeyPem)
    writeFileSync(join(files, 'app-private.pem'), keys.alipay.appKey.privateKeyPem)
    const put = await admin(
      'merchants',
      'put',
      M,
      '--file',
      join(files, 'merchant.json'),
      '--key',
      `alipay.alipayPublicKey=@${join(files, 'alipay-public.pem')}`,
      '--key',
      `alipay.appPrivateKey=@${join(files, 'app-private.pem')}`,
    )
    expect(put.code, put.stderr).toBe(0)
    expect(put.stdout).toMatch(new RegExp(`^created ${M}\\n`))
    expect(put.stdout).toContain(`forward.url`)
    expect(put.stdout).not.toContain('PRIVATE KEY')

    const list = await json<{ merchants: { id: string; providers: string[] }[]; next_cursor: null }>('merchants', 'list')
    expect(list.merchants).toEqual([expect.objectContaining({ id: M, providers: ['alipay'] })])
    const table = await admin('merchants', 'list')
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+DISABLED\s+PROVIDERS\s+UPDATED$/)
    expect(table.stdout).toContain(merchantUrl)

    const got = await json<{ forward: { url: string }; alipay: Record<string, unknown> }>('merchants', 'get', M)
    expect(got.forward.url).toBe(merchantUrl)
    expect(got.alipay).not.toHaveProperty('appPrivateKey')

    const test = await json<{ delivered: boolean; event_id: string }>('test-event', M)
    expect(test.delivered).toBe(true)
    expect(received.at(-1)).toMatchObject({ id: test.event_id, type: 'webhook.test', verifiedWith: 'secret' })

    const patched = await admin('merchants', 'patch', M, '--set', `forward.secret=${ROTATED}`)
    expect(patched.code, patched.stderr).toBe(0)
    expect(patched.stdout).toMatch(new RegExp(`^patched ${M}`))
    const retest = await json<{ delivered: boolean }>('test-event', M)
    expect(retest.delivered).toBe(true)
    expect(received.at(-1)).toMatchObject({ type: 'webhook.test', verifiedWith: 'rotated' })
  })

  it('reads an order, its deliveries and one delivery, replays it, and shows stats', async () => {
    await pay('CLI-ORDER-1')
    await eventually(async () => expect(received.some((r) => r.outTradeNo === 'CLI-ORDER-1')).toBe(true))
    const order = await json<{ status: string; deliveries: { id: string }[] }>('orders', 'get', M, 'CLI-ORDER-1')
    expect(order.status).toBe('paid')

    const deliveries = await eventually(async () => {
      const page = await json<{ deliveries: { id: string; event_id: string; status: string }[] }>(
        'deliveries',
        'list',
        M,
        '--status',
        'delivered',
      )
      expect(page.deliveries).toHaveLength(1)
      return page.deliveries
    })
    const shown = await admin('deliveries', 'get', deliveries[0]!.id)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/attempts\nAT\s+STATUS\s+MS\s+ERROR\s+REPLY\n\S+\s+200\s+\d+\s+-\s+ok/)
    const replay = await json<{ event_id: string }>('deliveries', 'replay', deliveries[0]!.id)
    expect(replay.event_id).toBe(deliveries[0]!.event_id)
    await eventually(async () => expect(received.filter((r) => r.id === deliveries[0]!.event_id)).toHaveLength(2))

    const stats = await eventually(async () => {
      const reply = await json<{ notifications: { accepted: number }; deliveries: { delivered: number } }>('stats', M)
      expect(reply.deliveries.delivered).toBeGreaterThanOrEqual(2)
      return reply
    })
    expect(stats.notifications.accepted).toBe(1)
    const text = await admin('stats', M, '--interval', 'hour')
    expect(text.stdout).toMatch(/deliveries\.success_rate\s+100\.0 %/)
    expect(text.stdout).toMatch(/START\s+ACCEPTED\s+DUPLICATE\s+REJECTED\s+DELIVERED\s+FAILED/)
  })

  it('registers a refund of a paid order, and refuses one above what is left (exit 1, conflict)', async () => {
    await pay('CLI-REFUND-1')
    await eventually(async () => expect((await json<{ status: string }>('orders', 'get', M, 'CLI-REFUND-1')).status).toBe('paid'))
    const registered = await json<{ out_refund_no: string; amount: number; providers: string[]; order_status: string }>(
      'refunds',
      'put',
      M,
      'CLI-REFUND-1',
      'CLI-REFUND-1-R1',
      '--amount',
      '30',
    )
    expect(registered).toMatchObject({ out_refund_no: 'CLI-REFUND-1-R1', amount: 30, providers: ['alipay'], order_status: 'paid' })
    const tooMuch = await admin('refunds', 'put', M, 'CLI-REFUND-1', 'CLI-REFUND-1-R2', '--amount', '100000')
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.stderr).toMatch(/^error: 409 conflict: /)
  })

  it('recovers what failed while the endpoint was disabled, showing progress', async () => {
    const since = new Date(Date.now() - 60_000).toISOString()
    expect((await admin('endpoint', 'disable', M)).code).toBe(0)
    await pay('CLI-ORDER-2')
    await eventually(async () => {
      const page = await json<{ deliveries: { reason: string }[] }>('deliveries', 'list', M, '--status', 'failed')
      expect(page.deliveries.map((d) => d.reason)).toEqual(['endpoint_disabled'])
    })
    expect(received.some((r) => r.outTradeNo === 'CLI-ORDER-2')).toBe(false)
    expect((await admin('endpoint', 'enable', M)).code).toBe(0)

    const recover = await admin('deliveries', 'recover', M, '--since', since, '--json')
    expect(recover.code, recover.stderr).toBe(0)
    expect(JSON.parse(recover.stdout)).toEqual({ recovered: 1, orders: 1 })
    expect(recover.stderr).toMatch(/^recovering: 1 deliveries queued again, 1 orders done$/m)
    await eventually(async () => expect(received.filter((r) => r.outTradeNo === 'CLI-ORDER-2')).toHaveLength(1))
    const again = await json<{ recovered: number }>('deliveries', 'recover', M, '--since', since)
    expect(again.recovered).toBe(0)
  })

  it('reseals every stored secret under the current MASTER_KEY, showing progress', async () => {
    const run = await admin('reseal', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ resealed: 0, unchanged: 1, unreadable: [] })
    expect(run.stderr).toMatch(/^resealed 0, already current 1…$/m)
  })

  it('asks every stored object of every merchant for its retention date, showing progress; all dated already, none changes', async () => {
    const run = await admin('retention', '--json')
    expect(run.code, run.stderr).toBe(0)
    // The three orders paid above; each set its own date when it settled, as this version does.
    expect(JSON.parse(run.stdout)).toEqual({ merchants: 1, checked: 3, scheduled: 0, failed: 0, unwalked: [] })
    expect(run.stderr).toMatch(/^cli-shop: checked 3, dated 0, failed 0…$/m)
    const named = await admin('retention', M)
    expect([named.code, named.stdout.trim()]).toEqual([0, 'checked 3 stored object(s) of 1 merchant(s); 0 given their retention date'])
    const missing = await admin('retention', 'nobody')
    expect([missing.code, missing.stderr]).toEqual([1, 'error: 404 not_found: merchant nobody does not exist\n'])
  })

  it('shows the parked projection records without sending them, and re-drives them', async () => {
    const status = await admin('projection', 'status')
    expect(status.code).toBe(0)
    expect(status.stdout.trim()).toBe('0 projection record(s) parked')
    expect(JSON.parse((await admin('projection', 'status', '--json')).stdout)).toEqual({ parked: 0, oldest_parked_at: null })
    const redrive = await admin('projection', 'redrive', '--json')
    expect(JSON.parse(redrive.stdout)).toEqual({ redriven: 0, remaining: 0 })
  })

  it("lists notifications with what each is about: an order number, or a provider notification's type and subject", async () => {
    await pay('CLI-LISTED-1')
    const freeze = alipayPaymentBody('CLI-FREEZE-ORDER', { fields: { notify_type: 'fund_auth_freeze', auth_no: 'CLI-AUTH-1' } })
    expect(await postAlipay(gateway.url, M, freeze)).toBe('success')
    const listed = await eventually(async () => {
      const page = await json<{ notifications: { notification_type: string | null; subject_id: string | null }[] }>(
        'notifications',
        'list',
        M,
        '--verdict',
        'accepted',
      )
      const found = page.notifications.find((n) => n.notification_type === 'fund_auth_freeze')
      expect(found?.subject_id).toEqual(expect.any(String))
      return found!
    })
    const text = (await admin('notifications', 'list', M, '--verdict', 'accepted')).stdout
    const row = text.split('\n').find((line) => line.includes(` fund_auth_freeze ${listed.subject_id}`))
    expect(row).toMatch(/\saccepted\s+-\s+fund_auth_freeze /)
    expect(text.split('\n')[0]).toMatch(/^RECEIVED_AT\s+CHANNEL\s+VERDICT\s+REASON\s+ABOUT\s+COUNT$/)
    // An order's own trail is read from its object.
    const trail = await admin('notifications', 'list', M, '--order', 'CLI-LISTED-1')
    expect(trail.stdout).toMatch(/\saccepted\s+-\s+CLI-LISTED-1(\s|$)/m)
  })

  it('reports API errors (exit 1, the code and message) and usage errors (exit 2)', async () => {
    const missing = await admin('merchants', 'get', 'nobody')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('error: 404 not_found: no such merchant\n')
    const missingJson = await admin('merchants', 'get', 'nobody', '--json')
    expect(JSON.parse(missingJson.stdout)).toEqual({ error: { code: 'not_found', message: 'no such merchant' }, status: 404 })
    const invalid = await admin('deliveries', 'list', M, '--status', 'lost')
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toMatch(/^error: 400 invalid_request: status: /)
    const unknown = await admin('merchants', 'delete', M)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^error: unknown command: merchants delete/)
    const noFile = await admin('merchants', 'put', M)
    expect(noFile.code).toBe(2)
    // A token read from a file of two lines: refused by name, never printed.
    const twoLines = await adminWithToken(`${ADMIN_TOKEN}\nsecond line`, 'merchants', 'list')
    expect(twoLines.code).toBe(2)
    expect(twoLines.stderr).toMatch(/^error: the admin token holds a space, a line break or a non-ASCII character/)
    expect(twoLines.stderr + twoLines.stdout).not.toContain(ADMIN_TOKEN)
    // A token file's final newline is no part of the token.
    expect((await adminWithToken(`${ADMIN_TOKEN}\n`, 'merchants', 'list')).code).toBe(0)

    // A test event that was not delivered is no API error, but a script must see it: exit 1.
    const closed = await freePort()
    expect((await admin('merchants', 'patch', M, '--set', `forward.url=http://127.0.0.1:${closed}/hooks`)).code).toBe(0)
    const undelivered = await admin('test-event', M)
    expect(undelivered.code).toBe(1)
    expect(undelivered.stdout).toMatch(/^webhook\.test evt_\S+: NOT delivered/)
    expect((await admin('merchants', 'patch', M, '--set', `forward.url=${merchantUrl}`)).code).toBe(0)
  })
})
