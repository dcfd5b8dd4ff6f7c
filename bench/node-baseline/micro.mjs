// Part 1's comparison column: CPU per notification of the Node baseline's handlers (handlers.mjs) on the same
// seven notifications, without HTTP and with a no-op store, so only parsing and verification are timed.
//
//   node bench/node-baseline/micro.mjs <input.json>   → prints { results: { [case id]: µs } } as JSON
//
// <input.json>: { merchants: { id: PUT body }, appPrivateKeyPem, cases: buildMicroCases() output, seconds, repeats }
import { readFileSync } from 'node:fs'
import { makeHandlers } from './handlers.mjs'

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const ROUTE = { 'wechatpay.v2': 'wechatpay/v2', 'wechatpay.v3': 'wechatpay/v3', alipay: 'alipay' }
const results = {}

for (const c of input.cases) {
  const handlers = makeHandlers(input.merchants[c.merchantId], input.appPrivateKeyPem, () => true, { now: () => c.now })
  const handle = handlers[ROUTE[c.channel]]
  const body = Buffer.from(c.body, 'base64').toString('utf8')
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]))
  const run = (n) => {
    for (let i = 0; i < n; i++) handle(body, headers)
  }
  // Warm up and size the run from wall time, then read this process's CPU time around each run.
  let n = 100
  for (;;) {
    const started = performance.now()
    run(n)
    const seconds = (performance.now() - started) / 1000
    if (seconds >= 0.05) {
      n = Math.max(n, Math.round((n * input.seconds) / seconds))
      break
    }
    n *= 2
  }
  const readings = []
  for (let r = 0; r < input.repeats; r++) {
    const before = process.cpuUsage()
    run(n)
    const used = process.cpuUsage(before)
    readings.push((used.user + used.system) / n)
  }
  readings.sort((a, b) => a - b)
  results[c.id] = readings[Math.floor(readings.length / 2)]
}

process.stdout.write(JSON.stringify({ results }))
