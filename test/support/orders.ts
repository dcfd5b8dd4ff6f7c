/** @module Test helpers for order objects: stubs, hand-built verified notifications, outbox counts. */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { expect, vi } from 'vitest'
import { env } from 'cloudflare:workers'
import { MAX_DELIVERY_ATTEMPTS } from '../../src/delivery/schedule'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import type { NotificationEffect, VerifiedNotification } from '../../src/providers/core/types'
import { CREATE_RECORDS_TABLE, type OrderStore } from '../../src/storage/order'

export const FORWARD = {
  url: 'https://merchant.example/hooks/payments',
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
}

/** The merchant's forward settings as of version 1 (these order objects have no merchant in D1). */
export const SETTINGS = { forward: FORWARD, version: 1 }

let counter = 0
export function uniqueOrder(prefix = 'T'): OrderRef {
  counter += 1
  return { merchantId: 'acme', provider: 'wechatpay', outTradeNo: `${prefix}${Date.now()}${counter}` }
}

export function paymentNotification(order: OrderRef, over: Partial<VerifiedNotification> = {}, amount = 100): VerifiedNotification {
  const effect: NotificationEffect = {
    kind: 'payment',
    amount,
    currency: 'CNY',
    transactionId: '4200000001',
    paidAt: '2026-11-25T07:59:58Z',
  }
  return {
    channel: 'wechatpay.v3',
    provider: order.provider,
    notificationId: `EV-${order.outTradeNo}`,
    outTradeNo: order.outTradeNo,
    effect,
    raw: { out_trade_no: order.outTradeNo, trade_state: 'SUCCESS' },
    ...over,
  }
}

/** A WeChat Pay refund of `amount` fen of a 100-fen order, succeeded, as its verified notification. */
export function refundNotification(order: OrderRef, outRefundNo: string, amount: number): VerifiedNotification {
  return paymentNotification(order, {
    notificationId: `EV-refund-${outRefundNo}`,
    effect: {
      kind: 'refund',
      outcome: 'succeeded',
      outRefundNo,
      refundId: `RF${outRefundNo}`,
      transactionId: '4200000001',
      amount,
      cumulativeRefunded: null,
      orderAmount: 100,
      currency: 'CNY',
      refundedAt: null,
      payment: null,
    },
  })
}

export function stubFor(order: OrderRef): DurableObjectStub<OrderObject> {
  return orderStub(env, order)
}

export interface OutboxCounts {
  events: number
  deliveries: number
  seen: number
  audit: Record<string, number>
}

export function outboxCounts(order: OrderRef): Promise<OutboxCounts> {
  return inOrderStore(order, (store) => {
    const audit: Record<string, number> = {}
    for (const n of store.notifications.all()) audit[n.verdict] = (audit[n.verdict] ?? 0) + 1
    return {
      events: store.events.all().length,
      deliveries: store.deliveries.all().length,
      seen: audit.accepted ?? 0,
      audit,
    }
  })
}

/** The object's own store (it keeps a copy of what it read: writing through another would leave that copy stale). */
export function objectStore(instance: object): OrderStore {
  return (instance as { store: OrderStore }).store
}

/** Runs `work` on the order object's records, as the object's own code reads and writes them. */
export function inOrderStore<T>(order: OrderRef, work: (store: OrderStore, state: DurableObjectState) => T): Promise<T> {
  return runInDurableObject(stubFor(order), (instance: OrderObject, state) => work(objectStore(instance), state))
}

/** Time travel for queries: the order's planned query is due now (not 2 minutes after registration, say); its alarm runs. */
export async function runDueQuery(order: OrderRef): Promise<void> {
  await inOrderStore(order, (store) => {
    const plan = store.reconciliation.get()
    if (plan?.nextQueryAt != null) store.reconciliation.plan(0, plan.expiresAt)
  })
  await runDurableObjectAlarm(orderStub(env, order))
}

/** Time travel for the outbox: makes every pending delivery due now, as if its backoff had elapsed. */
export function makeDeliveriesDue(order: OrderRef): Promise<void> {
  return inOrderStore(order, makePendingDue)
}

/** The order's deliveries as if every scheduled attempt but the last had failed, the last due now. */
export function makeLastAttemptDue(order: OrderRef): Promise<void> {
  return inOrderStore(order, (store) => {
    for (const record of store.events.allRecords()) {
      if (record.delivery === null) continue
      store.events.put({ ...record, delivery: { ...record.delivery, attempts: MAX_DELIVERY_ATTEMPTS - 1, nextAttemptAt: 0 } })
    }
  })
}

export function makePendingDue(store: OrderStore): void {
  for (const record of store.events.allRecords()) {
    if (record.delivery?.status === 'pending') store.events.put({ ...record, delivery: { ...record.delivery, nextAttemptAt: 0 } })
  }
}

/**
 * Makes the next write of an event record (the outbox) fail inside the object's transaction, like a full disk:
 * `undo` removes the fault. Creates the records table first, as the object's first write would.
 */
export function failEventWrites(state: DurableObjectState): { undo: () => void } {
  state.storage.sql.exec(CREATE_RECORDS_TABLE)
  state.storage.sql.exec(
    "CREATE TRIGGER inject_failure BEFORE INSERT ON records WHEN NEW.kind = 'event' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
  )
  return { undo: () => state.storage.sql.exec('DROP TRIGGER inject_failure') }
}

export interface DeliveryRowView {
  id: string
  status: string
  attempts: number
  next_attempt_at: number | null
  last_status_code: number | null
  last_error: string | null
  failure_reason: string | null
}

export function deliveryRows(order: OrderRef): Promise<DeliveryRowView[]> {
  return inOrderStore(order, (store) =>
    store.deliveries.all().map((d) => ({
      id: d.id,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt,
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      failure_reason: d.failureReason,
    })),
  )
}

/** For `vi.waitFor`: the projection reaches D1 through a queue whose consumer waits up to a second for a batch. */
export const PROJECTION_WAIT = { timeout: 10_000, interval: 100 }

/** Waits until D1 holds every order's and delivery's current version, as the objects hold them (the queue caught up). */
export async function awaitProjection(orders: readonly OrderRef[]): Promise<void> {
  for (const order of orders) {
    const { version, deliveries } = await inOrderStore(order, (store) => ({
      version: store.order.get()?.version ?? 0,
      deliveries: store.deliveries.all().map((d) => ({ id: d.id, version: d.version })),
    }))
    await vi.waitFor(async () => {
      const row = await env.DB.prepare('SELECT version FROM orders WHERE merchant_id = ? AND provider = ? AND out_trade_no = ?')
        .bind(order.merchantId, order.provider, order.outTradeNo)
        .first<{ version: number }>()
      expect(row?.version ?? 0).toBeGreaterThanOrEqual(version)
      for (const d of deliveries) {
        const stored = await env.DB.prepare('SELECT version FROM deliveries WHERE id = ?').bind(d.id).first<{ version: number }>()
        expect(stored?.version ?? 0).toBeGreaterThanOrEqual(d.version)
      }
    }, PROJECTION_WAIT)
  }
}
