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
}

export interface AlipayConfig {
  appId: string
  sellerId: string
  /** Alipay's public key as SPKI `PUBLIC KEY` PEM (bare base64 is converted when saved). */
  alipayPublicKey: string
  signType: AlipaySignType
}

export interface ForwardConfig {
  url: string
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string
  /** The secret being rotated out; while set, events carry a signature for each. */
  previousSecret?: string
}

export interface MerchantConfig {
  id: string
  forward: ForwardConfig
  wechatpay?: WechatpayConfig
  alipay?: AlipayConfig
}
