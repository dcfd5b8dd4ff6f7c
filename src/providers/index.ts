/**
 * @module The providers paygate speaks by default: one descriptor per provider folder. The notify
 * routes, the merchant schema and sealing, the admin views and the query dispatch are all derived
 * from this list; adding a provider is a folder and a line here.
 */
import { alipay } from './alipay'
import { ProviderRegistry } from './core/registry'
import { wechatpay } from './wechatpay'

export const defaultProviders = [wechatpay, alipay] as const

export type DefaultProviders = typeof defaultProviders
/** The default providers' names. */
export type Provider = DefaultProviders[number]['provider']
/** The default providers' channel names. */
export type Channel = DefaultProviders[number]['channels'][number]['channel']

/** The registry of the default gateway (immutable, so sharing it across requests is safe). */
export const defaultRegistry = new ProviderRegistry(defaultProviders)

export type { ConfigSection, ProviderDescriptor, ProviderSections, SectionCertificate } from './core/descriptor'
export { defineProvider } from './core/descriptor'
export type { ConfigContext } from './core/config-fields'
export type { DownloadedKey, KeyDownloads } from './core/key-downloads'
export { ProviderRegistry, type KeyDownload } from './core/registry'
export { verifyNotification } from './core/pipeline'
export { NotifyRejection, REJECTION_STATUS, refuse, refusingOrder, type RejectionCode } from './core/rejection'
export { checkOutTradeNo, isQueryableOrderNumber, isUnknownSerial } from './core/query-exchange'
export { MAX_ORDER_NUMBER_LENGTH, orderNumberProblem } from './core/order-number'
export { QueryFailed, QUERY_TIMEOUT_MS } from './core/query-types'
export type { OrderQueryClient, QueryFailureReason, QueryNotification, QueryOptions, QueryResult } from './core/query-types'
export type { RefundQueryClient, RefundQueryResult, RefundRef } from './core/refund-query'
export type * from './core/types'
