/**
 * The admin CLI as an operator types it (from a black-box audit of it): an option or argument its command does not
 * take is refused before anything is sent, where it was ignored (`deliveries recover --order A` recovered every order);
 * `--key` without `@` is refused, where the file's name was stored as the secret; paths are from the directory the
 * command was typed in; `--set` sends true, false and lists as such; `--unset` of a platform key the merchant does
 * not have is refused; a reply that is not the API's JSON, or a PAYGATE_URL with a path, is named as such. A stand-in
 * gateway records what reaches it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createAdminClient, NoReply } from '../../cli/client.ts'
import { isLocalGateway } from '../../cli/config.ts'
import { gatewayUrl } from '../../scripts/lib/dev-vars.mjs'
import { runCli, runCliWith, type StandInRequest, standInGateway } from './cli-run'
import { freePort } from './wrangler-dev'

const TOKEN = 'cli-usage-token'
/** A token the stand-in answers as a sign-in page in front of the gateway would: 200, HTML. */
const PROXIED = 'cli-usage-behind-a-login-page'

const merchant = {
  forward: { url: 'https://m.example/hooks' },
  wechatpay: {
    mchid: '1900000001',
    appid: 'wx1',
    platformPublicKeys: { OLD_SERIAL: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----' },
  },
}

const order = {
  merchant_id: 'm1',
  provider: 'wechatpay',
  out_trade_no: 'T1',
  status: 'partially_refunded',
  amount: 1000,
  expected_amount: 1000,
  currency: 'CNY',
  transaction_id: '4200001',
  paid_at: '2026-12-01T00:00:00Z',
  refunded_amount: 300,
  updated_at: '2026-12-01T00:00:00Z',
  compacted_at: null,
  events: [],
  deliveries: [],
  notifications: [
    { id: 'ntf_1', channel: 'wechatpay.v3', received_at: '2026-12-01T00:00:00Z', verdict: 'accepted', reason: null, source: 'notify' },
  ],
  refunds: [
    {
      out_refund_no: 'R1',
      refund_id: '5030',
      amount: 300,
      status: 'succeeded',
      registered_amount: 300,
      next_query_at: null,
      last_query_result: null,
    },
    {
      out_refund_no: 'R2',
      refund_id: null,
      amount: null,
      status: 'pending',
      registered_amount: 200,
      next_query_at: '2026-12-01T00:05:00Z',
      last_query_result: null,
    },
  ],
  reconciliation: null,
  other_providers: [],
}

const deliveryRow = (id: string, outTradeNo: string) => ({
  id,
  event_id: `evt_${id}`,
  type: 'payment.succeeded',
  out_trade_no: outTradeNo,
  status: 'failed',
  reason: 'retries_exhausted',
  attempts: 20,
  next_attempt_at: null,
  last_status_code: 500,
  created_at: '2026-12-01T00:00:00Z',
})

type Received = Omit<StandInRequest, 'authorization'>

let gateway: Awaited<ReturnType<typeof standInGateway>>
let url: string
let received: Received[] = []

beforeAll(async () => {
  const found: Record<string, unknown> = {
    'GET /admin/merchants/m1': merchant,
    'PATCH /admin/merchants/m1': merchant,
    'GET /admin/merchants/m1/orders/T1': order,
    'GET /admin/merchants/m1/deliveries': { deliveries: [deliveryRow('dlv_1', 'T1')], next_cursor: 'c2' },
    'GET /admin/merchants/m1/deliveries?cursor=c2': { deliveries: [deliveryRow('dlv_2', 'T2')], next_cursor: null },
    'GET /admin/merchants/m1/deliveries?status=pending': {
      deliveries: [
        { ...deliveryRow('dlv_w', 'T3'), status: 'pending', reason: null, attempts: 0, next_attempt_at: null },
        { ...deliveryRow('dlv_r', 'T4'), status: 'pending', reason: null, attempts: 2, next_attempt_at: '2026-12-01T00:10:00Z' },
        { ...deliveryRow('dlv_p', 'T5'), status: 'pending', reason: null, attempts: 0, next_attempt_at: '2026-12-01T00:00:01Z' },
      ],
      next_cursor: null,
    },
  }
  gateway = await standInGateway(({ authorization, ...request }) => {
    received.push(request)
    if (authorization === `Bearer ${PROXIED}`) return { contentType: 'text/html', text: '<!doctype html><title>Sign in</title>' }
    const reply = found[`${request.method} ${request.url}`]
    return authorization === `Bearer ${TOKEN}` && reply !== undefined ? { json: reply } : null
  })
  url = gateway.url
})

afterAll(() => gateway.close())

beforeEach(() => {
  received = []
})

const cli = (...args: string[]) => runCli({ url, token: TOKEN }, ...args)
/** The CLI as `npm run admin` runs it when typed in `directory`. */
const fromDirectory = (directory: string, ...args: string[]) =>
  runCliWith({ INIT_CWD: directory, npm_lifecycle_event: 'admin' }, { url, token: TOKEN }, ...args)

describe('what a command does not take is refused, and nothing is sent', () => {
  it.each([
    [
      ['deliveries', 'recover', 'm1', '--since', '2026-12-01T00:00:00Z', '--order', 'A'],
      /deliveries recover does not take --order \(it takes --since, --until\)/,
    ],
    [['endpoint', 'disable', 'm1', 'm2'], /unexpected argument "m2": endpoint disable <merchantId>/],
    [['deliveries', 'replay', 'dlv_1', 'dlv_2'], /unexpected argument "dlv_2"/],
    [['merchants', 'get', 'm1', '--limit', '3'], /merchants get does not take --limit \(it takes no options\)/],
    [['reseal', 'm1'], /unexpected argument "m1": reseal/],
    [['merchants', 'lst'], /unknown command: merchants lst \(did you mean merchants list\?\)/],
    [['merchnts', 'list'], /unknown command: merchnts list \(did you mean merchants\?\)/],
    [['deliveries', 'list', 'm1', '--stauts', 'failed'], /unknown option --stauts \(did you mean --status\?\)/],
    [['deliveries', 'list', 'm1', '--limit', '0'], /--limit: from 1 to 100/],
    [['merchants', 'list', '--limit', '101'], /--limit: from 1 to 100/],
    [
      ['merchants', 'patch', 'm1', '--key', 'alipay.appAuthToken=token.txt'],
      /--key reads a file, written name=@path; for a value typed in, use --set alipay\.appAuthToken=/,
    ],
  ])('%j', async (args, message) => {
    const run = await cli(...args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(received).toEqual([])
  })

  it('puts a usage error on stdout as JSON with --json, as it does an API error', async () => {
    const run = await cli('endpoint', 'disable', 'm1', 'm2', '--json')
    expect(run.code).toBe(2)
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'usage', message: expect.stringMatching(/^unexpected argument "m2"/) } })
    expect(received).toEqual([])
  })

  it("prints one command group's usage for `merchants --help`, and one command's for `deliveries list --help`", async () => {
    const group = await cli('merchants', '--help')
    expect(group.code).toBe(0)
    expect(group.stdout).toContain('merchants patch <merchantId>')
    expect(group.stdout).not.toContain('deliveries list')
    const one = await cli('deliveries', 'list', '--help')
    expect(one.code).toBe(0)
    expect(one.stdout).toMatch(/^npm run admin -- deliveries list <merchantId> \[--status S\]/)
    expect(received).toEqual([])
  })
})

