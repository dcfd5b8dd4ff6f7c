import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import type { OrderObject } from '../../../src/order/order-object'
import {
  hasOrderStorage,
  migrateOrderSchema,
  ORDER_SCHEMA_VERSION,
  openOrderStorage,
  orderSchemaVersion,
  OrderStore,
} from '../../../src/storage/order'
import { network } from '../../msw'
import { deliveryRows, FORWARD, outboxCounts, paymentNotification, SETTINGS, stubFor, uniqueOrder } from '../../support/orders'

/** The order object's tables as the first release created them, before the schema had a version. */
const FIRST_RELEASE_TABLES = `
CREATE TABLE order_state (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), merchant_id TEXT NOT NULL, provider TEXT NOT NULL,
  out_trade_no TEXT NOT NULL, status TEXT NOT NULL, expected_amount INTEGER, expected_currency TEXT, amount INTEGER, currency TEXT,
  transaction_id TEXT, paid_at TEXT, refunded_amount INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL,
  projected_version INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
CREATE TABLE seen_notifications (provider_notification_id TEXT PRIMARY KEY, accepted_at TEXT NOT NULL);
CREATE TABLE notifications (id TEXT PRIMARY KEY, channel TEXT NOT NULL, provider_notification_id TEXT NOT NULL, received_at TEXT NOT NULL,
  verdict TEXT NOT NULL, reason TEXT, source TEXT NOT NULL, projected INTEGER NOT NULL DEFAULT 0);
CREATE TABLE refunds_applied (out_refund_no TEXT NOT NULL, outcome TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (out_refund_no, outcome));
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, channel TEXT NOT NULL,
  body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE deliveries (id TEXT PRIMARY KEY, event_seq INTEGER NOT NULL UNIQUE REFERENCES events (seq),
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')), attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,
  last_status_code INTEGER, last_error TEXT, lease_until INTEGER, version INTEGER NOT NULL DEFAULT 1,
  projected_version INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE delivery_attempts (delivery_id TEXT NOT NULL, number INTEGER NOT NULL, started_at TEXT NOT NULL, status_code INTEGER,
  latency_ms INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT, response_snippet TEXT, PRIMARY KEY (delivery_id, number));
CREATE TABLE forward_target (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), url TEXT NOT NULL, sealed_secret TEXT NOT NULL,
  sealed_previous_secret TEXT, fingerprint TEXT NOT NULL, updated_at TEXT NOT NULL);
`

const _CURRENT_FORWARD_TARGET = [
  'singleton',
  'url',
  'sealed_secret',
  'sealed_previous_secret',
  'merchant_version',
  'disabled_at',
  'updated_at',
]

function _columns(sql: SqlStorage, table: string): string[] {
  return sql
    .exec<{ name: string }>('SELECT name FROM pragma_table_info(?)', table)
    .toArray()
    .map((c) => c.name)
}

function tables(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
    )
    .toArray()
    .map((t) => t.name)
}

