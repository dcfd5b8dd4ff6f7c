// The handler a user would write without paygate (issue #7, part 3b): Node's `http`, the official SDK
// verification of handlers.mjs, and one SQLite insert for idempotency (node:sqlite, WAL). It forwards nothing:
// the user's own code would act on the notification right here.
//
//   node bench/node-baseline/server.mjs --port 8793 --merchant <merchant.json> --db <file.sqlite>
//
// <merchant.json> is the `PUT /admin/merchants/{id}` body paygate gets (scripts/lib/demo.mjs demoMerchantBody)
// with `bench.appPrivateKeyPem` added for the Alipay SDK.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { makeHandlers, Rejected } from './handlers.mjs'

const { values } = parseArgs({ options: { port: { type: 'string' }, merchant: { type: 'string' }, db: { type: 'string' } } })
const merchant = JSON.parse(readFileSync(values.merchant, 'utf8'))

const db = new DatabaseSync(values.db)
db.exec(`
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  CREATE TABLE IF NOT EXISTS notifications (
    id            TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    out_trade_no  TEXT NOT NULL,
    amount        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    received_at   TEXT NOT NULL
  );
`)
const insert = db.prepare(
  'INSERT INTO notifications (id, channel, out_trade_no, amount, body, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
)

/** The idempotency insert: changes = 0 means seen before, accepted again and not acted on twice. */
function store(id, channel, outTradeNo, amount, body) {
  return insert.run(id, channel, outTradeNo, amount, body, new Date().toISOString()).changes === 1
}

const handlers = makeHandlers(merchant, merchant.bench.appPrivateKeyPem, store)

const server = createServer((request, response) => {
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    const route = /^\/notify\/[^/]+\/(wechatpay\/v2|wechatpay\/v3|alipay)$/.exec(request.url ?? '')
    if (request.method !== 'POST' || route === null) return send(response, { status: 404, body: 'not found', type: 'text/plain' })
    try {
      send(response, handlers[route[1]](Buffer.concat(chunks).toString('utf8'), request.headers))
    } catch (error) {
      const status = error instanceof Rejected ? error.status : 500
      send(response, {
        status,
        body: route[1] === 'alipay' ? 'failure' : JSON.stringify({ code: 'FAIL', message: error.message }),
        type: 'text/plain',
      })
    }
  })
})

function send(response, { status, body, type }) {
  response.writeHead(status, { 'content-type': type })
  response.end(body)
}

server.listen(Number(values.port), '127.0.0.1', () => console.log(`node baseline on http://127.0.0.1:${values.port}`))
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close()
    db.close()
    process.exit(0)
  })
}
