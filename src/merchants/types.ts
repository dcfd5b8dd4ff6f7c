/** @module A merchant's configuration as the gateway uses it: secrets opened, keys normalized. */

export type V2SignType = 'MD5' | 'HMAC-SHA256'
export type AlipaySignType = 'RSA2' | 'RSA'

export interface WechatpayConfig {
  appid: string
  mchid: string
  /** APIv2 key (32 chars): signs v2 notifies, and its MD5 is the AES key of v2 refund `req_info`. */
  apiV2Key?: string
  /** Sign types the merchant allows for v2 notifies. */
  v2SignTypes: V2SignType[]
  /** APIv3 key (32 chars): AEAD_AES_256_GCM key of v3 `resource`. */
  apiV3Key?: string
  /**
   * Platform verification keys by `Wechatpay-Serial`: platform-certificate serials and
   * `PUB_KEY_ID_…` ids side by side. Values are SPKI `PUBLIC KEY` PEM (certificates are converted
   * when the merchant is saved).
   */
  platformPublicKeys: Record<string, string>
  /**
   * The merchant API private key (`apiclient_key.pem`, PKCS#8 `PRIVATE KEY` PEM once saved): signs
   * APIv3 requests such as the order query. Set together with `merchantSerial`.
   */
  merchantPrivateKey?: string
  /** Serial (uppercase hex) of the merchant API certificate that goes with `merchantPrivateKey`. */
  merchantSerial?: string
  /** Origin of the WeChat Pay API; absent means `WECHATPAY_API_BASE_URL`. A local stand-in in development. */
  apiBaseUrl?: string
}

export const WECHATPAY_API_BASE_URL = 'https://api.mch.weixin.qq.com'

export interface AlipayConfig {
  appId: string
  sellerId: string
  /** Alipay's public key as SPKI `PUBLIC KEY` PEM (bare base64 is converted when saved). */
  alipayPublicKey: string
  signType: AlipaySignType
  /** The app private key (PKCS#8 `PRIVATE KEY` PEM once saved): signs OpenAPI requests such as `alipay.trade.query`. */
  appPrivateKey?: string
  /** The OpenAPI gateway endpoint; absent means `ALIPAY_GATEWAY_URL`. The sandbox, or a local stand-in in development. */
  gatewayUrl?: string
}

export const ALIPAY_GATEWAY_URL = 'https://openapi.alipay.com/gateway.do'

export interface ForwardConfig {
  url: string
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string
  /** The secret being rotated out; while set, events carry a signature for each. */
  previousSecret?: string
  /**
   * Set when the merchant's endpoint answered 410 Gone: nothing more is sent there until the merchant
   * is saved again through the admin API (ISO-8601).
   */
  disabledAt?: string
}

export interface MerchantConfig {
  id: string
  forward: ForwardConfig
  /**
   * The merchant registers every order's amount before the buyer pays: a payment notification for an
   * order it never registered is then doubtful, and is confirmed by an order query before it counts.
   */
  requireRegisteredOrders?: boolean
  wechatpay?: WechatpayConfig
  alipay?: AlipayConfig
}
