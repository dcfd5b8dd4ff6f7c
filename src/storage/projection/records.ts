/**
 * @module What the D1 projection is made of: the records the order and subject objects (and the Worker, for what
 * never reaches an object) put on the projection queue, and how an object's record is read from its storage. An
 * object's record is its whole current state for D1 (a handful of rows), not a diff: sending it twice, or an older
 * one after a newer one, changes nothing (the consumer's upserts are version-guarded), so the hand-off needs no
 * "projected" marks in the object.
 */
import type { ChannelName, ProviderName } from '../../providers/core/types'
import type { Refusal } from '../refusals'
import {
  nextAttemptIso,
  type DeliveryStatus,
  type EventType,
  type NotificationSource,
  type NotificationVerdict,
  type OrderStatus,
  type OrderStore,
} from '../order'

export interface OrderProjection {
  merchantId: string
  provider: ProviderName
  outTradeNo: string
  status: OrderStatus
  expectedAmount: number | null
  amount: number | null
  currency: string | null
  transactionId: string | null
  paidAt: string | null
  refundedAmount: number
  version: number
  updatedAt: string
  /** How many notifications the object accepted, and when the last came: the stats add the difference. */
  acceptedNotifications: number
  /**
   * When its latest accepted notifications came (at most 50, oldest first): each is counted in its own minute. Records
   * of earlier versions carry only the last one's time, `lastAcceptedAt`.
   */
  acceptedTimes?: string[]
  lastAcceptedAt?: string | null
}

export interface NotificationProjection {
  id: string
  merchantId: string
  channel: ChannelName
  outTradeNo: string | null
  providerNotificationId: string | null
  receivedAt: string
  verdict: NotificationVerdict
  reason: string | null
  source: NotificationSource
  /** A provider notification's type and subject object (null for an order's notifications). */
  notificationType?: string | null
  subjectKey?: string | null
  /** A refusal before any object, listed in its own row (`storage/refusals.ts`); never in an object's record. */
  refusedBeforeObject?: true
}

export interface AttemptProjection {
  number: number
  startedAt: string
  latencyMs: number
}

export interface DeliveryProjection {
  id: string
  merchantId: string
  provider: ProviderName
  /** The order it belongs to, or null for a subject object's `provider.notification`. */
  outTradeNo: string | null
  subjectKey: string | null
  eventId: string
  type: EventType
  status: DeliveryStatus
  reason: string | null
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  createdAt: string
  updatedAt: string
  version: number
  /** The attempts made, for the latency stats (each counted once, by number). */
  attemptLog: AttemptProjection[]
  /** When the last successful attempt was made (epoch ms), for the endpoint's health. */
  deliveredAt: number | null
}

/** An order or subject object's state for D1. */
export interface ObjectRecord {
  kind: 'object'
  merchantId: string
  order: OrderProjection | null
  /** An order's refused notifications, or a subject's every notification: the ones D1 lists. */
  notifications: NotificationProjection[]
  deliveries: DeliveryProjection[]
  /** Where its deliveries went, for the endpoint's health. */
  forwardUrl: string | null
}

/** A notification refused before it reached an object: a row of its own, or counted past the hour's listed ones. */
export interface RefusalRecord extends Refusal {
  kind: 'refusal'
}

/** A provider's retry of an order's notification it already sent: counted, nothing else. */
export interface DuplicateRecord {
  kind: 'duplicate'
  merchantId: string
  receivedAt: number
}

export type ProjectionRecord = ObjectRecord | RefusalRecord | DuplicateRecord

/**
 * How much of an object's history one record carries: its latest notifications, its most recently changed deliveries
 * (an old one replayed or retried still goes), and each delivery's latest attempts. Every change is handed off when
 * it happens, so D1 has the older ones (what changed beyond the caps in one run goes in further records,
 * `laggingRecords`); the cap keeps a record of a busy subject (a complaint with hundreds of notifications) far
 * below a queue message's 128 KB.
 */
const RECORD_LIMITS = { notifications: 50, deliveries: 50, attempts: 12 }

/** The object's current state for D1. */
export function objectRecord(store: OrderStore): ObjectRecord {
  const order = store.order.get()
  const owner = deliveryOwner(store)
  const { merchantId, provider } = owner
  const audit = store.notifications.all()
  const accepted = audit.filter((n) => n.verdict === 'accepted')
  return {
    kind: 'object',
    merchantId,
    order:
      order === null
        ? null
        : {
            merchantId,
            provider,
            outTradeNo: order.outTradeNo,
            status: order.status,
            expectedAmount: order.expectedAmount,
            amount: order.amount,
            currency: order.currency ?? order.expectedCurrency,
            transactionId: order.transactionId,
            paidAt: order.paidAt,
            refundedAmount: order.refundedAmount,
            version: order.version,
            updatedAt: order.updatedAt,
            acceptedNotifications: accepted.length,
            acceptedTimes: accepted.slice(-RECORD_LIMITS.notifications).map((n) => n.receivedAt),
          },
    notifications: listedNotifications(store, audit)
      .slice(-RECORD_LIMITS.notifications)
      .map((n) => notificationProjection(n, owner)),
    deliveries: store.deliveries
      .allWithAttempts()
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0))
      .slice(-RECORD_LIMITS.deliveries)
      .map((d) => deliveryProjection(d, owner)),
    forwardUrl: store.forwardTarget.get()?.url ?? null,
  }
}

