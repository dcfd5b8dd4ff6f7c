/** @module Alipay: trade notifications, `alipay.trade.query`, and the merchant's `alipay` config section. */
import { defineProvider } from '../core/descriptor'
import { alipaySection } from './config'
import { alipayNotify } from './notify'
import { alipayQuery } from './query'

export const alipay = defineProvider({
  provider: 'alipay',
  channels: [alipayNotify],
  config: alipaySection,
  queries: [alipayQuery],
})

export type { AlipayConfig, AlipaySignType } from './config'