describe('order object schema migrations', () => {
  it('upgrades an object made before versioning (old forward target with a fingerprint) on first use, then ingests and delivers a payment', async () => {
    const order = uniqueOrder('LEGACY')
    const stub = stubFor(order)
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      const { sql } = state.storage
      for (const name of tables(sql)) sql.exec(`DROP TABLE ${name}`)
      sql.exec(FIRST_RELEASE_TABLES)
      sql.exec(
        `INSERT INTO order_state (singleton, merchant_id, provider, out_trade_no, status, version, updated_at) VALUES (1, ?, ?, ?, 'pending', 1, ?)`,
        order.merchantId,
        order.provider,
        order.outTradeNo,
        '2026-11-01T00:00:00.000Z',
      )
      sql.exec(
        `INSERT INTO seen_notifications (provider_notification_id, accepted_at) VALUES ('EV-BEFORE-UPGRADE', '2026-11-01T00:00:00.000Z')`,
      )
      sql.exec(
        `INSERT INTO forward_target (singleton, url, sealed_secret, fingerprint, updated_at) VALUES (1, 'https://old.example/hook', 'x', 'fp', 'then')`,
      )
      expect(tables(sql)).not.toContain('_schema')
      expect(tables(sql)).not.toContain('reconciliation')
    })
    // The next RPC meets a new instance, as after a deploy: its constructor runs the migrations.
    await evictDurableObject(stub)
    const received: string[] = []
    network.use(
      http.post(FORWARD.url, ({ request }) => {
        received.push(request.headers.get('webhook-id') ?? '')
        return HttpResponse.text('ok')
      }),
    )

    const result = await stub.ingest({
      order,
      notification: paymentNotification(order),
      settings: SETTINGS,
      receivedAt: Date.now(),
      source: 'notify',
    })
    expect(result).toMatchObject({ verdict: 'accepted', status: 'paid' })
    expect(result.eventIds).toHaveLength(1)
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      const { sql } = state.storage
      expect(orderSchemaVersion(sql)).toBe(ORDER_SCHEMA_VERSION)
      // Converted: one table of records, the legacy tables gone.
      expect(tables(sql)).toEqual(['records'])
      expect(new OrderStore(state.storage).forwardTarget.get()).toMatchObject({ url: FORWARD.url, merchantVersion: 1, disabledAt: null })
    })
    // Rows written before the upgrade are kept: the old dedupe key still dedupes.
    const again = paymentNotification(order, { notificationId: 'EV-BEFORE-UPGRADE' })
    expect((await stub.ingest({ order, notification: again, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })).verdict).toBe(
      'duplicate',
    )
    expect(await outboxCounts(order)).toEqual({ events: 1, deliveries: 1, seen: 2, audit: { accepted: 2, duplicate: 1 } })

    // The forward target stored after the upgrade opens and signs: the payment reaches the merchant.
    await runDurableObjectAlarm(stub)
    await vi.waitFor(async () => expect((await deliveryRows(order))[0]).toMatchObject({ status: 'delivered', attempts: 1 }))
    expect(received).toEqual(result.eventIds)
  })

  it("counts no runtime table as the object's storage: an object nobody wrote to holds nothing, even under wrangler dev", async () => {
    const order = uniqueOrder('EMPTY')
    await runInDurableObject(stubFor(order), (_o: OrderObject, state) => {
      // What the local runtime puts in every persisted object (it remembers the object's name there).
      state.storage.sql.exec('CREATE TABLE __miniflare_do_name (name TEXT)')
      expect(hasOrderStorage(state.storage.sql)).toBe(false)
      expect(orderSchemaVersion(state.storage.sql)).toBe(0)
      expect(migrateOrderSchema(state.storage)).toEqual([])
    })
    expect(await stubFor(order).snapshot()).toBeNull()
  })

  it('a new object, opened, reads back nothing it did not write itself; the next instance reads what it wrote', async () => {
    const order = uniqueOrder('OPENED')
    const now = new Date().toISOString()
    await runInDurableObject(stubFor(order), (_o: OrderObject, state) => {
      const store = new OrderStore(state.storage)
      openOrderStorage(state.storage, store)
      expect(store.exists()).toBe(false)
      store.transaction(() => store.order.ensure(order, now))
      // A row put in behind the store's back (nothing but this test does): the store knew the table was new and empty,
      // so it answers from what it wrote, without reading SQLite again.
      state.storage.sql.exec("INSERT INTO records (kind, key, body) VALUES ('refund', 'R1', '{}')")
      expect(store.refunds.rows()).toEqual([])
      expect(store.order.get()).toMatchObject({ outTradeNo: order.outTradeNo, status: 'pending' })
      state.storage.sql.exec("DELETE FROM records WHERE kind = 'refund'")

      const next = new OrderStore(state.storage)
      openOrderStorage(state.storage, next)
      expect(next.exists()).toBe(true)
      expect(next.order.get()).toEqual(store.order.get())
    })
  })

  it('a new object whose first transaction fails forgets what it knew, and reads the table again', async () => {
    const order = uniqueOrder('OPENFAIL')
    const now = new Date().toISOString()
    await runInDurableObject(stubFor(order), (_o: OrderObject, state) => {
      const store = new OrderStore(state.storage)
      openOrderStorage(state.storage, store)
      expect(() =>
        store.transaction(() => {
          store.order.ensure(order, now)
          throw new Error('refused')
        }),
      ).toThrow('refused')
      expect(store.exists()).toBe(false)
      expect(store.order.get()).toBeNull()
    })
  })

  it('a current object migrates nothing: running the migration again changes no row', async () => {
    const order = uniqueOrder('MIGRATED')
    const stub = stubFor(order)
    network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
    await stub.register(order, SETTINGS, { amount: 100, currency: 'CNY' })
    await stub.ingest({ order, notification: paymentNotification(order), settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      const { sql } = state.storage
      const everything = () => sql.exec('SELECT kind, key, body FROM records ORDER BY kind, key').toArray()
      const before = everything()
      expect(new Set(before.map((r) => r.kind))).toEqual(new Set(['head', 'event']))
      expect(orderSchemaVersion(sql)).toBe(ORDER_SCHEMA_VERSION)
      expect(migrateOrderSchema(state.storage)).toEqual([])
      expect(migrateOrderSchema(state.storage)).toEqual([])
      expect(everything()).toEqual(before)
    })
  })

  it('a legacy object keeps its applied refunds through the legacy migrations and the conversion', async () => {
    const order = uniqueOrder('REFUNDS-V1')
    const stub = stubFor(order)
    await runInDurableObject(stub, (_o: OrderObject, state) => {
      const { sql } = state.storage
      sql.exec(FIRST_RELEASE_TABLES)
      sql.exec(
        `INSERT INTO order_state (singleton, merchant_id, provider, out_trade_no, status, version, updated_at) VALUES (1, ?, ?, ?, 'paid', 3, 'then')`,
        order.merchantId,
        order.provider,
        order.outTradeNo,
      )
      sql.exec(
        'CREATE TABLE IF NOT EXISTS refunds_applied (out_refund_no TEXT NOT NULL, outcome TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (out_refund_no, outcome))',
      )
      sql.exec(
        "INSERT INTO refunds_applied (out_refund_no, outcome, amount) VALUES ('R1', 'succeeded', 40), ('R2', 'closed', 10), ('R1', 'failed', 40)",
      )
      expect(migrateOrderSchema(state.storage)).toEqual([1, 2, 3, ORDER_SCHEMA_VERSION])
      const store = new OrderStore(state.storage)
      expect(store.refunds.rows().map((r) => [r.outRefundNo, r.amount, r.status])).toEqual([
        ['R1', 40, 'succeeded'],
        ['R2', null, 'closed'],
      ])
      expect(store.refunds.has('R1', 'failed')).toBe(true)
      expect(store.order.get()).toMatchObject({ status: 'paid', version: 3 })
      expect(tables(sql)).toEqual(['records'])
    })
  })
})
