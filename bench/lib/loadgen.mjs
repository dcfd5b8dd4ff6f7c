// The load generator of `npm run bench`, a child process of bench/run.mjs (IPC), so its CPU is its own and the
// runner's bookkeeping never delays a request. Sends pre-signed notifications over keep-alive loopback
// connections, closed loop (N workers, each sending its next request when the last one answered) or open loop
// (a fixed arrival rate, latency counted from the scheduled send time, so a slow server cannot hide its queue).
import { Agent, request as httpRequest } from 'node:http'
import { readFileSync } from 'node:fs'
import { isAcceptReply } from '../../scripts/lib/build-notification.mjs'

const REQUEST_TIMEOUT_MS = 30_000
let pool = []

const now = () => performance.timeOrigin + performance.now()

process.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      pool = JSON.parse(readFileSync(message.poolFile, 'utf8')).map((n) => ({ ...n, bytes: Buffer.from(n.body, 'utf8') }))
      process.send({ type: 'loaded', count: pool.length })
    } else if (message.type === 'run') {
      const cpuBefore = process.cpuUsage()
      const started = now()
      const records =
        message.plan.mode === 'open' ? await openLoop(message.origin, message.plan) : await closedLoop(message.origin, message.plan)
      const cpu = process.cpuUsage(cpuBefore)
      process.send({ type: 'result', records, wallSeconds: (now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 })
    } else if (message.type === 'exit') {
      process.exit(0)
    }
  } catch (error) {
    process.send({ type: 'error', message: error?.stack ?? String(error) })
  }
})

/** `concurrency` workers share the sequence; stops early when `maxSeconds` have passed. */
async function closedLoop(origin, { concurrency, sequence, maxSeconds }) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const records = []
  const deadline = now() + maxSeconds * 1000
  let next = 0
  const worker = async () => {
    while (next < sequence.length && now() < deadline) {
      const index = sequence[next++]
      const sentAt = now()
      records.push(await send(origin, agent, index, sentAt))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
  return records
}

/** One request every 1/rate s; at most `maxInFlight` outstanding (more would only measure our own queue). */
async function openLoop(origin, { rate, sequence, maxSeconds, maxInFlight }) {
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight })
  const records = []
  const inFlight = new Set()
  const start = now() + 20
  const interval = 1000 / rate
  for (let i = 0; i < sequence.length; i++) {
    const scheduled = start + i * interval
    if (scheduled - start > maxSeconds * 1000) break
    const wait = scheduled - now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    if (inFlight.size >= maxInFlight) {
      records.push([sequence[i], scheduled, null, 0, 0, 'skipped: too many in flight'])
      continue
    }
    const pending = send(origin, agent, sequence[i], scheduled).then((record) => {
      records.push(record)
      inFlight.delete(pending)
    })
    inFlight.add(pending)
  }
  await Promise.all(inFlight)
  agent.destroy()
  return records
}

/** `[poolIndex, sentAt, latencyMs, status, accepted (1/0), error]`, compact for IPC. */
function send(origin, agent, index, sentAt) {
  const notification = pool[index]
  return new Promise((resolve) => {
    const request = httpRequest(
      `${origin}${notification.path}`,
      {
        method: 'POST',
        agent,
        headers: { ...notification.headers, 'content-length': notification.bytes.length },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          const accepted = isAcceptReply(notification.channel, response.statusCode, body) ? 1 : 0
          resolve([index, sentAt, now() - sentAt, response.statusCode, accepted, accepted ? null : body.slice(0, 120)])
        })
        response.on('error', (error) => resolve([index, sentAt, now() - sentAt, 0, 0, error.message]))
      },
    )
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', (error) => resolve([index, sentAt, now() - sentAt, 0, 0, error.message]))
    request.end(notification.bytes)
  })
}
