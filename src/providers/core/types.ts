/** @module The one small interface every payment channel implements, and what it produces. */
import type { NotifyRejection } from './rejection'

/**
 * A provider's name as its descriptor gives it (`providers/index.ts` lists them). Code below the
 * registry takes any registered name; the literal union of the default set is `Provider` there.
 */
export type ProviderName = string
/** A channel's name: its provider's name, or that name and an API version (`<provider>.v3`). */
export type ChannelName = string

/**
 * What provider code sees of a merchant: each provider's own config section under the provider's
 * name. A merchant's full config (`merchants/types.ts`) is one of these.
 */
export type MerchantSections = Readonly<Record<string, unknown>>

/** A provider callback exactly as received: the raw bytes are what signatures cover. */
export interface RawNotification {
  body: Uint8Array<ArrayBuffer>
  headers: Headers
  /** Milliseconds since the epoch, when the gateway received it. */
  receivedAt: number
}

export type RefundOutcome = 'succeeded' | 'failed' | 'closed'

/** A payment as paygate records it: what a payment notification, an order query or a refund reports. */
export interface PaymentFacts {
  /** Order amount in minor units (fen). */
  amount: number
  currency: string
  /**
   * The report names no currency (a WeChat Pay refund proving the payment: v2's names none, v3's only abroad), so
   * `currency` is the provider's default: the order's registered currency is taken instead, when it has one.
   */
  currencyUnstated?: true
  transactionId: string
  /** ISO-8601 UTC instant, or null when the provider did not say. */
  paidAt: string | null
}

/** What a verified notification reports, in paygate's own terms. */
export type NotificationEffect =
  | ({ kind: 'payment' } & PaymentFacts)
  | {
      /** The unpaid order was closed (Alipay TRADE_CLOSED without a refund). */
      kind: 'close'
      transactionId: string | null
      closedAt: string | null
      /** The closed trade's amount in minor units of `currency`, when the report names it (Alipay's `total_amount`); else null. */
      amount: number | null
      /** The currency of `amount` (an Alipay cross-border trade's `trans_currency`); absent with no amount, or CNY. */
      currency?: string
    }
  | {
      kind: 'refund'
      outcome: RefundOutcome
      outRefundNo: string
      refundId: string | null
      transactionId: string | null
      /** This refund's amount in minor units of `currency`, when the provider states it (WeChat). */
      amount: number | null
      /** Everything refunded on the order so far, in minor units, when the provider states it (Alipay `refund_fee`). */
      cumulativeRefunded: number | null
      /** The order's total in minor units, to tell a partial refund from a full one. */
      orderAmount: number
      currency: string
      refundedAt: string | null
      /**
       * The payment this refund proves, when the notification carries the order's total and payment facts
       * (v3 `amount.total`, v2 `total_fee`, Alipay `total_amount` with `gmt_payment`): recorded first when the
       * order has not seen its payment.
       */
      payment: PaymentFacts | null
      /**
       * Set when the merchant it is for is named only outside its signed or encrypted part (a sub-merchant's v2
       * refund: `sub_mch_id` is in the unsigned envelope, and sub-merchants share the key). It proves no payment
       * then, and applies only to an order whose recorded payment is its `transactionId`.
       */
      recipientUnsigned?: true
      /**
       * Set when the key that opened it may be shared with other merchants of the gateway, and the fields that
       * would tell them apart are unsigned (a v2 refund to a service provider saved as a direct merchant: its
       * sub-merchants hold its key). The leading parts of the identity keys those merchants would claim: when
       * another merchant claims one, or that cannot be known, the refund is taken as `recipientUnsigned`.
       */
      keySharedUnder?: readonly string[]
    }
  | {
      /**
       * An authentic notification about something other than a payment or its refunds (a transfer, profit
       * sharing, a complaint, an Alipay message that is not `trade_status_sync`): forwarded as it is.
       */
      kind: 'other'
      /** The provider's word for it: v3 `event_type`, Alipay `notify_type`. */
      notificationType: string
      /** The provider's id of what it is about (a transfer bill, a complaint), when it names one. */
      subjectId: string | null
      /** When it happened per the provider (ISO-8601 UTC), or null. */
      occurredAt: string | null
    }
  | {
      /**
       * One authentic callback that pays several orders at once (WeChat Pay's combined payment, 合单支付). Each
       * sub-order is a notification of its own (its order number, payment, dedupe id and raw fields) and is stored
       * by its own order object, as if the provider had notified it alone; this one reaches no object.
       */
      kind: 'combined'
      subOrders: readonly VerifiedNotification[]
    }
  | {
      /** Authentic (or unsigned but harmless) message that changes nothing: v2 FAIL, WAIT_BUYER_PAY. */
      kind: 'none'
      reason: string
    }

/**
 * The combined payment (WeChat Pay's 合单支付) an order was paid in: the channel that reported it, and the merchant's
 * number of the combine. Providers answer no ordinary order query about such an order: it is asked about only
 * through its combine, with a channel's combined query (`OrderQueryClient.queriesCombined`), or not at all.
 */
export interface CombinedPaymentRef {
  channel: ChannelName
  /** `''` when the report names none: the order is then never asked about. */
  combineOutTradeNo: string
}

/** A callback that passed every check, normalized. */
export interface VerifiedNotification {
  channel: ChannelName
  provider: ProviderName
  /** The provider's identity of this notification, the dedupe key: v3 `id`, Alipay `notify_id`, v2 digest. */
  notificationId: string
  /** The order it is about; `''` for a message about no order (v2 `return_code=FAIL`, an `other` effect) or several (`combined`). */
  outTradeNo: string
  effect: NotificationEffect
  /** The verified (and decrypted) provider fields, forwarded to the merchant as `data.raw`. */
  raw: Record<string, unknown>
  /** Set on each sub-order of a `combined` effect: the combine it was paid in. */
  combinedPayment?: CombinedPaymentRef
}

/**
 * One payment channel: parse → verify → normalize → ack. Adapters build canonical byte strings
 * and map statuses; the crypto itself lives in `crypto/`. Every step throws `NotifyRejection`.
 * `Config` is the provider's section of the merchant config, undefined when the merchant has none.
 */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds adapters of every provider's types
export interface ChannelAdapter<Config = any, Wire = any, Verified = any, Name extends ChannelName = ChannelName> {
  readonly channel: Name
  readonly provider: ProviderName
  /** The notify URL's tail: `POST /notify/{merchantId}/{path}`. */
  readonly path: string
  /** Pure parsing of the raw bytes; no secrets needed. */
  parse(raw: RawNotification): Wire
  /** Authenticity: signatures, timestamps, algorithms the merchant allows. */
  verify(wire: Wire, config: Config | undefined, now: number): Promise<Verified>
  /** Decryption, merchant identity checks, and the one mapping of provider statuses to ours. */
  normalize(verified: Verified, config: Config | undefined): Promise<VerifiedNotification>
  /** The reply that tells the provider we have it. */
  accept(): Response
  /** The reply that makes the provider retry later. */
  reject(error: NotifyRejection): Response
  /**
   * The callback as an operator may see it once rejected (merchants with `keepRejectedBodies`): the
   * headers it is signed with and its body as text, every signature cut short. Absent: nothing is kept.
   */
  redact?(raw: RawNotification): RedactedNotification
}

/** A rejected callback with its signatures cut short: what `ChannelAdapter.redact` gives. */
export interface RedactedNotification {
  headers: Record<string, string>
  body: string
}
