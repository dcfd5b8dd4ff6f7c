/** @module Test helpers for order objects: stubs, hand-built verified notifications, outbox counts. */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import type { NotificationEffect, VerifiedNotification } from '../../src/providers/core/types'

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
  return runInDurableObject(stubFor(order), (_instance: OrderObject, state) => {
    const one = (q: string) => Number(state.storage.sql.exec(q).one().n)
    const audit: Record<string, number> = {}
    for (const row of state.storage.sql.exec<{ verdict: string; n: number }>(
      'SELECT verdict, count(*) n FROM notifications GROUP BY verdict',
    )) {
      audit[row.verdict] = row.n
    }
    return {
      events: one('SELECT count(*) n FROM events'),
      deliveries: one('SELECT count(*) n FROM deliveries'),
      seen: one('SELECT count(*) n FROM seen_notifications'),
      audit,
    }
  })
}

/** Time travel for the outbox: makes every pending delivery due now, as if its backoff had elapsed. */
export function makeDeliveriesDue(order: OrderRef): Promise<void> {
  return runInDurableObject(stubFor(order), (_instance: OrderObject, state) => {
    state.storage.sql.exec("UPDATE deliveries SET next_attempt_at = 0 WHERE status = 'pending'")
  })
}

export interface DeliveryRowView {
  id: string
  status: string
  attempts: number
  next_attempt_at: number | null
  last_status_code: number | null
  last_error: string | null
}

export function deliveryRows(order: OrderRef): Promise<DeliveryRowView[]> {
  return runInDurableObject(stubFor(order), (_instance: OrderObject, state) =>
    state.storage.sql
      .exec<Record<string, SqlStorageValue>>(
        'SELECT id, status, attempts, next_attempt_at, last_status_code, last_error FROM deliveries ORDER BY event_seq',
      )
      .toArray()
      .map((r) => r as unknown as DeliveryRowView),
  )
}
