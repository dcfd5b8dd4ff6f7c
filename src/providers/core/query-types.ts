/**
 * @module Asking a provider about an order instead of waiting for its notification: the client each
 * channel implements, what an answer means in paygate's terms, and the one error a query fails with.
 */
import type { RejectionCode } from './rejection'
import type { ChannelName, CombinedPaymentRef, MerchantSections, NotificationEffect, ProviderName, VerifiedNotification } from './types'

export interface QueryOptions {
  /** Milliseconds since the epoch: request timestamps, and the freshness window of signed answers. */
  now: number
  /** Defaults to the global `fetch` (tests mock the network underneath it instead). */
  fetch?: typeof fetch
  /** Bound on the whole exchange, body included; `QUERY_TIMEOUT_MS` by default. */
  timeoutMs?: number
  /**
   * The order is a sub-order of this combined payment: asked about through its combine (the channel's combined
   * query), never with the ordinary order query, which providers do not answer for combined orders.
   */
  combinedPayment?: CombinedPaymentRef
}

export const QUERY_TIMEOUT_MS = 10_000

/** A query's verified answer, shaped like the notification that reports the same fact. */
export type QueryNotification<Kind extends NotificationEffect['kind']> = VerifiedNotification & {
  effect: Extract<NotificationEffect, { kind: Kind }>
}

/**
 * What the provider says, once its answer is verified. Results that carry a notification are fed to
 * the order object exactly like a callback; `notificationId` is derived from the provider's trade, so
 * the same fact learnt twice (two queries, a query and a late retry of it) is a duplicate.
 */
export type QueryResult =
  | { kind: 'paid'; notification: QueryNotification<'payment'> }
  /**
   * The order was paid and (part of) it refunded since: WeChat `trade_state=REFUND`, an Alipay
   * `TRADE_CLOSED` trade that was paid first. Reported as the payment, which did happen; the refunds
   * are not in the answer (amount and refund numbers are missing) and reach the order through their
   * own notifications.
   */
  | { kind: 'refunded'; notification: QueryNotification<'payment'> }
  | { kind: 'closed'; notification: QueryNotification<'close'> }
  /**
   * Not paid (yet): created and waiting, the buyer paying, a failed attempt, or no such order at the
   * provider (normal until the buyer opens the cashier). `providerStatus` is the provider's own word.
   */
  | { kind: 'not_paid'; providerStatus: string }

/**
 * Why a query gave no answer to act on:
 * - `signature_invalid`: signed, but the signature does not verify (wrong key, tampering, a WeChat
 *   `WECHATPAY/SIGNTEST/` probe, a stale timestamp, an unknown serial);
 * - `unsigned_response`: an answer that must be signed is not;
 * - `http_error`: an HTTP status the API does not answer queries with (5xx, unsigned 4xx, redirects);
 * - `provider_error`: the provider answered with an error code (e.g. our request's signature was refused);
 * - `malformed_response`: not the document the API returns, or one about another merchant or order;
 * - `network`: no answer (connection failure, timeout, body unreadable);
 * - `not_configured`: the merchant lacks the keys this channel's query needs.
 */
export type QueryFailureReason =
  | 'signature_invalid'
  | 'unsigned_response'
  | 'http_error'
  | 'provider_error'
  | 'malformed_response'
  | 'network'
  | 'not_configured'

/** Messages are short and never contain keys, secrets or full signatures. */
export class QueryFailed extends Error {
  override readonly name = 'QueryFailed'
  constructor(
    readonly reason: QueryFailureReason,
    message: string,
    /** The provider's HTTP status, when an answer arrived. */
    readonly httpStatus: number | null = null,
    /** The adapter's refusal of the answer this failure re-reads (`asQuery`), when it is one: `unknown_serial` asks for a key download. */
    readonly rejection: RejectionCode | null = null,
  ) {
    super(message)
  }
}

/** One channel's order-query API client. */
export interface OrderQueryClient {
  readonly channel: ChannelName
  readonly provider: ProviderName
  /** Whether the merchant's configuration holds what this channel's query needs. */
  isConfigured(merchant: MerchantSections): boolean
  /**
   * Whether this channel can ask about a sub-order of this combined payment: it has a combined query, the combine
   * was reported on this channel, and its number can go into the provider's API.
   */
  queriesCombined(combine: CombinedPaymentRef): boolean
  /**
   * Signs the request, sends it, verifies the signed answer and maps it. `outTradeNo` is 1–64
   * printable ASCII characters (`RangeError` otherwise), and so is a combine's number; a combine this channel cannot
   * ask about (`queriesCombined`) is `RangeError` too. Throws `QueryFailed` for every other failure.
   */
  queryOrder(merchant: MerchantSections, outTradeNo: string, options: QueryOptions): Promise<QueryResult>
}
