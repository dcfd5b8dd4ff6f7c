/**
 * @module Whose a WeChat Pay message is: the merchant, one of its apps, and in partner mode (服务商) the service
 * provider and its sub-merchant. One check for APIv2 and APIv3, notifications and query answers alike.
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012085810 (partner payment notify: sp_mchid, sub_mchid)
 */
import { includesId } from '../core/config-fields'
import { refuse } from '../core/rejection'
import type { WechatpayConfig } from './config'

/**
 * The identity fields a message carries, null where absent. `mchid`/`appid` are the direct merchant's, or in
 * partner mode the service provider's (v3 `sp_mchid`/`sp_appid`; v2 keeps `mch_id`/`appid` for them).
 */
export interface NamedIdentity {
  mchid: string | null
  appid: string | null
  subMchid: string | null
  subAppid: string | null
}

/** How one message kind spells those fields, so a refusal names the field as the message has it. */
export interface IdentityFieldNames {
  mchid: string
  appid: string
  subMchid: string
  subAppid: string
}

export const V2_IDENTITY_FIELDS: IdentityFieldNames = { mchid: 'mch_id', appid: 'appid', subMchid: 'sub_mch_id', subAppid: 'sub_appid' }
export const V3_DIRECT_FIELDS: IdentityFieldNames = { mchid: 'mchid', appid: 'appid', subMchid: 'sub_mchid', subAppid: 'sub_appid' }
const V3_PARTNER_FIELDS: IdentityFieldNames = { mchid: 'sp_mchid', appid: 'sp_appid', subMchid: 'sub_mchid', subAppid: 'sub_appid' }

export interface IdentityCheck {
  names: IdentityFieldNames
  /** False for an unsigned message (v2 `return_code=FAIL`): only the fields it does carry are checked. */
  required: boolean
  /** Whether a required message must name an app (v3 refund resources name none). */
  appidRequired: boolean
}

/**
 * The one identity rule: the mchid (and the appid, when named) must be the merchant's; a sub-merchant (one with
 * `subMchid`) accepts only partner messages for its own `sub_mchid` (and a `sub_appid` it lists, when it lists
 * any), and a direct merchant accepts no partner message. Sub-merchants share the service provider's keys, so a
 * valid signature alone never says which sub-merchant a message is for. Throws `merchant_mismatch`.
 */
export function checkIdentity(named: NamedIdentity, wechatpay: WechatpayConfig, check: IdentityCheck): void {
  const { names, required } = check
  const partner = named.subMchid !== null || named.subAppid !== null
  if (wechatpay.subMchid === undefined) {
    if (partner) refuse('merchant_mismatch', `partner-mode ${names.subMchid} for a direct merchant`)
  } else if (named.subMchid === null) {
    if (required || partner) refuse('merchant_mismatch', `no ${names.subMchid}: a direct message for a sub-merchant`)
  } else if (named.subMchid !== wechatpay.subMchid) {
    refuse('merchant_mismatch', `${names.subMchid} does not belong to this merchant`)
  }
  if (named.mchid !== null || required) {
    if (named.mchid !== wechatpay.mchid) refuse('merchant_mismatch', `${names.mchid} does not belong to this merchant`)
  }
  if (named.appid !== null || (required && check.appidRequired)) {
    if (named.appid === null || !includesId(wechatpay.appid, named.appid)) {
      refuse('merchant_mismatch', `${names.appid} does not belong to this merchant`)
    }
  }
  if (named.subAppid !== null && wechatpay.subAppid !== undefined && !includesId(wechatpay.subAppid, named.subAppid)) {
    refuse('merchant_mismatch', `${names.subAppid} does not belong to this merchant`)
  }
}

/** How a combined payment spells the combine's ids, and each sub-order's own. */
export interface CombinedFieldNames {
  combine: IdentityFieldNames
  subOrder: IdentityFieldNames
}

/**
 * A combined payment's field names: each sub-order's ids are the channel's own (`ids`) inside the list `list`, and the
 * combine names its merchant and app (`combine`) beside them. A sub-merchant is only ever a sub-order's, so a refusal
 * names it there (`sub_orders.sub_mchid`).
 */
