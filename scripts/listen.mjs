// `npm run listen`: the demo merchant's server, the `stripe listen` of paygate. It receives the events the
// gateway forwards, verifies each Standard Webhooks signature with the `standardwebhooks` package and the demo
// merchant's secret, prints a readable summary and answers 2xx (or 401 when it cannot verify the request).
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { amountText } from './lib/money.mjs'
import { DemoSetupError, DevVarsError, LISTEN_PATH, listenPort, listenUrl, loadDemo } from './lib/demo.mjs'
import { readBody } from './lib/read-body.mjs'

const usage = (port) => `Usage: npm run listen -- [options]

Receives the events paygate forwards to the demo merchant (${listenUrl(port)}),
verifies their signatures and prints them.

Options
  --fail <n>     answer 500 to the first n events, to watch the gateway retry them (same webhook-id)
  --json         also print each event's JSON body
  --port <port>  default ${port}, the demo merchant's forward URL's (LISTEN_PORT of .dev.vars, else 4242)
  -h, --help`

const MAX_BODY_BYTES = 1024 * 1024

function main() {
  let defaultPort
  try {
    defaultPort = listenPort()
  } catch (error) {
    if (error instanceof DevVarsError) return fail(error.message, 1)
    throw error
  }
  const USAGE = usage(defaultPort)
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        fail: { type: 'string', default: '0' },
        json: { type: 'boolean', default: false },
        port: { type: 'string', default: String(defaultPort) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    return fail(`${error.message}\n\n${USAGE}`, 2)
  }
  if (values.help) return console.log(USAGE)
  if (!/^\d{1,6}$/.test(values.fail)) return fail(`--fail ${values.fail}: a whole number`, 2)
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) return fail(`--port ${values.port}: a port number`, 2)

  let secret
  try {
    secret = loadDemo().forwardSecret
  } catch (error) {
    if (error instanceof DemoSetupError) return fail(error.message, 1)
    throw error
  }
  listen({ webhook: new Webhook(secret), failFirst: Number(values.fail), printJson: values.json, port: Number(values.port) })
}

function listen({ webhook, failFirst, printJson, port }) {
  let toFail = failFirst
  const seen = new Map()

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (path !== LISTEN_PATH) return reply(response, 404, 'not found')
    if (request.method !== 'POST') return reply(response, 405, 'POST only')
    let body
    try {
      body = await readBody(request, MAX_BODY_BYTES)
    } catch {
      return reply(response, 413, 'body too large')
    }

    let event
    try {
      // The raw body as received: the signature covers these exact bytes.
      event = webhook.verify(body, request.headers)
    } catch (error) {
      const why = error instanceof WebhookVerificationError ? error.message : 'not a JSON event'
      console.log(`${clock()}  ✗ rejected (401): ${why}${describeSender(request)}`)
      return reply(response, 401, why)
    }

    const id = request.headers['webhook-id']
    const attempt = (seen.get(id) ?? 0) + 1
    seen.set(id, attempt)
    const status = toFail > 0 ? 500 : 200
    if (toFail > 0) toFail -= 1
    printEvent(event, { id, attempt, status, failsLeft: toFail, printJson, body })
    return reply(response, status, status === 200 ? 'ok' : 'simulated failure (--fail)')
  })

  server.on('error', (error) => {
    if (error.code === 'EADDRINUSE') fail(`port ${port} is in use: is another \`npm run listen\` running?`, 1)
    else fail(error.message, 1)
  })
  // Loopback only: this is a development tool holding the demo secret.
  server.listen(port, '127.0.0.1', () => {
    console.log(`paygate listen · ${listenUrl(port)}`)
    console.log(`  verifying Standard Webhooks signatures with the demo merchant's secret (.demo/forward-secret)`)
    if (failFirst > 0) console.log(`  answering 500 to the first ${failFirst} event(s): watch the gateway retry them`)
    console.log('  waiting for events… (Ctrl-C to stop)\n')
  })
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

function printEvent(event, { id, attempt, status, failsLeft, printJson, body }) {
  const data = event?.data ?? {}
  const again = attempt > 1 ? `  (delivery #${attempt} of this webhook-id: a retry)` : ''
  console.log(`${clock()}  ${event?.type ?? '(no type)'}  ✓ verified${again}`)
  if (event?.type === 'provider.notification') {
    // About no order (a transfer, a complaint…): the provider's type and the thing it is about.
    const rows = [
      ['type', `${data.notification_type} · ${data.channel}`],
      ['subject', data.subject_id],
      ['id', data.notification_id],
      ['at', event.timestamp],
      ['webhook-id', id],
    ]
    for (const [label, value] of rows) if (value !== null && value !== undefined) console.log(`  ${label.padEnd(12)}${value}`)
    console.log(`  → ${status}`)
    if (printJson) console.log(JSON.stringify(JSON.parse(body), null, 2))
    console.log('')
    return
  }
  // `npm run admin -- test-event demo` sends a signed webhook.test, about no order.
  const test = event?.type === 'webhook.test'
  const rows = test ? [['merchant', data.merchant_id]] : [['order', `${data.out_trade_no} · ${data.channel}`]]
  if (!test && data.refund) {
    rows.push(['refund', `${amountText(data.refund.amount, data.currency)} · ${data.refund.out_refund_no}`])
    rows.push(['refunded', `${amountText(data.refund.total_refunded, data.currency)} in all, of ${amountText(data.amount, data.currency)}`])
  } else if (!test && data.amount !== null && data.amount !== undefined) {
    rows.push(['amount', amountText(data.amount, data.currency)])
  }
  rows.push(['transaction', data.transaction_id])
  // A payment's own time, not the event's: a payment first known from a WeChat Pay refund has none (`paid_at` null).
  if (event?.type === 'payment.succeeded') rows.push(['paid at', data.paid_at ?? 'not known (the refund that reported it gives no time)'])
  else rows.push(['at', event?.timestamp])
  rows.push(['webhook-id', id])
  for (const [label, value] of rows) if (value !== null && value !== undefined) console.log(`  ${label.padEnd(12)}${value}`)
  const note = status === 200 ? '' : `  (--fail: ${failsLeft} more to fail; the gateway retries with the same webhook-id)`
  console.log(`  → ${status}${note}`)
  if (printJson) console.log(JSON.stringify(JSON.parse(body), null, 2))
  console.log('')
}

function clock() {
  return new Date().toTimeString().slice(0, 8)
}

function describeSender(request) {
  const agent = request.headers['user-agent']
  return agent ? ` [from ${agent}]` : ''
}

function reply(response, status, text) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  response.end(text)
}

function fail(message, code) {
  console.error(`listen: ${message}`)
  process.exit(code)
}

main()
