/** @module The Alipay identities a merchant claims: no two merchants may share one (see merchants/identities.ts). */
import { idsOf } from '../core/config-fields'
import type { AlipayConfig } from './config'

/**
 * One key per app, authorizing app (ISV) and seller the merchant takes notifies for: every notify names its
 * `app_id`, and `auth_app_id` / `seller_id` tell merchants of one app apart. A merchant that checks no
 * seller claims them all (`*`).
 */
export function alipayIdentityKeys(config: AlipayConfig): string[][] {
  const authApps = config.authAppId === undefined ? ['-'] : idsOf(config.authAppId)
  const sellers = config.sellerId === undefined ? ['*'] : idsOf(config.sellerId)
  return idsOf(config.appId).flatMap((appId) => authApps.flatMap((authApp) => sellers.map((seller) => [appId, authApp, seller])))
}
