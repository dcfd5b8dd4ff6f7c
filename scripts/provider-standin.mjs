// `node scripts/provider-standin.mjs` (started by `npm run dev`): WeChat Pay and Alipay as far as paygate's order
// and refund queries and WeChat Pay certificate downloads need them, on http://127.0.0.1:8790. The demo merchant's `wechatpay.apiBaseUrl` and `alipay.gatewayUrl`
// point here, so a payment whose notification was lost (`npm run simulate -- <channel> payment --no-notify`) is
// found by the gateway's own query. It knows the orders simulate paid (.demo/simulator-state.json, read afresh for
// every request), checks each request's signature with the demo merchant's keys, and signs its answers with the
// providers' demo keys. The answers themselves are scripts/lib/provider-standin.mjs.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DemoSetupError, loadDemo, readSimulatorState, SIMULATOR_STATE_FILE } from './lib/demo.mjs'
import { ALIPAY_GATEWAY_PATH, answerQuery, knownOrders, standinPort, V2_QUERY_PATH, V2_REFUND_QUERY_PATH } from './lib/provider-standin.mjs'
import { readBody } from './lib/read-body.mjs'

const USAGE = `Usage: node scripts/provider-standin.mjs [options]

A local stand-in for the WeChat Pay and Alipay order- and refund-query APIs (\`npm run dev\` starts it), on 127.0.0.1.

  GET  /v3/pay/transactions/out-trade-no/{no}?mchid=   WeChat Pay APIv3 order query (signed answers, Wechatpay-* headers)
  GET  /v3/pay/partner/transactions/out-trade-no/{no}?sp_mchid=&sub_mchid=
                                                      the same for the demo sub-merchant (partner mode)
  GET  /v3/combine-transactions/out-trade-no/{no}      WeChat Pay APIv3 combined query (合单): the sub-orders of a combine
  GET  /v3/refund/domestic/refunds/{out_refund_no}     WeChat Pay APIv3 refund query
  GET  /v3/certificates                               the platform certificates, encrypted with the APIv3 key
  POST ${V2_QUERY_PATH}, ${V2_REFUND_QUERY_PATH}              WeChat Pay APIv2 (XML, MD5 or HMAC-SHA256 sign)
  POST ${ALIPAY_GATEWAY_PATH}                                      Alipay alipay.trade.query and alipay.trade.fastpay.refund.query (JSON, RSA2 sign)

Options
  --port <port>   default ${standinPort()}, STANDIN_PORT of .dev.vars or 8790 (0: any free port, printed on start)
  --keys <file>   the merchant's and providers' keys (default: the demo's, .demo/keys.json)
  --state <file>  the orders paid (default: .demo/simulator-state.json, written by npm run simulate)
  -h, --help`

const MAX_BODY_BYTES = 64 * 1024

function main() {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        port: { type: 'string', default: String(standinPort()) },
        keys: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    return fail(`${error.message}\n\n${USAGE}`, 2)
  }
  if (values.help) return console.log(USAGE)
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) return fail(`--port ${values.port}: a port number`, 2)

  let keys
  try {
    keys = values.keys === undefined ? loadDemo().keys : JSON.parse(readFileSync(values.keys, 'utf8'))
  } catch (error) {
    if (error instanceof DemoSetupError) return fail(error.message, 1)
    return fail(`cannot read the keys in ${values.keys}: ${error.message}`, 1)
  }
  const stateFile = values.state === undefined ? SIMULATOR_STATE_FILE : pathToFileURL(resolve(values.state))
  serve({ keys, stateFile, port: Number(values.port) })
}

function serve({ keys, stateFile, port }) {
  const server = createServer(async (request, response) => {
    let body
    try {
      body = await readBody(request, MAX_BODY_BYTES)
    } catch {
      response.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' }).end('body too large\n')
      return
    }
    // The state file changes whenever simulate pays or refunds: read it for every request.
    const orders = knownOrders(readSimulatorState(stateFile))
    const answer = answerQuery(
      { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body },
      { keys, orders, now: Date.now() },
    )
    response.writeHead(answer.status, answer.headers).end(answer.body)
    if (answer.api !== 'status') log(answer)
  })

  server.on('error', (error) => {
    if (error.code === 'EADDRINUSE') fail(`port ${port} is in use: is another stand-in (or \`npm run dev\`) running?`, 1)
    else fail(error.message, 1)
  })
  // Loopback only: it holds the providers' demo private keys.
  server.listen(port, '127.0.0.1', () => {
    console.log(`[stand-in] paygate provider stand-in · http://127.0.0.1:${server.address().port}`)
    console.log(
      '[stand-in]   answers WeChat Pay (v3, v2, partner, combined) and Alipay order and refund queries for what `npm run simulate` paid and refunded',
    )
    console.log('[stand-in]   and serves the WeChat Pay platform certificates (GET /v3/certificates)')
  })
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

/** One line per query: which API, which order, what it answered. Never a key or a signature. */
function log({ api, outTradeNo, outcome }) {
  const clock = new Date().toTimeString().slice(0, 8)
  const what = api.endsWith('certificates') ? api : `${api} query`
  console.log(`[stand-in] ${clock}  ${what}${outTradeNo === null ? '' : ` ${outTradeNo}`} → ${outcome}`)
}

function fail(message, code) {
  console.error(`provider-standin: ${message}`)
  process.exit(code)
}

main()
