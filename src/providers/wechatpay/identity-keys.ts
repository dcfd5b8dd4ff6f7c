/** @module The WeChat Pay identities a merchant claims: no two merchants may share one (see merchants/identities.ts). */
import type { ProviderIdentity } from '../core/descriptor'
import type { WechatpayConfig } from './config'

export const wechatpayIdentity: ProviderIdentity<WechatpayConfig> = {
  fields: ['mchid', 'subMchid'],
  /**
   * One key: the mchid and, in partner mode, the sub-merchant. The appid does not separate merchants: v3
   * refund notifications name no app, so two merchants of one mchid could not be told apart by them.
   */
  keys: (config) => [[config.mchid, config.subMchid ?? '-']],
}
