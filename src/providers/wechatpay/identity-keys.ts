/** @module The WeChat Pay identities a merchant claims: no two merchants may share one (see merchants/identities.ts). */
import type { WechatpayConfig } from './config'

/** The parts of a key, as the merchant body names them. */
export const WECHATPAY_IDENTITY_FIELDS = ['mchid', 'subMchid'] as const

/**
 * One key: the mchid and, in partner mode, the sub-merchant. The appid does not separate merchants: v3
 * refund notifications name no app, so two merchants of one mchid could not be told apart by them.
 */
export function wechatpayIdentityKeys(config: WechatpayConfig): string[][] {
  return [[config.mchid, config.subMchid ?? '-']]
}
