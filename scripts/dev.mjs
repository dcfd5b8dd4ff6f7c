// `npm run dev`: the gateway on http://localhost:8787 (or PORT of .dev.vars) with local D1 and Durable Objects,
// ready for the demo.
//   1. .dev.vars from the committed .dev.vars.example when missing (ADMIN_TOKEN, MASTER_KEY: dev-only values)
//   2. the demo merchant's throwaway sandbox keys and forward secret in .demo/ on first run (never real keys)
//   3. local D1 migrations, then `wrangler dev --local` in the foreground (offline: no login, metrics or cf fetch),
//      and beside it the provider stand-in on http://127.0.0.1:8790 (or STANDIN_PORT of .dev.vars;
//      scripts/provider-standin.mjs): WeChat Pay and Alipay order and refund queries for what `npm run simulate` paid
//      and refunded
//   4. once it answers, the demo merchant PUT through the real admin API, so the gateway seals its secrets itself;
//      its query keys and API URLs point at the stand-in, so a lost notification is found by the order query; and
//      beside it the demo sub-merchant (WeChat Pay partner mode), which downloads its platform certificates there
// Running it again reuses everything and just re-PUTs the merchant. Ctrl-C stops all it started.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  DEMO_DIR_NAME,
  DEMO_MERCHANT_ID,
  DEMO_PARTNER,
  DEMO_SUB_MERCHANT_ID,
  DevVarsError,
  demoMerchantBody,
  demoSubMerchantBody,
  ensureDemoFiles,
  ensureDevVars,
  gatewayPort,
  gatewayUrl,
  listenUrl,
  readDevVars,
  ROOT,
  standinPort,
  standinUrl,
} from './lib/demo.mjs'
import { NOTIFY_PATHS } from './lib/build-notification.mjs'

const WRANGLER = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))
const STANDIN = fileURLToPath(new URL('./provider-standin.mjs', import.meta.url))
const BUILD_DASHBOARD = fileURLToPath(new URL('./build-dashboard.mjs', import.meta.url))
const READY_TIMEOUT_MS = 90_000

// Keep wrangler offline: no usage metrics, no request.cf download, no update check (the banner makes one).
const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
}

class DevError extends Error {
  name = 'DevError'
}

async function main() {
  step('paygate dev')
  const devVars = ensureDevVars()
  if (devVars.created) note('created .dev.vars from .dev.vars.example (development-only ADMIN_TOKEN and MASTER_KEY)')
  if (devVars.added.length > 0) note(`added ${devVars.added.join(', ')} to .dev.vars, empty (off): see .dev.vars.example`)
  const adminToken = readDevVars().ADMIN_TOKEN
  if (!adminToken) throw new DevError('.dev.vars has no ADMIN_TOKEN (see .dev.vars.example)')
  const port = gatewayPort()
  const gateway = gatewayUrl(port)
  /** Where dev.mjs itself talks to the gateway: the loopback address wrangler listens on. */
  const loopback = `http://127.0.0.1:${port}`

  const demo = ensureDemoFiles()
  if (demo.created.includes('keys.json')) note(`generated throwaway sandbox keys for the demo merchant in ${DEMO_DIR_NAME}keys.json`)
  if (demo.created.includes('forward-secret')) note(`generated the demo merchant's webhook secret in ${DEMO_DIR_NAME}forward-secret`)

  // The console's committed bundle, brought up to date with dashboard/ (unchanged files are left as they are).
  const dashboard = spawnSync(process.execPath, [BUILD_DASHBOARD], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (dashboard.status !== 0) throw new DevError(`the dashboard did not build: ${dashboard.stderr}`)

  step('applying local D1 migrations')
  // stdin not a terminal: wrangler takes its non-interactive default ("yes") instead of prompting.
  const migrations = spawnSync(process.execPath, [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local'], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  })
  if (migrations.status !== 0) {
    process.stderr.write(migrations.stdout + migrations.stderr)
    throw new DevError('wrangler d1 migrations apply failed')
  }
  // wrangler prints its progress table once per migration applied: each file is named once.
  const applied = [...new Set([...migrations.stdout.matchAll(/│ (\S+\.sql)\s+│ ✅/g)].map((m) => m[1]))]
  note(applied.length > 0 ? `applied ${applied.join(', ')}` : 'already up to date')

  if (!(await portIsFree(port))) {
    throw new DevError(`port ${port} is in use: is another \`npm run dev\` running? (PORT in .dev.vars moves the gateway)`)
  }
  const standinAt = standinPort()
  const providerApi = standinUrl(standinAt)
  if (!(await portIsFree(standinAt))) {
    throw new DevError(
      `port ${standinAt} (the provider stand-in) is in use: is another \`npm run dev\` running? (STANDIN_PORT in .dev.vars moves it)`,
    )
  }

  step(`starting the provider stand-in on ${providerApi} and wrangler dev on ${gateway}`)
  const standin = start(
    spawn(process.execPath, [STANDIN, '--port', String(standinAt)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] }),
  )
  const wrangler = start(
    spawn(
      process.execPath,
      [WRANGLER, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--show-interactive-dev-session=false'],
      { cwd: ROOT, env: WRANGLER_ENV, stdio: ['ignore', 'inherit', 'inherit'] },
    ),
  )
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      // Ctrl-C reaches the children through the terminal too; a signal sent to this process alone must be passed on.
      wrangler.stop(signal)
      standin.stop(signal)
    })
  }
  // The gateway runs on without it, but its order queries would fail: say so where the logs are.
  standin.exited.then(({ code, signal }) => {
    if (!standin.stopping && !wrangler.stopping && wrangler.running()) {
      console.error(
        `\ndev: the provider stand-in stopped (${signal ?? `exit code ${code}`}); order queries fail until \`npm run dev\` restarts`,
      )
    }
  })

  let ready
  try {
    ready = await Promise.race([waitUntilAnswering(loopback), wrangler.exited.then(() => false)])
  } catch (error) {
    await Promise.all([wrangler.stop('SIGTERM'), standin.stop('SIGTERM')])
    throw error
  }
  if (!ready) {
    const { code, signal } = await wrangler.exited
    await standin.stop('SIGTERM')
    throw new DevError(`wrangler dev stopped before it was ready (${signal ?? `exit code ${code}`})`)
  }

  try {
    const forward = { url: listenUrl(), secret: demo.forwardSecret }
    const created = await seedDemoMerchant(loopback, adminToken, DEMO_MERCHANT_ID, demoMerchantBody(demo.keys, forward, { providerApi }))
    await seedDemoMerchant(loopback, adminToken, DEMO_SUB_MERCHANT_ID, demoSubMerchantBody(demo.keys, forward, { providerApi }))
    printWelcome(gateway, providerApi, created)
  } catch (error) {
    await Promise.all([wrangler.stop('SIGTERM'), standin.stop('SIGTERM')])
    throw error
  }

  const { code, signal } = await wrangler.exited
  await standin.stop('SIGTERM')
  console.log('\npaygate dev stopped.')
  process.exitCode = signal === null ? (code ?? 0) : 0
}

