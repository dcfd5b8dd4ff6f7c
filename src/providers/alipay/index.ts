/**
 * @module Alipay: trade (and other) notifications, `alipay.trade.query`, `alipay.trade.fastpay.refund.query`,
 * and the merchant's `alipay` config section.
 */
import { defineProvider } from '../core/descriptor'
import { alipayIdentity } from './identity-keys'
import { alipaySection } from './config'
import { alipayNotify } from './notify'
import { alipayQuery } from './query'
import { alipayRefundQuery } from './refund-query'

export const alipay = defineProvider({
  provider: 'alipay',
  channels: [alipayNotify],
  config: alipaySection,
  queries: [alipayQuery],
  refundQueries: [alipayRefundQuery],
  identity: alipayIdentity,
})

export type { AlipayConfig, AlipaySignType } from './config'
