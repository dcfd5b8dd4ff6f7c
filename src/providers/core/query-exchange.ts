/**
 * @module What every order-query client shares: one bounded HTTP exchange with a provider API,
 * adapter rejections re-read as query failures, and the dedupe id of a fact learnt by query.
 */
import { BodyTooLarge, readBodyWithLimit } from '../../lib/read-body'
import { USER_AGENT } from '../../lib/user-agent'
import {
  QUERY_TIMEOUT_MS,
  QueryFailed,
  type OrderQueryClient,
  type QueryFailureReason,
  type QueryOptions,
  type QueryResult,
} from './query-types'
import { checkFacts } from './pipeline'
import { NotifyRejection, type RejectionCode } from './rejection'
import type { ChannelName, CombinedPaymentRef, MerchantSections, NotificationEffect, ProviderName, VerifiedNotification } from './types'
import { ownValue } from '../../lib/own'

/** A query answer is a few KiB (a WeChat `promotion_detail` list at most); anything far larger is not one. */
export const RESPONSE_BODY_LIMIT = 256 * 1024

const OUT_TRADE_NO = /^[\x21-\x7e]{1,64}$/

/**
 * Whether a provider API can be asked about this order: order numbers reach URLs and signed strings, so
 * printable ASCII only, never a `.`/`..` path segment. (Notifications may carry more: see order-number.ts.)
 */
export function isQueryableOrderNumber(outTradeNo: string): boolean {
  return OUT_TRADE_NO.test(outTradeNo) && outTradeNo !== '.' && outTradeNo !== '..'
}

export function checkOutTradeNo(outTradeNo: string): void {
  if (!isQueryableOrderNumber(outTradeNo)) throw new RangeError('outTradeNo must be 1–64 printable ASCII characters')
}

export interface ProviderAnswer {
  status: number
  headers: Headers
  /** The body exactly as received: signatures cover these bytes. */
  body: Uint8Array<ArrayBuffer>
}

export interface ProviderRequest {
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
}

/**
 * Sends one request and reads the whole answer within `timeoutMs`. Redirects are not followed: the
 * APIs never redirect a query, and a signed request must not be replayed at another host.
 */
export async function exchange(url: URL, request: ProviderRequest, options: QueryOptions): Promise<ProviderAnswer> {
  const timeoutMs = options.timeoutMs ?? QUERY_TIMEOUT_MS
  const signal = AbortSignal.timeout(timeoutMs)
  const send = options.fetch ?? fetch
  let response: Response
  try {
    response = await send(url, {
      method: request.method,
      headers: { 'user-agent': USER_AGENT, ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal,
    })
  } catch {
    throw new QueryFailed('network', signal.aborted ? `no answer within ${timeoutMs} ms` : 'provider API unreachable')
  }
  try {
    const body = await readBodyWithLimit(response, RESPONSE_BODY_LIMIT)
    return { status: response.status, headers: response.headers, body }
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      throw new QueryFailed('malformed_response', `answer larger than ${RESPONSE_BODY_LIMIT} bytes`, response.status)
    }
    const message = signal.aborted ? `answer not read within ${timeoutMs} ms` : 'answer body unreadable'
    throw new QueryFailed('network', message, response.status)
  }
}

const REASON_BY_REJECTION: Readonly<Record<RejectionCode, QueryFailureReason>> = {
  missing_signature: 'unsigned_response',
  signature_invalid: 'signature_invalid',
  signature_probe: 'signature_invalid',
  sign_type_not_allowed: 'signature_invalid',
  stale_timestamp: 'signature_invalid',
  unknown_serial: 'signature_invalid',
  certificate_expired: 'signature_invalid',
  channel_not_configured: 'not_configured',
  malformed_body: 'malformed_response',
  xml_entities: 'malformed_response',
  body_too_large: 'malformed_response',
  unsupported_event: 'malformed_response',
  merchant_mismatch: 'malformed_response',
  unknown_merchant: 'malformed_response',
  amount_mismatch: 'malformed_response',
  order_not_registered: 'malformed_response',
  refund_before_payment: 'malformed_response',
  refund_exceeds_amount: 'malformed_response',
  transaction_mismatch: 'malformed_response',
  decrypt_failed: 'malformed_response',
  unknown_serial_after_download: 'signature_invalid',
  storage_unavailable: 'malformed_response',
}

/**
 * Runs adapter code (shared with the notify path, so it throws `NotifyRejection`) and re-throws its
 * rejections as `QueryFailed`, keeping the adapter's short, secret-free message.
 */
export async function asQuery<T>(work: () => T | Promise<T>, httpStatus: number | null = null): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof NotifyRejection)) throw error
    throw new QueryFailed(REASON_BY_REJECTION[error.code], error.message, httpStatus, error.code)
  }
}

