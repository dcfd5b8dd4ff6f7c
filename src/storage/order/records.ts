/**
 * @module The order object's vocabulary and row shapes. Defined here, below everything that reads
 * them: the statements beside this file, the state machine above and the D1 projection.
 */
import type { ChannelName, CombinedPaymentRef, NotificationEffect, ProviderName, VerifiedNotification } from '../../providers/core/types'

export const ORDER_STATUSES = ['pending', 'paid', 'partially_refunded', 'refunded', 'closed', 'amount_mismatch'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

export const EVENT_TYPES = [
  'payment.succeeded',
  'payment.closed',
  'refund.succeeded',
  'refund.failed',
  'refund.closed',
  'provider.notification',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Which order an object owns: one per merchant + provider + out_trade_no. */
export interface OrderRef {
  merchantId: string
  provider: ProviderName
  outTradeNo: string
}

export interface OrderState {
  status: OrderStatus
  /** What the merchant registered, if anything (minor units). */
  expectedAmount: number | null
  expectedCurrency: string | null
  /** What was paid, once paid. */
  amount: number | null
  currency: string | null
  transactionId: string | null
  paidAt: string | null
  refundedAmount: number
}

export interface OrderRow extends OrderState, OrderRef {
  version: number
  updatedAt: string
  /**
   * The combined payment this order is a sub-order of, once a notification said so: the order is then asked about
   * only through its combine. Absent for an ordinary order (and in every record written before it existed).
   */
  combinedPayment?: CombinedPaymentRef
}

export type NotificationVerdict = 'accepted' | 'duplicate' | 'rejected'
/** A notification the provider pushed, or the answer to a query the order object made. */
export const NOTIFICATION_SOURCES = ['notify', 'query'] as const
export type NotificationSource = (typeof NOTIFICATION_SOURCES)[number]

export interface NotificationRow {
  id: string
  channel: ChannelName
  providerNotificationId: string
  receivedAt: string
  verdict: NotificationVerdict
  reason: string | null
  source: NotificationSource
  /** A provider notification's own type (`MCHTRANSFER.BILL.FINISHED`); null for order notifications. */
  notificationType?: string | null
  /** What an order's notification or query answer was about (absent in rows written before it was kept). */
  effect?: NotificationEffect['kind']
}

export interface EventRow {
  seq: number
  id: string
  type: EventType
  channel: ChannelName
  body: string
  createdAt: string
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/** Why a failed delivery failed. */
export const FAILURE_REASONS = ['endpoint_disabled', 'endpoint_gone', 'retries_exhausted', 'url_refused'] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

export interface DeliveryRow {
  id: string
  eventSeq: number
  eventId: string
  eventType: EventType
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: number | null
  lastStatusCode: number | null
  lastError: string | null
  failureReason: FailureReason | null
  /** While an attempt of this instance is in flight (kept in memory, never stored). */
  leaseUntil: number | null
  /** The earlier pending delivery of the same order or subject this one waits behind; null when it is next. */
  waitsFor: string | null
  /**
   * `attempts` when the delivery was last sent again (a replay, a recovery, or a later event of its order taking it
   * back into the line): its retry schedule starts afresh from there. Absent for one never sent again.
   */
  retriesFrom?: number
  version: number
  createdAt: string
  updatedAt: string
}

/** A delivery as it was when its retries ran out: what `delivery.exhausted` tells (its id names this exhaustion). */
export type Exhaustion = Pick<DeliveryRow, 'id' | 'eventId' | 'eventType' | 'attempts' | 'lastStatusCode' | 'lastError'>

export interface AttemptRow {
  deliveryId: string
  number: number
  startedAt: string
  statusCode: number | null
  latencyMs: number
  outcome: string
  error: string | null
  responseSnippet: string | null
}

export interface ReconciliationRow {
  /** Epoch ms of the next query, or null when none is planned. */
  nextQueryAt: number | null
  queriesMade: number
  expiresAt: number
  lastQueryAt: number | null
  /** The last query's outcome in a few words (`not_paid: NOTPAY`, `paid`, `failed: network`). */
  lastResult: string | null
  /**
   * A payment notification accepted while it awaits confirmation by an order query (`confirmPaymentsByQuery`), kept
   * so that it still pays the order should the merchant's keys no longer allow the query.
   */
  unconfirmed?: UnconfirmedPayment
  /**
   * When (epoch ms) a report said this closed order was paid after all (a doubtful payment or refund): it is asked
   * about although closed, until an answer to a query sent after that settles it.
   */
  reopened?: number
  /**
   * When (epoch ms) the latest doubtful report planned a query: the answer to a query sent before it (out while it
   * arrived) does not answer it, nor end its plan.
   */
  reportedAt?: number
}

export interface UnconfirmedPayment {
  notification: VerifiedNotification
  receivedAt: number
}

export interface ForwardTargetRow {
  url: string
  sealedSecret: string
  sealedPreviousSecret: string | null
  merchantVersion: number
  disabledAt: string | null
}

/** A refund's standing: known but not settled (registered, processing, or its own amount in doubt), or settled. */
export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'closed'] as const
export type RefundStatus = (typeof REFUND_STATUSES)[number]

/** A refund notification accepted while its own amount is in doubt: what its event needs once settled. */
export interface HeldRefund {
  channel: ChannelName
  raw: Record<string, unknown>
  refundId: string | null
  refundedAt: string | null
}

/** One refund of the order: registered by the merchant, notified by the provider, or found by query. */
export interface RefundRow {
  outRefundNo: string
  refundId: string | null
  /** What the merchant registered (`PUT …/refunds/{no}`), if anything. */
  registeredAmount: number | null
  /** This refund's own amount, once known. */
  amount: number | null
  /** Alipay: the trade's cumulative `refund_fee` this refund's notification reported. */
  cumulative: number | null
  /**
   * Alipay: the own amount a refund query stated while a refund that happened before it (a lower running total) was
   * still held; it settles with this amount right after that one. Absent otherwise.
   */
  statedAmount?: number
  status: RefundStatus
  held: HeldRefund | null
  /** Epoch ms of the next refund query, or null when none is planned. */
  nextQueryAt: number | null
  queriesMade: number
  lastQueryAt: number | null
  lastResult: string | null
  /** Epoch ms after which the refund is no longer queried. */
  expiresAt: number | null
}

/** A refund the gateway knows nothing about yet: pending, no amounts, nothing planned. */
export function blankRefund(outRefundNo: string): RefundRow {
  return {
    outRefundNo,
    refundId: null,
    registeredAmount: null,
    amount: null,
    cumulative: null,
    status: 'pending',
    held: null,
    nextQueryAt: null,
    queriesMade: 0,
    lastQueryAt: null,
    lastResult: null,
    expiresAt: null,
  }
}

/** What a subject object holds provider notifications about: one transfer, complaint, … of a merchant. */
export interface SubjectRef {
  merchantId: string
  provider: ProviderName
  /** The provider's id of the subject, or `notification:<id>` for a notification about no named thing. */
  subjectKey: string
}
