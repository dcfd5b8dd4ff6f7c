/** @module The Alipay identities a merchant claims: no two merchants may share one (see merchants/identities.ts). */
import { idsOf } from '../core/config-fields'
import type { ProviderIdentity } from '../core/descriptor'
import type { AlipayConfig } from './config'

export const alipayIdentity: ProviderIdentity<AlipayConfig> = {
  fields: ['appId', 'authAppId', 'sellerId'],
  /**
   * One key per app, authorizing app (ISV) and seller the merchant takes notifies for: every notify names its
   * `app_id`, and `auth_app_id` / `seller_id` tell merchants of one app apart. A merchant that checks no
   * seller claims them all (`*`). One without `authAppId` takes notifies naming no `auth_app_id` (`-`) and those
   * naming its own app as one (`identity.ts`): it claims both, so a merchant listing that app as `authAppId` overlaps it.
   */
  keys(config) {
    const sellers = config.sellerId === undefined ? ['*'] : idsOf(config.sellerId)
    return idsOf(config.appId).flatMap((appId) => {
      const authApps = config.authAppId === undefined ? ['-', appId] : idsOf(config.authAppId)
      return authApps.flatMap((authApp) => sellers.map((seller) => [appId, authApp, seller]))
    })
  },
}