/**
 * Whether a notification's refusal, or a query's failure, is for want of a key: a serial (`Wechatpay-Serial`) no
 * configured or downloaded key has. Such a message may verify once the provider's keys are downloaded afresh.
 */
export function isUnknownSerial(error: unknown): boolean {
  if (error instanceof NotifyRejection) return error.code === 'unknown_serial'
  return error instanceof QueryFailed && error.rejection === 'unknown_serial'
}

type PaymentOrClose = Extract<NotificationEffect, { kind: 'payment' | 'close' }>

/**
 * A fact learnt by query, in the shape a notification of it has. The dedupe id names the provider's
 * trade and our effect, not the provider's word for it, so TRADE_SUCCESS and TRADE_FINISHED (or
 * SUCCESS and REFUND) are one fact; a close of a trade WeChat never numbered is named by the order.
 */
export function queryNotification<Effect extends PaymentOrClose>(
  channel: ChannelName,
  provider: ProviderName,
  outTradeNo: string,
  effect: Effect,
  raw: Record<string, unknown>,
): VerifiedNotification & { effect: Effect } {
  const trade = effect.transactionId === null ? `out_trade_no:${outTradeNo}` : effect.transactionId
  const notification = { channel, provider, notificationId: `query:${channel}:${trade}:${effect.kind}`, outTradeNo, effect, raw }
  // Held to a notification's rules (a payment of 0 fen is refused): called inside `asQuery`, a refusal fails the query.
  checkFacts(notification)
  return notification
}

/** Provider error codes are short identifiers; anything else is not echoed into messages. */
export function safeCode(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : null
}

export interface QueryClientSpec<Section, Config> {
  channel: ChannelName
  provider: ProviderName
  /** The keys this query needs from the provider's config section, or null when some are missing. */
  configOf(section: Section | undefined): Config | null
  /** What to tell the operator when `configOf` finds keys missing. */
  missingKeys: string
  /** Signs, sends, verifies and maps one query; the order number and the keys are already checked. */
  query(config: Config, outTradeNo: string, options: QueryOptions): Promise<QueryResult>
  /**
   * The channel's combined query, when it has one: asks about the sub-order `outTradeNo` of the combine
   * `combineOutTradeNo` (both numbers, and the keys, already checked).
   */
  combinedQuery?(config: Config, combineOutTradeNo: string, outTradeNo: string, options: QueryOptions): Promise<QueryResult>
}

/**
 * The keys a query needs, read from the merchant's section of `spec.provider`; null when the merchant has no
 * such section or it lacks some. The order and refund query clients both start here.
 */
export function queryConfigOf<Section, Config>(spec: {
  provider: ProviderName
  configOf(section: Section | undefined): Config | null
}): (merchant: MerchantSections) => Config | null {
  return (merchant) => spec.configOf(ownValue(merchant, spec.provider) as Section | undefined)
}

/**
 * A channel's query client: the checks every channel makes first, then the channel's own exchange. A combined
 * payment's sub-order goes only to the channel's combined query: never to the ordinary one.
 */
export function defineQueryClient<Section, Config>(spec: QueryClientSpec<Section, Config>): OrderQueryClient {
  const configOf = queryConfigOf(spec)
  const { combinedQuery } = spec
  const queriesCombined = (combine: CombinedPaymentRef): boolean =>
    combinedQuery !== undefined && combine.channel === spec.channel && isQueryableOrderNumber(combine.combineOutTradeNo)
  return {
    channel: spec.channel,
    provider: spec.provider,
    isConfigured: (merchant) => configOf(merchant) !== null,
    queriesCombined,
    async queryOrder(merchant, outTradeNo, options) {
      checkOutTradeNo(outTradeNo)
      const combine = options.combinedPayment
      const config = configOf(merchant)
      if (config === null) throw new QueryFailed('not_configured', spec.missingKeys)
      if (combine === undefined) return spec.query(config, outTradeNo, options)
      if (combinedQuery === undefined || !queriesCombined(combine)) {
        throw new RangeError(`a combined payment reported on ${combine.channel} is not asked about with ${spec.channel}`)
      }
      return combinedQuery(config, combine.combineOutTradeNo, outTradeNo, options)
    },
  }
}

/** Signs with the merchant's configured key; a key that will not sign is a damaged configuration. */
export async function signedWithMerchantKey<T>(sign: () => Promise<T>, keyName: string): Promise<T> {
  try {
    return await sign()
  } catch {
    // Keys are checked when the merchant is saved: this one was damaged since.
    throw new QueryFailed('not_configured', `${keyName} is unusable`)
  }
}