export function combinedFieldNames(
  list: string,
  ids: IdentityFieldNames,
  combine: Pick<IdentityFieldNames, 'mchid' | 'appid'>,
): CombinedFieldNames {
  const subOrder: IdentityFieldNames = {
    mchid: `${list}.${ids.mchid}`,
    appid: `${list}.${ids.appid}`,
    subMchid: `${list}.${ids.subMchid}`,
    subAppid: `${list}.${ids.subAppid}`,
  }
  return { combine: { ...subOrder, ...combine }, subOrder }
}

/**
 * A combined payment (合单支付): the combine's ids (`combine_mchid`/`combine_mch_id`, `combine_appid`) stand where a
 * payment names its mchid and appid, beside each sub-order's partner ids, and each sub-order's own ids (its mchid,
 * and in partner mode its sub-merchant) obey the one rule too. A sub-order that is not the merchant's refuses the
 * whole callback with `merchant_mismatch`, as a mismatched payment is refused: WeChat takes the accept reply for
 * every sub-order, so accepting the rest would lose that sub-order's payment without a trace, where the refusal
 * is audited, alerted on, and retried by WeChat until the notify URL or the merchant's ids are put right.
 */
export function checkCombinedIdentity(
  combine: Pick<NamedIdentity, 'mchid' | 'appid'>,
  subOrders: readonly NamedIdentity[],
  wechatpay: WechatpayConfig,
  names: CombinedFieldNames,
): void {
  for (const subOrder of subOrders) {
    checkIdentity({ ...subOrder, ...combine }, wechatpay, { names: names.combine, required: true, appidRequired: true })
    checkIdentity(subOrder, wechatpay, { names: names.subOrder, required: true, appidRequired: false })
  }
}

type JsonFields = Record<string, unknown>

/** The identity fields a message (or a sub-order of one) carries under `names`: null where absent, text or refused. */
export function namedIdentity(fields: Readonly<JsonFields>, names: IdentityFieldNames): NamedIdentity {
  const text = (name: string): string | null => {
    const value = fields[name]
    if (value === undefined || value === null) return null
    return typeof value === 'string' ? value : refuse('malformed_body', `${name} is not a string`)
  }
  return { mchid: text(names.mchid), appid: text(names.appid), subMchid: text(names.subMchid), subAppid: text(names.subAppid) }
}

/** Transfers write the direct merchant id `mch_id`, where payments, refunds and the others write `mchid`. */
const V3_DIRECT_MCHID_NAMES = ['mchid', 'mch_id']

/**
 * An APIv3 resource or answer: direct (`mchid` or `mch_id`, `appid`) or partner (`sp_mchid`, `sp_appid`,
 * `sub_mchid`, `sub_appid`), never both forms at once. One about an order (`Transaction`, refund) must name the
 * merchant; one about something else (a transfer, a complaint) is checked for the ids it carries, and one that
 * carries none (a complaint) by its signature alone.
 */
export function checkV3Identity(resource: JsonFields, wechatpay: WechatpayConfig, about: 'order' | 'other' = 'order'): void {
  const partner = resource.sp_mchid !== undefined || resource.sub_mchid !== undefined
  const directMchid = V3_DIRECT_MCHID_NAMES.find((name) => resource[name] !== undefined)
  if (partner && (directMchid !== undefined || resource.appid !== undefined)) {
    refuse('merchant_mismatch', 'names both direct and partner-mode merchant ids')
  }
  const names = partner ? V3_PARTNER_FIELDS : { ...V3_DIRECT_FIELDS, mchid: directMchid ?? V3_DIRECT_FIELDS.mchid }
  const named = namedIdentity(resource, names)
  checkIdentity(named, wechatpay, { names, required: about === 'order' || named.mchid !== null, appidRequired: false })
}

/**
 * APIv2 fields (`appid`, `mch_id`, and in partner mode `sub_appid`, `sub_mch_id`). Signed payments, refunds and
 * answers must name the merchant; an unsigned FAIL message is checked only for what it carries.
 */
export function checkV2Identity(fields: Readonly<Record<string, string>>, wechatpay: WechatpayConfig, required: boolean): void {
  const named = namedIdentity(fields, V2_IDENTITY_FIELDS)
  checkIdentity(named, wechatpay, { names: V2_IDENTITY_FIELDS, required, appidRequired: true })
}
