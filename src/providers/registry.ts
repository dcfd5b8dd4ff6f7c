/** @module Every channel paygate speaks, by its contract name. Adding one is a module and a line. */
import { alipay } from './alipay'
import type { Channel, ChannelAdapter } from './types'
import { wechatpayV2 } from './wechatpay-v2'
import { wechatpayV3 } from './wechatpay-v3'

export const channelAdapters = {
  'wechatpay.v2': wechatpayV2,
  'wechatpay.v3': wechatpayV3,
  alipay,
} satisfies Record<Channel, ChannelAdapter<unknown, unknown>>
