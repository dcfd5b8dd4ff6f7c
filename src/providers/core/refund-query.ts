/**
 * @module Asking a provider about one refund: the client each channel implements (WeChat v3
 * `/v3/refund/domestic/refunds/{no}`, v2 `refundquery`, Alipay `alipay.trade.fastpay.refund.query`),
 * what an answer means in paygate's terms, and the dedupe id of a refund learnt by query.
 */
import { checkFacts } from './pipeline'
import { checkOutTradeNo, queryConfigOf } from './query-exchange'
import { QueryFailed, type QueryNotification, type QueryOptions } from './query-types'
import type { ChannelName, MerchantSections, NotificationEffect, ProviderName } from './types'

/** The refund a query asks about: the merchant's numbers for its order and for the refund. */
export interface RefundRef {
  outTradeNo: string
  outRefundNo: string
  /**
   * The order's currency (its payment's, else the registered one), when it knows one: an answer that names no
   * currency (Alipay's) states its amounts in it. Absent or null: the provider's default (CNY).
   */
  currency?: string | null
}

/**
 * What the provider says about the refund, once its answer is verified: settled (succeeded, closed or
 * failed, with the refund's own amount), or not settled yet (processing, or no such refund so far).
 */
export type RefundQueryResult =
  | { kind: 'settled'; notification: QueryNotification<'refund'> }
  | { kind: 'unsettled'; providerStatus: string }

/** One channel's refund-query API client. */
export interface RefundQueryClient {
  readonly channel: ChannelName
  readonly provider: ProviderName
  isConfigured(merchant: MerchantSections): boolean
  /**
   * Signs the request, sends it, verifies the signed answer and maps it. Both numbers are 1–64
   * printable ASCII characters (`RangeError` otherwise). Throws `QueryFailed` for every other failure.
   */
  queryRefund(merchant: MerchantSections, refund: RefundRef, options: QueryOptions): Promise<RefundQueryResult>
}

export interface RefundQueryClientSpec<Section, Config> {
  channel: ChannelName
  provider: ProviderName
  /** The keys this query needs from the provider's config section, or null when some are missing. */
  configOf(section: Section | undefined): Config | null
  missingKeys: string
  /** Signs, sends, verifies and maps one query; the numbers and the keys are already checked. */
  query(config: Config, refund: RefundRef, options: QueryOptions): Promise<RefundQueryResult>
}

export function defineRefundQueryClient<Section, Config>(spec: RefundQueryClientSpec<Section, Config>): RefundQueryClient {
  const configOf = queryConfigOf(spec)
  return {
    channel: spec.channel,
    provider: spec.provider,
    isConfigured: (merchant) => configOf(merchant) !== null,
    async queryRefund(merchant, refund, options) {
      checkOutTradeNo(refund.outTradeNo)
      checkOutTradeNo(refund.outRefundNo)
      const config = configOf(merchant)
      if (config === null) throw new QueryFailed('not_configured', spec.missingKeys)
      return spec.query(config, refund, options)
    },
  }
}

/**
 * A refund learnt by query, shaped like its notification and held to the same rules (`checkFacts`: a refund of
 * 0 fen is refused). The dedupe id names the refund and its outcome, so the same answer twice (or a query and a
 * later retry of it) is one fact. Called inside `asQuery`, so a refusal fails the query.
 */
export function refundQueryNotification(
  channel: ChannelName,
  provider: ProviderName,
  outTradeNo: string,
  effect: Extract<NotificationEffect, { kind: 'refund' }>,
  raw: Record<string, unknown>,
): QueryNotification<'refund'> {
  const notificationId = `query:${channel}:refund:${effect.outRefundNo}:${effect.outcome}`
  const notification = { channel, provider, notificationId, outTradeNo, effect, raw }
  checkFacts(notification)
  return notification
}