type StoredNotification = ReturnType<OrderStore['notifications']['all']>[number]

/** The notifications D1 lists one by one: an order's refused ones (its accepted ones are counted), a subject's every one. */
function listedNotifications(store: OrderStore, audit = store.notifications.all()): StoredNotification[] {
  return store.order.get() === null ? audit : audit.filter((n) => n.verdict === 'rejected')
}

function notificationProjection(n: StoredNotification, owner: DeliveryOwner): NotificationProjection {
  return {
    id: n.id,
    merchantId: owner.merchantId,
    channel: n.channel,
    outTradeNo: owner.outTradeNo,
    providerNotificationId: n.providerNotificationId,
    receivedAt: n.receivedAt,
    verdict: n.verdict,
    reason: n.reason,
    source: n.source,
    notificationType: n.notificationType ?? null,
    subjectKey: owner.subjectKey,
  }
}

/** Whose deliveries the object's are: its order's, or its subject's. */
function deliveryOwner(store: OrderStore): DeliveryOwner {
  const order = store.order.get()
  const subject = store.subject.get()
  const owner = order ?? subject
  if (owner === null) throw new TypeError('the object holds neither an order nor a subject')
  return {
    merchantId: owner.merchantId,
    provider: owner.provider,
    outTradeNo: order?.outTradeNo ?? null,
    subjectKey: order === null ? (subject?.subjectKey ?? null) : null,
  }
}

type StoredDeliveryWithAttempts = ReturnType<OrderStore['deliveries']['allWithAttempts']>[number]
type DeliveryOwner = Pick<DeliveryProjection, 'merchantId' | 'provider' | 'outTradeNo' | 'subjectKey'>

function deliveryProjection(d: StoredDeliveryWithAttempts, owner: DeliveryOwner): DeliveryProjection {
  const { merchantId, provider, outTradeNo, subjectKey } = owner
  const attempts = d.attemptLog
  const delivered = attempts.filter((a) => a.outcome === 'delivered').at(-1)
  return {
    id: d.id,
    merchantId,
    provider,
    outTradeNo,
    subjectKey,
    eventId: d.eventId,
    type: d.eventType,
    status: d.status,
    reason: d.status === 'failed' ? d.failureReason : null,
    attempts: d.attempts,
    nextAttemptAt: nextAttemptIso(d),
    lastStatusCode: d.lastStatusCode,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    version: d.version,
    attemptLog: attempts.slice(-RECORD_LIMITS.attempts).map((a) => ({ number: a.number, startedAt: a.startedAt, latencyMs: a.latencyMs })),
    deliveredAt: delivered === undefined ? null : Date.parse(delivered.startedAt),
  }
}

/** What an object has handed on beyond its records' caps: each delivery's version, and the notifications' ids. */
export interface HandedOn {
  deliveries: ReadonlyMap<string, number>
  notifications: ReadonlySet<string>
}

/**
 * The deliveries and listed notifications `record` leaves out that were not handed on yet (`sent`: what was, as of the
 * last hand-off; null: unknown, so every one left out), as further records of the same object, `RECORD_LIMITS` to a
 * record: one alarm run can change more deliveries than a record carries (a disabled endpoint fails every waiting one
 * at once), and a subject can take more notifications between two hand-offs (a burst while its merchant's endpoint
 * is slow, or while the queue refuses). With them, what is handed on once they are. Null when `record` carries it all
 * (the usual case: nothing to send, nothing to remember).
 */
export function laggingRecords(
  store: OrderStore,
  record: ObjectRecord,
  sent: HandedOn | null,
): { records: ObjectRecord[]; handedOn: HandedOn } | null {
  // Below both caps the record took every one: nothing to read again (an ordinary order, every hand-off).
  if (record.deliveries.length < RECORD_LIMITS.deliveries && record.notifications.length < RECORD_LIMITS.notifications) return null
  const deliveries = store.deliveries.allWithAttempts()
  const listed = listedNotifications(store)
  if (deliveries.length <= record.deliveries.length && listed.length <= record.notifications.length) return null
  const owner = deliveryOwner(store)
  const carried = new Set([...record.deliveries.map((d) => d.id), ...record.notifications.map((n) => n.id)])
  const laggingDeliveries = deliveries
    .filter((d) => !carried.has(d.id) && sent?.deliveries.get(d.id) !== d.version)
    .map((d) => deliveryProjection(d, owner))
  const laggingNotifications = listed
    .filter((n) => !carried.has(n.id) && sent?.notifications.has(n.id) !== true)
    .map((n) => notificationProjection(n, owner))
  const records: ObjectRecord[] = []
  const count = Math.max(
    Math.ceil(laggingDeliveries.length / RECORD_LIMITS.deliveries),
    Math.ceil(laggingNotifications.length / RECORD_LIMITS.notifications),
  )
  for (let i = 0; i < count; i++) {
    records.push({
      ...record,
      notifications: laggingNotifications.slice(i * RECORD_LIMITS.notifications, (i + 1) * RECORD_LIMITS.notifications),
      deliveries: laggingDeliveries.slice(i * RECORD_LIMITS.deliveries, (i + 1) * RECORD_LIMITS.deliveries),
    })
  }
  return {
    records,
    handedOn: { deliveries: new Map(deliveries.map((d) => [d.id, d.version])), notifications: new Set(listed.map((n) => n.id)) },
  }
}
