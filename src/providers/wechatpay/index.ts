/**
 * @module WeChat Pay: APIv2 and APIv3 notifications, their order queries, and the merchant's
 * `wechatpay` config section. Both WeChat APIs answer for the merchant's orders whichever placed
 * them; v3 is asked first: its answers carry WeChat's RSA signature, v2's only a MAC under the
 * merchant's own key.
 */
import { defineProvider } from '../core/descriptor'
import { wechatpayIdentity } from './identity-keys'
import { wechatpayPlatformCertificates } from './certificates'
import { wechatpaySection } from './config'
import { wechatpayV2 } from './v2-notify'
import { wechatpayV2Query } from './v2-query'
import { wechatpayV2RefundQuery } from './v2-refund-query'
import { wechatpayV3 } from './v3-notify'
import { wechatpayV3Query } from './v3-query'
import { wechatpayV3RefundQuery } from './v3-refund-query'

export const wechatpay = defineProvider({
  provider: 'wechatpay',
  channels: [wechatpayV2, wechatpayV3],
  config: wechatpaySection,
  queries: [wechatpayV3Query, wechatpayV2Query],
  keyDownloads: wechatpayPlatformCertificates,
  refundQueries: [wechatpayV3RefundQuery, wechatpayV2RefundQuery],
  identity: wechatpayIdentity,
})

export type { V2SignType, WechatpayConfig } from './config'
