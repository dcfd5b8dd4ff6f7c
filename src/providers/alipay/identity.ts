/**
 * @module Whose an Alipay notify is: one of the merchant's apps (`app_id`), its seller (`seller_id`), and for a
 * third-party (ISV) app the merchant app that authorized it (`auth_app_id`). Every app's notify is signed with the
 * same Alipay key, so only these ids tell merchants apart.
 * @see https://opendocs.alipay.com/open/203/105286 (notify parameters)
 */
import { includesId } from '../core/config-fields'
import { refuse } from '../core/rejection'
import type { AlipayConfig } from './config'

type FormFields = ReadonlyMap<string, string>

/**
 * `app_id` must be one of the merchant's apps. With `carriedOnly` (a notification about no trade), a message that
 * names no app is no other merchant's: it is checked against the ids it carries only (contract, "Other notifications").
 */
export function checkAppId(fields: FormFields, config: AlipayConfig, { carriedOnly = false } = {}): void {
  const appId = fields.get('app_id') || null
  if (carriedOnly && appId === null) return
  if (appId === null || !includesId(config.appId, appId)) refuse('merchant_mismatch', 'app_id does not belong to this merchant')
}

/**
 * `seller_id` must be one the merchant lists (when it lists any). An ISV merchant (`authAppId`) takes only
 * notifies its authorizing apps sent; any other merchant refuses one whose `auth_app_id` names another app than
 * `app_id` (than the merchant's apps, when it names no `app_id`): a payment taken on another merchant's authority. With `carriedOnly` (notifications about no trade, many
 * of which name no seller or authorizing app), a field the message does not carry is not required.
 */
export function checkSellerAndAuthApp(fields: FormFields, config: AlipayConfig, { carriedOnly = false } = {}): void {
  const sellerId = fields.get('seller_id') || null
  if (config.sellerId !== undefined && !(carriedOnly && sellerId === null)) {
    if (sellerId === null || !includesId(config.sellerId, sellerId))
      refuse('merchant_mismatch', 'seller_id does not belong to this merchant')
  }
  const authAppId = fields.get('auth_app_id') || null
  if (config.authAppId !== undefined) {
    if (carriedOnly && authAppId === null) return
    if (authAppId === null || !includesId(config.authAppId, authAppId))
      refuse('merchant_mismatch', 'auth_app_id does not belong to this merchant')
  } else if (authAppId !== null) {
    // A notification about no trade may name no app_id (`checkAppId`): its authorizing app must then be one of ours.
    const appId = fields.get('app_id') || null
    if (appId === null ? !includesId(config.appId, authAppId) : authAppId !== appId)
      refuse('merchant_mismatch', 'auth_app_id names another app: a third-party (ISV) notify')
  }
}
