/**
 * @module Order-query clients by channel, and the one to use for an order of a given provider: the
 * public surface of `providers/query` (the order object's alarm and sync route call it).
 */
import type { MerchantConfig } from '../../merchants/types'
import type { Channel, Provider } from '../types'
import { alipayQuery } from './alipay'
import type { OrderQueryClient } from './types'
import { wechatpayV2Query } from './wechatpay-v2'
import { wechatpayV3Query } from './wechatpay-v3'

export { QueryFailed, QUERY_TIMEOUT_MS } from './types'
export { checkOutTradeNo } from './exchange'
export type { OrderQueryClient, QueryFailureReason, QueryNotification, QueryOptions, QueryResult } from './types'

export const ORDER_QUERY_CLIENTS: Readonly<Record<Channel, OrderQueryClient>> = {
  'wechatpay.v2': wechatpayV2Query,
  'wechatpay.v3': wechatpayV3Query,
  alipay: alipayQuery,
}

// Both WeChat APIs answer for the merchant's orders, whichever placed them; v3 first: its answers carry
// WeChat's RSA signature, v2's only a MAC under the merchant's own key.
const CHANNELS_BY_PROVIDER: Readonly<Record<Provider, readonly Channel[]>> = {
  wechatpay: ['wechatpay.v3', 'wechatpay.v2'],
  alipay: ['alipay'],
}

/** The client that can query this merchant's orders with `provider`, or null when none is configured. */
export function orderQueryClientFor(merchant: MerchantConfig, provider: Provider): OrderQueryClient | null {
  for (const channel of CHANNELS_BY_PROVIDER[provider]) {
    const client = ORDER_QUERY_CLIENTS[channel]
    if (client.isConfigured(merchant)) return client
  }
  return null
}
