// The merchant's server for `npm run bench`, a child process of bench/run.mjs (IPC): receives the events the
// gateway forwards, verifies each Standard Webhooks signature as `npm run listen` does (the skeleton signs
// nothing, so for it the check is off), and records when each order's event arrived and how often.
import { createServer } from 'node:http'
import { Webhook } from 'standardwebhooks'

const port = Number(process.argv[2])
let webhook = null
let state = freshState()

function freshState() {
  return { orders: new Map(), deliveriesById: new Map(), rejected: 0, malformed: 0 }
}

const now = () => performance.timeOrigin + performance.now()

const server = createServer((request, response) => {
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    const receivedAt = now()
    const body = Buffer.concat(chunks).toString('utf8')
    let event
    try {
      event = webhook === null ? JSON.parse(body) : webhook.verify(body, request.headers)
    } catch {
      state.rejected++
      response.writeHead(401).end()
      return
    }
    const id = request.headers['webhook-id'] ?? ''
    const outTradeNo = event?.data?.out_trade_no
    if (typeof outTradeNo !== 'string') {
      state.malformed++
    } else {
      const seen = state.orders.get(outTradeNo)
      if (seen === undefined) state.orders.set(outTradeNo, { first: receivedAt, events: new Set([id]), deliveries: 1 })
      else {
        seen.events.add(id)
        seen.deliveries++
      }
    }
    state.deliveriesById.set(id, (state.deliveriesById.get(id) ?? 0) + 1)
    response.writeHead(204).end()
  })
})

process.on('message', (message) => {
  if (message.type === 'reset') {
    webhook = message.secret === null ? null : new Webhook(message.secret)
    state = freshState()
    process.send({ type: 'reset' })
  } else if (message.type === 'count') {
    process.send({ type: 'count', orders: state.orders.size })
  } else if (message.type === 'summary') {
    const orders = {}
    let duplicateEvents = 0
    for (const [outTradeNo, seen] of state.orders) {
      orders[outTradeNo] = seen.first
      duplicateEvents += seen.events.size - 1
    }
    let redeliveries = 0
    for (const count of state.deliveriesById.values()) redeliveries += count - 1
    process.send({ type: 'summary', orders, duplicateEvents, redeliveries, rejected: state.rejected, malformed: state.malformed })
  } else if (message.type === 'exit') {
    server.close(() => process.exit(0))
  }
})

server.listen(port, '127.0.0.1', () => process.send({ type: 'ready' }))
