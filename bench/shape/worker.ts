/**
 * @module The shape Worker of `npm run bench` (issue #16): the floor plus what paygate's fixed shape makes every new
 * payment do, and nothing else, so the floor's pace the shape itself leaves can be measured. The accept commits the
 * notification in the order's Durable Object with its alarm; the alarm forwards the event to the merchant, records
 * that it was delivered and hands one record to a queue; the queue's consumer writes each batch to D1 in one
 * `batch()`. No parsing, crypto, signing, audit trail, stats or logs (the order and notification ids come from the
 * `x-bench-*` headers), no retries: the least any implementation of that shape can do.
 */
import { DurableObject } from 'cloudflare:workers'
import { readBenchRequest } from '../lib/bench-request'

/** What the alarm hands to the queue: the order and when it was delivered. */
interface ShapeRecord {
  objectId: string
  outTradeNo: string
  deliveredAt: number
}

interface ShapeEnv {
  ORDERS: DurableObjectNamespace<ShapeOrder>
  DB: D1Database
  PROJECTION: Queue<ShapeRecord>
  /** Where the alarm delivers events: the benchmark's merchant listener. */
  FORWARD_URL: string
}

export default {
  async fetch(request, env): Promise<Response> {
    const read = readBenchRequest(request)
    if (read instanceof Response) return read
    const body = await request.text()
    try {
      await env.ORDERS.getByName(read.objectName).ingest(read.order.outTradeNo, read.notificationId, body)
    } catch {
      return new Response('storage unavailable', { status: 503 })
    }
    return read.adapter.accept()
  },

  async queue(batch, env): Promise<void> {
    const upsert = env.DB.prepare(
      'INSERT INTO shape_orders (object_id, out_trade_no, delivered_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (object_id) DO UPDATE SET delivered_at = excluded.delivered_at',
    )
    await env.DB.batch(batch.messages.map(({ body: r }) => upsert.bind(r.objectId, r.outTradeNo, r.deliveredAt)))
  },
} satisfies ExportedHandler<ShapeEnv, ShapeRecord>

export class ShapeOrder extends DurableObject<ShapeEnv> {
  /** The event row and the alarm, in the commit the RPC's reply waits for; a resend writes nothing. */
  ingest(outTradeNo: string, notificationId: string, body: string): void {
    const { sql } = this.ctx.storage
    const added = this.ctx.storage.transactionSync(() => {
      // Created with the first row, in its commit.
      sql.exec(
        'CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, out_trade_no TEXT NOT NULL, body TEXT NOT NULL, delivered INTEGER NOT NULL) WITHOUT ROWID',
      )
      const event = JSON.stringify({ type: 'payment.succeeded', data: { out_trade_no: outTradeNo, raw: body } })
      return sql
        .exec('INSERT INTO events VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING RETURNING id', notificationId, outTradeNo, event)
        .toArray()
    })
    // Output-gated like the row: durable before the reply leaves.
    if (added.length > 0) void this.ctx.storage.setAlarm(Date.now())
  }

  override async alarm(): Promise<void> {
    const { sql } = this.ctx.storage
    const pending = sql
      .exec<{ id: string; out_trade_no: string; body: string }>('SELECT id, out_trade_no, body FROM events WHERE delivered = 0')
      .toArray()
    for (const event of pending) {
      const response = await fetch(this.env.FORWARD_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': event.id },
        body: event.body,
      })
      await response.arrayBuffer()
      if (response.ok) sql.exec('UPDATE events SET delivered = 1 WHERE id = ?', event.id)
    }
    const last = pending.at(-1)
    if (last !== undefined)
      await this.env.PROJECTION.send({ objectId: this.ctx.id.toString(), outTradeNo: last.out_trade_no, deliveredAt: Date.now() })
  }
}