describe('bodies', () => {
  it('reads --key and --file paths from the directory the command was typed in (INIT_CWD), without a BOM or final newline', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'paygate-cli-'))
    writeFileSync(join(directory, 'apiv3.key'), '\uFEFF0123456789abcdef0123456789abcdef\n')
    writeFileSync(join(directory, 'patch.json'), '{"forward": {"url": "https://m.example/new"}}')
    const run = await fromDirectory(directory, 'merchants', 'patch', 'm1', '--file', 'patch.json', '--key', 'wechatpay.apiV3Key=@apiv3.key')
    expect(run.code).toBe(0)
    expect(received).toEqual([
      {
        method: 'PATCH',
        url: '/admin/merchants/m1',
        body: { forward: { url: 'https://m.example/new' }, wechatpay: { apiV3Key: '0123456789abcdef0123456789abcdef' } },
      },
    ])
    const missing = await fromDirectory(directory, 'merchants', 'patch', 'm1', '--key', 'wechatpay.apiV3Key=@nope.key')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(`${join(directory, 'nope.key')} cannot be read (no such file)`)
  })

  it("takes INIT_CWD only from `npm run admin`: another npm command's, left in the environment, is not the caller's directory", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'paygate-cli-'))
    writeFileSync(join(directory, 'patch.json'), '{"forward": {"url": "https://m.example/new"}}')
    const run = await runCliWith(
      { INIT_CWD: directory, npm_lifecycle_event: 'test' },
      { url, token: TOKEN },
      'merchants',
      'patch',
      'm1',
      '--file',
      'patch.json',
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${join(process.cwd(), 'patch.json')} cannot be read (no such file)`)
    expect(received).toEqual([])
  })

  it('names where a --file is not valid JSON', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'paygate-cli-'))
    writeFileSync(join(directory, 'bad.json'), '{\n  "forward": {"url": "https://m.example/x",}\n}')
    const run = await fromDirectory(directory, 'merchants', 'patch', 'm1', '--file', 'bad.json')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/bad\.json: not valid JSON \(at position \d+/)
    expect(received).toEqual([])
  })

  it('sends --set true, false and JSON lists as such, and any other value as text', async () => {
    const run = await cli(
      'merchants',
      'patch',
      'm1',
      '--set',
      'requireRegisteredOrders=true',
      '--set',
      'wechatpay.autoPlatformCertificates=false',
      '--set',
      'wechatpay.appid=["wx1","wx2"]',
      '--set',
      'alipay.appId=2021000000000777',
    )
    expect(run.code).toBe(0)
    expect(received[0]!.body).toEqual({
      requireRegisteredOrders: true,
      wechatpay: { autoPlatformCertificates: false, appid: ['wx1', 'wx2'] },
      alipay: { appId: '2021000000000777' },
    })
  })

  it('refuses --unset of a platform key the merchant does not have, naming those it has; removes one it has', async () => {
    const typo = await cli('merchants', 'patch', 'm1', '--unset', 'wechatpay.platformPublicKeys.OLD_SERIA')
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('m1 has no wechatpay.platformPublicKeys entry OLD_SERIA (it has: OLD_SERIAL); nothing was sent')
    expect(received.map((r) => r.method)).toEqual(['GET'])
    received = []
    const right = await cli('merchants', 'patch', 'm1', '--unset', 'wechatpay.platformPublicKeys.OLD_SERIAL')
    expect(right.code).toBe(0)
    expect(received.map((r) => `${r.method} ${JSON.stringify(r.body)}`)).toEqual([
      'GET null',
      'PATCH {"wechatpay":{"platformPublicKeys":{"OLD_SERIAL":null}}}',
    ])
  })
})

describe('the gateway and what answers for it', () => {
  it("says a reply that is not the API's JSON is not the gateway's (a sign-in page in front of it), without a stack trace", async () => {
    for (const args of [
      ['merchants', 'get', 'm1'],
      ['merchants', 'get', 'm1', '--json'],
    ]) {
      const run = await runCli({ url, token: PROXIED }, ...args)
      expect(run.code).toBe(1)
      expect(`${run.stdout}${run.stderr}`).toContain(`${url} answered HTTP 200 with text/html, not the admin API's JSON`)
      expect(run.stderr).not.toMatch(/SyntaxError|at .*\.js:\d+/)
    }
  })

  it('says a request with no reply in time may have been carried out, and a gateway it cannot reach that nothing was sent', async () => {
    const silent = createServer(() => {}) // takes the request, never answers
    const port = await freePort()
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
    try {
      const client = createAdminClient({ url: `http://127.0.0.1:${port}`, token: TOKEN }, 200)
      const error = await client
        .POST('/admin/deliveries/{deliveryId}/replay', { params: { path: { deliveryId: 'd1' } } })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(NoReply)
      expect((error as Error).message).toMatch(
        /within 0\.2 s: the request may have been carried out; look \(a get or a list\) before running it again$/,
      )
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
    const closed = await freePort()
    const run = await runCli({ url: `http://127.0.0.1:${closed}`, token: TOKEN }, 'merchants', 'get', 'm1', '--json')
    expect(run.code).toBe(1)
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        code: 'unreachable',
        message: expect.stringMatching(/^cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/),
      },
    })
  })

  it('never prints a user name or password given in PAYGATE_URL', async () => {
    for (const bad of ['admin:s3cret@localhost:8787', 'https://admin:s3cret@paygate.example.com', 'ftp://admin:s3cret@host']) {
      const run = await runCli({ url: bad, token: TOKEN }, 'merchants', 'get', 'm1')
      expect(run.code).toBe(2)
      expect(run.stderr).not.toContain('s3cret')
    }
    const withUser = await runCli({ url: 'https://admin:s3cret@paygate.example.com', token: TOKEN }, 'merchants', 'get', 'm1')
    expect(withUser.stderr).toContain('holds a user name or password: give the origin alone; the token goes in PAYGATE_ADMIN_TOKEN')
  })

  it('takes the dev gateway by any loopback name of it (its .dev.vars token goes nowhere else)', () => {
    const { port } = new URL(gatewayUrl())
    for (const host of ['localhost', '127.0.0.1', '[::1]']) expect(isLocalGateway(`http://${host}:${port}`), host).toBe(true)
    for (const other of [
      `https://localhost:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `http://10.0.0.1:${port}`,
      `http://paygate.example:${port}`,
    ]) {
      expect(isLocalGateway(other), other).toBe(false)
    }
  })

  it('refuses http:// to another machine before sending anything, and follows no redirect (the token would go along)', async () => {
    const plain = await runCli({ url: 'http://paygate.example.com', token: TOKEN }, 'merchants', 'get', 'm1')
    expect(plain.code).toBe(2)
    expect(plain.stderr).toContain('is http:// to another machine: the admin token would cross the network in clear; use https://')
    let reached: string | undefined
    const target = createServer((request, response) => {
      reached = request.headers.authorization
      response.end('{}')
    })
    const redirecting = createServer((_request, response) => {
      response.writeHead(301, { location: `http://127.0.0.1:${(target.address() as { port: number }).port}/admin/merchants/m1` })
      response.end()
    })
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve))
    try {
      const from = `http://127.0.0.1:${(redirecting.address() as { port: number }).port}`
      const run = await runCli({ url: from, token: TOKEN }, 'merchants', 'get', 'm1')
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`${from} answered HTTP 301, a redirect to http://127.0.0.1:`)
      expect(run.stderr).toContain('the CLI follows none (the token would go along)')
      expect(reached).toBeUndefined()
    } finally {
      await new Promise((resolve) => redirecting.close(resolve))
      await new Promise((resolve) => target.close(resolve))
    }
  })

  it('refuses a PAYGATE_URL with a path or without a scheme, before sending anything', async () => {
    const withPath = await runCli({ url: `${url}/admin`, token: TOKEN }, 'merchants', 'get', 'm1')
    expect(withPath.code).toBe(2)
    expect(withPath.stderr).toContain(`give the gateway's origin alone (${url})`)
    const bare = await runCli({ url: url.replace('http://', ''), token: TOKEN }, 'merchants', 'get', 'm1')
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('must start with http:// or https://')
    expect(received).toEqual([])
    const slash = await runCli({ url: `${url}/`, token: TOKEN }, 'merchants', 'get', 'm1')
    expect(slash.code).toBe(0)
  })
})

