/**
 * @module The floor of `npm run bench` (issue #16, part 3): per request, the Durable Object of the request's order
 * (a new one for each new order, named as paygate names its order objects) writes one row in its SQLite storage,
 * and the Worker replies with the channel's accept reply once that write has committed. No parsing (the order and
 * notification ids come from the `x-bench-*` headers), no crypto, no outbox, no alarm, no forwarding, no D1: the
 * least any design with one object per order can do per notification on this runtime.
 */
import { DurableObject } from 'cloudflare:workers'
import { readBenchRequest } from '../lib/bench-request'

interface FloorEnv {
  ORDERS: DurableObjectNamespace<FloorOrder>
}

export default {
  async fetch(request, env): Promise<Response> {
    const read = readBenchRequest(request)
    if (read instanceof Response) return read
    // Read, as any handler must, though nothing in it is used.
    await request.arrayBuffer()
    try {
      await env.ORDERS.getByName(read.objectName).record(read.notificationId)
    } catch {
      return new Response('storage unavailable', { status: 503 })
    }
    return read.adapter.accept()
  },
} satisfies ExportedHandler<FloorEnv>

export class FloorOrder extends DurableObject<FloorEnv> {
  /**
   * One row per notification id; a resend writes nothing. The RPC's reply waits for the write to commit. The table
   * (no index beyond its key: WITHOUT ROWID, the key is the row) is created in the same commit as the first row, as
   * paygate creates its own: made in the constructor, it was a commit of its own, one more `fsync` per new order.
   */
  record(notificationId: string): void {
    const { sql } = this.ctx.storage
    this.ctx.storage.transactionSync(() => {
      sql.exec('CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY) WITHOUT ROWID')
      sql.exec('INSERT INTO seen (id) VALUES (?) ON CONFLICT DO NOTHING', notificationId)
    })
  }
}