/** A child process, with a promise of its exit and a `stop(signal)` that resolves once it has exited. */
function start(child) {
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const handle = {
    exited,
    stopping: false,
    running: () => child.exitCode === null && child.signalCode === null,
    stop(signal) {
      handle.stopping = true
      if (handle.running()) child.kill(signal)
      return exited
    },
  }
  return handle
}

/** PUT /admin/merchants/{id}: the gateway validates the body and seals the secrets under MASTER_KEY. */
async function seedDemoMerchant(origin, adminToken, merchantId, body) {
  const response = await fetch(`${origin}/admin/merchants/${merchantId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (response.status !== 200 && response.status !== 201) {
    throw new DevError(`seeding the demo merchant ${merchantId} failed: ${response.status} ${await response.text()}`)
  }
  return response.status === 201
}

async function waitUntilAnswering(origin) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    try {
      // Any HTTP answer (the router's 404 for `/`) means the Worker is up.
      await fetch(`${origin}/`, { signal: AbortSignal.timeout(2_000) })
      return true
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  throw new DevError(`wrangler dev did not answer on ${origin} within ${READY_TIMEOUT_MS / 1000} s`)
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

function printWelcome(gateway, providerApi, created) {
  const lines = [
    '',
    `paygate is running on ${gateway} (wrangler dev: local D1 + Durable Objects in .wrangler/state)`,
    '',
    `  demo merchant  "${DEMO_MERCHANT_ID}" ${created ? 'created' : 'updated'}: WeChat Pay APIv2 + APIv3 (3 apps) and Alipay (2 apps), with throwaway keys from ${DEMO_DIR_NAME}`,
    `  sub-merchant   "${DEMO_SUB_MERCHANT_ID}": WeChat Pay partner mode (sub_mchid ${DEMO_PARTNER.subMchid}), platform certificates downloaded from the stand-in`,
    ...Object.values(NOTIFY_PATHS).map(
      (path, i) => `${i === 0 ? '  notify URLs    ' : '                 '}${gateway}/notify/${DEMO_MERCHANT_ID}/${path}`,
    ),
    `  forwards to    ${listenUrl()} (Standard Webhooks, secret in ${DEMO_DIR_NAME}forward-secret)`,
    `  provider APIs  ${providerApi}: the stand-in answering order and refund queries for what simulate paid and refunded,`,
    '                 signed with the demo keys, and serving the WeChat Pay platform certificates (GET /v3/certificates)',
    `  admin API      ${gateway}/admin/… with Authorization: Bearer <ADMIN_TOKEN from .dev.vars>`,
    `  dashboard      ${gateway}/dashboard (sign in with the ADMIN_TOKEN from .dev.vars)`,
    '',
    'Next, in two more terminals:',
    '  npm run listen                       # the merchant server: verifies and prints each event',
    '  npm run simulate -- alipay payment   # a signed Alipay notify → paygate → the listener',
    '',
    'Then try: npm run simulate -- alipay refund   (also: alipay close, wechatpay.v3 payment --concurrent 5,',
    '          wechatpay.v3 payment --partner --platform-key cert-a, wechatpay.v2 payment --appid 2,',
    '          wechatpay.v2 payment --tamper; --help lists every option)',
    '     and: npm run simulate -- alipay payment --no-notify   # the notification is lost: the order query finds it',
    '          npm run simulate -- alipay refund --out-of-order  # two refunds, the later notified first: each forwarded once',
    '          npm run simulate -- wechatpay.v3 transfer         # a transfer notification → provider.notification',
    '          npm run simulate -- wechatpay.v3 combined         # one combined payment (合单支付) → two payment.succeeded',
    'Ctrl-C stops the gateway and the stand-in.',
    '',
  ]
  console.log(lines.join('\n'))
}

function step(text) {
  console.log(`▸ ${text}`)
}

function note(text) {
  console.log(`  ${text}`)
}

main().catch((error) => {
  console.error(`\ndev: ${error instanceof DevError || error instanceof DevVarsError ? error.message : (error?.stack ?? error)}`)
  process.exitCode = 1
})