it('orders get shows the registered amount, the notifications, the refunds (one still pending) and the deliveries', async () => {
  const run = await cli('orders', 'get', 'm1', 'T1')
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/^expected_amount\s+1000$/m)
  expect(run.stdout).toMatch(/^notifications\n.*RECEIVED_AT.*\n2026-12-01T00:00:00Z\s+wechatpay\.v3\s+accepted/m)
  expect(run.stdout).toMatch(/^R1\s+5030\s+300\s+300\s+succeeded/m)
  expect(run.stdout).toMatch(/^R2\s+-\s+-\s+200\s+pending\s+2026-12-01T00:05:00Z$/m)
  expect(run.stdout).toMatch(/^deliveries\n\(none\)$/m)
})

it('deliveries list says which pending deliveries wait behind an earlier event and which are retrying; --json keeps the status', async () => {
  const run = await cli('deliveries', 'list', 'm1', '--status', 'pending')
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/^dlv_w .*T3\s+pending \(behind an earlier event; recover it if it failed\)\s/m)
  expect(run.stdout).toMatch(/^dlv_r .*T4\s+pending \(retrying, 2 attempts so far\)\s/m)
  expect(run.stdout).toMatch(/^dlv_p .*T5\s+pending\s+-\s+0\s/m)
  const json = await cli('deliveries', 'list', 'm1', '--status', 'pending', '--json')
  expect(JSON.parse(json.stdout).deliveries.map((d: { status: string }) => d.status)).toEqual(['pending', 'pending', 'pending'])
})

it('deliveries list --all walks every page; without it, one page and how to get the next', async () => {
  const all = await cli('deliveries', 'list', 'm1', '--all', '--json')
  expect(all.code).toBe(0)
  expect(JSON.parse(all.stdout)).toMatchObject({ deliveries: [{ id: 'dlv_1' }, { id: 'dlv_2' }], next_cursor: null })
  const one = await cli('deliveries', 'list', 'm1')
  expect(one.stdout).toMatch(/^dlv_1 /m)
  expect(one.stdout).not.toMatch(/^dlv_2 /m)
  expect(one.stdout).toContain('more: the same command (same filters) with --cursor c2, or --all for every page')
})
