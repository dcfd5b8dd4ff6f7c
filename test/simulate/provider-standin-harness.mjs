// Starts the real provider stand-in (scripts/provider-standin.mjs, a Node process) for
// test/simulate/provider-standin.test.ts: on a free loopback port, with the fixture keys and a state file of
// orders as `npm run simulate` records them. The workerd test then lets the gateway's own query clients call it.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_PARTNER, demoMerchantBody, demoSubMerchantBody } from '../../scripts/lib/demo.mjs'

const STANDIN = fileURLToPath(new URL('../../scripts/provider-standin.mjs', import.meta.url))
const KEYS = fileURLToPath(new URL('../fixtures/keys.json', import.meta.url))
const START_TIMEOUT_MS = 10_000

/** Orders the stand-in knows, named for what each test does with them, and those simulate `recorded` (keyed as it keys them). */
function simulatorState(now, recorded) {
  const order = (channel, outTradeNo, transactionId, refundedFen = 0) => ({
    channel,
    outTradeNo,
    totalFen: 8888,
    transactionId,
    refundedFen,
    paidAt: now - 60_000,
    updatedAt: now,
  })
  const paidWithoutNotify = [
    order('alipay', 'STANDIN-LOST-ALIPAY', '2026112522001400000000000001'),
    order('wechatpay.v3', 'STANDIN-LOST-V3', '4200202611250000000000000001'),
    order('wechatpay.v3', 'STANDIN-LOST-V3-CERT', '4200202611250000000000000002'),
    order('wechatpay.v2', 'STANDIN-LOST-V2-HMAC', '4200202611250000000000000003'),
    order('wechatpay.v2', 'STANDIN-LOST-V2-MD5', '4200202611250000000000000004'),
    // Paid to the demo sub-merchant (`--partner --no-notify`): found through the partner endpoints only.
    { ...order('wechatpay.v3', 'STANDIN-LOST-PARTNER-V3', '4200202611250000000000000006'), subMchid: DEMO_PARTNER.subMchid },
    { ...order('wechatpay.v2', 'STANDIN-LOST-PARTNER-V2', '4200202611250000000000000007'), subMchid: DEMO_PARTNER.subMchid },
  ]
  // A refund simulate made (`refund --no-notify`): what the refund-query APIs report.
  const refunded = (channel, outTradeNo, transactionId) => ({
    ...order(channel, outTradeNo, transactionId, 1000),
    refunds: [
      { outRefundNo: `${outTradeNo}-RF1`, amountFen: 1000, refundId: `503000${transactionId.slice(-12)}`, refundedAt: now - 30_000 },
    ],
  })
  const orders = [
    order('alipay', 'STANDIN-REFUNDED-ALIPAY', '2026112522001400000000000002', 8888),
    order('wechatpay.v3', 'STANDIN-REFUNDED-V3', '4200202611250000000000000005', 4444),
    refunded('alipay', 'STANDIN-REFUND-ALIPAY', '2026112522001400000000000003'),
    refunded('wechatpay.v3', 'STANDIN-REFUND-V3', '4200202611250000000000000006'),
    refunded('wechatpay.v2', 'STANDIN-REFUND-V2', '4200202611250000000000000007'),
  ]
  // A combined payment (`wechatpay.v3 combined`): two sub-orders recorded with their combine, the second refunded since.
  const combined = (outTradeNo, transactionId, refundedFen = 0) => ({
    ...order('wechatpay.v3', outTradeNo, transactionId, refundedFen),
    combineOutTradeNo: 'STANDIN-COMBINED',
  })
  orders.push(
    combined('STANDIN-COMBINED-1', '4200202611250000000000000011'),
    combined('STANDIN-COMBINED-2', '4200202611250000000000000012', 8888),
  )
  const keyed = (list) => Object.fromEntries(list.map((o) => [`${o.channel === 'alipay' ? 'alipay' : 'wechatpay'}:${o.outTradeNo}`, o]))
  return { orders: { ...keyed(orders), ...recorded }, last: {}, paidWithoutNotify: keyed(paidWithoutNotify), lastWithoutNotify: null }
}

/**
 * Runs the stand-in until `stop()`, knowing also the orders simulate `recorded` (its state's `orders`). `provided`: its URL, and the demo merchant body `npm run dev` seeds with the
 * stand-in as both providers' API (the test puts it, and variants of it, through the admin API).
 */
export async function startStandin(recorded = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'paygate-standin-'))
  const stateFile = join(dir, 'simulator-state.json')
  writeFileSync(stateFile, JSON.stringify(simulatorState(Date.now(), recorded)))
  const child = spawn(process.execPath, [STANDIN, '--port', '0', '--keys', KEYS, '--state', stateFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = []
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (text) => lines.push(text))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the provider stand-in did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
    child.stdout.on('data', (text) => {
      lines.push(text)
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(lines.join(''))
      if (match !== null) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${match[1]}`)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the provider stand-in exited (${code}): ${lines.join('')}`))
    })
  })
  const forward = {
    url: 'https://merchant.example/hooks/payments',
    secret: `whsec_${Buffer.from('forward-secret-for-e2e-tests-32b').toString('base64')}`,
  }
  const keys = JSON.parse(await readFile(KEYS, 'utf8'))
  return {
    provided: {
      url,
      merchant: demoMerchantBody(keys, forward, { providerApi: url }),
      subMerchant: demoSubMerchantBody(keys, forward, { providerApi: url }),
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
