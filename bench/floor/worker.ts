/**
 * @module The floor of `npm run bench` (issue #16, part 3): per request, the Durable Object of the request's order
 * (a new one for each new order, named as paygate names its order objects) writes one row in its SQLite storage,
 * and the Worker replies with the channel's accept reply once that write has committed. No parsing (the order and
 * notification ids come from the `x-bench-*` headers), no crypto, no outbox, no alarm, no forwarding, no D1: the
 * least any design with one object per order can do per notification on this runtime.
 */
import { DurableObject } from 'cloudflare:workers'
import { defaultRegistry } from '../../src/providers'

interface FloorEnv {
  ORDERS: DurableObjectNamespace<FloorOrder>
}

// Only for the accept replies, so the load generator reads the floor's answers as it reads paygate's.
const CHANNEL_BY_PATH = new Map(defaultRegistry.channels.map((adapter) => [adapter.path, adapter]))
const NOTIFY_PATH = /^\/notify\/([A-Za-z0-9_-]{1,64})\/([a-z0-9/]+)$/

export default {
  async fetch(request, env): Promise<Response> {
    const route = NOTIFY_PATH.exec(new URL(request.url).pathname)
    const adapter = route === null ? undefined : CHANNEL_BY_PATH.get(route[2]!)
    if (route === null || adapter === undefined || request.method !== 'POST') return new Response('not found', { status: 404 })
    // Read, as any handler must, though nothing in it is used.
    await request.arrayBuffer()
    const orderHeader = request.headers.get('x-bench-order') ?? ''
    const notificationId = request.headers.get('x-bench-notification') ?? ''
    const colon = orderHeader.indexOf(':')
    if (colon < 1 || notificationId === '') return new Response('x-bench-order and x-bench-notification are required', { status: 400 })
    try {
      await env.ORDERS.getByName(JSON.stringify([route[1]!, orderHeader.slice(0, colon), orderHeader.slice(colon + 1)])).record(
        notificationId,
      )
    } catch {
      return new Response('storage unavailable', { status: 503 })
    }
    return adapter.accept()
  },
} satisfies ExportedHandler<FloorEnv>

export class FloorOrder extends DurableObject<FloorEnv> {
  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env)
    // One table, no index beyond its key (WITHOUT ROWID: the key is the row).
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY) WITHOUT ROWID')
  }

  /** One row per notification id; a resend writes nothing. The RPC's reply waits for the write to commit. */
  record(notificationId: string): void {
    this.ctx.storage.sql.exec('INSERT INTO seen (id) VALUES (?) ON CONFLICT DO NOTHING', notificationId)
  }
}
