/**
 * @module A merchant's WeChat Pay section: its shape, the admin API's validation of it, which fields
 * are secrets, and the redacted view GET shows.
 */
import { certificateExpiry } from '../../crypto/x509'
import { fail, objectAt, stringAt, type JsonObject } from '../../lib/validation'
import {
  definedOnly,
  idsView,
  privateKeyPemAt,
  providerIdAt,
  providerIdsAt,
  providerUrlAt,
  type ConfigContext,
  type ProviderIds,
} from '../core/config-fields'
import type { ConfigSection, SectionCertificate } from '../core/descriptor'
import { wechatpaySchema, wechatpayViewOnly } from './config-schema'
import { HEX_SERIAL, parsePlatformPublicKeys } from './platform-keys-config'

export type V2SignType = 'MD5' | 'HMAC-SHA256'

export interface WechatpayConfig {
  /**
   * The merchant's apps (official account, mini program, app): one appid or a list, as saved. In partner mode
   * the service provider's (`sp_appid`).
   */
  appid: ProviderIds
  /** The merchant's mchid; in partner mode the service provider's (`sp_mchid`). */
  mchid: string
  /**
   * Partner mode (服务商): this merchant is the sub-merchant `sub_mchid` of the service provider `mchid`, whose
   * keys it uses. It accepts partner messages for this sub-merchant only, and no direct ones.
   */
  subMchid?: string
  /** Partner mode: the sub-merchant's own apps (`sub_appid`), checked when a message names one. */
  subAppid?: ProviderIds
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
  /** The platform keys given as certificates, by serial (PEM), kept for their expiry and for PATCH. */
  platformCertificates?: Record<string, string>
  /**
   * The merchant API private key (`apiclient_key.pem`, PKCS#8 `PRIVATE KEY` PEM once saved): signs
   * APIv3 requests such as the order query. Set together with `merchantSerial`.
   */
  merchantPrivateKey?: string
  /** Serial (uppercase hex) of the merchant API certificate that goes with `merchantPrivateKey`. */
  merchantSerial?: string
  /** Origin of the WeChat Pay API; absent means `WECHATPAY_API_BASE_URL`. A local stand-in in development. */
  apiBaseUrl?: string
  /**
   * Download the platform certificates (`GET /v3/certificates`) and verify with them beside the configured keys:
   * on a schedule, and at once when a notification names a serial nobody knows.
   */
  autoPlatformCertificates?: true
  /** When each configured platform certificate expires (serial → ISO-8601), read when the merchant is saved. */
  platformKeyExpiries?: Record<string, string>
  /**
   * Downloaded platform certificates (serial → certificate PEM), unexpired, added to the section when the merchant
   * is loaded. Never part of the admin API's body and never saved with it.
   */
  downloadedPlatformCertificates?: Record<string, string>
}

export const WECHATPAY_API_BASE_URL = 'https://api.mch.weixin.qq.com'

export const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256']
// WeChat's APIv2/APIv3 keys are 32 ASCII characters; the v3 key's UTF-8 bytes are the AES-256 key.
const API_KEY = /^[\x21-\x7e]{32}$/
// WeChat signs with RSA-2048 (`WECHATPAY2-SHA256-RSA2048`).
const MIN_RSA_BITS = 2048

const FIELDS = Object.keys(wechatpaySchema.shape)

function apiKeyAt(value: unknown, path: string): string {
  const text = stringAt(value, path)
  if (text.length !== 32) fail(path, 'must be 32 characters')
  if (!API_KEY.test(text)) fail(path, 'must be printable ASCII without spaces')
  return text
}

function parseV2SignTypes(value: unknown): V2SignType[] {
  const path = 'wechatpay.v2SignType'
  const expected = 'must be "MD5", "HMAC-SHA256" or a list of them'
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : fail(path, expected)
  if (list.length === 0) fail(path, 'must not be an empty list')
  const types = new Set<V2SignType>()
  list.forEach((item, index) => {
    const itemPath = Array.isArray(value) ? `${path}[${index}]` : path
    if (!V2_SIGN_TYPES.includes(item as V2SignType)) fail(itemPath, expected)
    types.add(item as V2SignType)
  })
  return [...types]
}

/**
 * The merchant API key pair that signs APIv3 requests: private key and certificate serial, both or
 * neither. Only for an APIv3 merchant, whose platform keys verify the signed responses.
 */
async function parseRequestSigning(
  wechatpay: JsonObject,
  hasApiV3Key: boolean,
): Promise<Pick<WechatpayConfig, 'merchantPrivateKey' | 'merchantSerial'>> {
  const { merchantPrivateKey, merchantSerial } = wechatpay
  if (merchantPrivateKey === undefined && merchantSerial === undefined) return {}
  if (merchantPrivateKey === undefined) fail('wechatpay.merchantPrivateKey', 'is required with merchantSerial')
  if (merchantSerial === undefined) fail('wechatpay.merchantSerial', 'is required with merchantPrivateKey')
  if (!hasApiV3Key) fail('wechatpay.merchantPrivateKey', 'requires apiV3Key')
  const serial = stringAt(merchantSerial, 'wechatpay.merchantSerial')
  if (!HEX_SERIAL.test(serial)) fail('wechatpay.merchantSerial', 'must be the merchant API certificate serial (hex)')
  const privateKey = await privateKeyPemAt(merchantPrivateKey, 'wechatpay.merchantPrivateKey', MIN_RSA_BITS)
  return { merchantPrivateKey: privateKey, merchantSerial: serial.toUpperCase() }
}

/** Partner mode: `subMchid` (and the optional `subAppid`, which needs it). */
function parsePartner(wechatpay: JsonObject, mchid: string): Pick<WechatpayConfig, 'subMchid' | 'subAppid'> {
  if (wechatpay.subMchid === undefined) {
    if (wechatpay.subAppid !== undefined) fail('wechatpay.subAppid', 'requires subMchid (partner mode)')
    return {}
  }
  const subMchid = providerIdAt(wechatpay.subMchid, 'wechatpay.subMchid')
  if (subMchid === mchid) fail('wechatpay.subMchid', "must differ from mchid, the service provider's")
  const subAppid = wechatpay.subAppid === undefined ? undefined : providerIdsAt(wechatpay.subAppid, 'wechatpay.subAppid')
  return { subMchid, ...definedOnly({ subAppid }) }
}

/** `autoPlatformCertificates: true` needs what a download needs: the APIv3 key and the merchant API key pair. */
function parseAutoPlatformCertificates(wechatpay: JsonObject, config: Pick<WechatpayConfig, 'apiV3Key' | 'merchantSerial'>): boolean {
  const path = 'wechatpay.autoPlatformCertificates'
  const { autoPlatformCertificates } = wechatpay
  if (autoPlatformCertificates === undefined || autoPlatformCertificates === false) return false
  if (autoPlatformCertificates !== true) fail(path, 'must be true or false')
  if (config.apiV3Key === undefined) fail(path, 'requires apiV3Key (the certificates are encrypted with it)')
  if (config.merchantSerial === undefined) fail(path, 'requires merchantPrivateKey and merchantSerial (the download is a signed request)')
  return true
}

async function parseWechatpay(value: unknown, context: ConfigContext): Promise<WechatpayConfig> {
  const wechatpay = objectAt(value, 'wechatpay', FIELDS)
  const appid = providerIdsAt(wechatpay.appid, 'wechatpay.appid')
  const mchid = providerIdAt(wechatpay.mchid, 'wechatpay.mchid')
  const partner = parsePartner(wechatpay, mchid)
  const apiV2Key = wechatpay.apiV2Key === undefined ? undefined : apiKeyAt(wechatpay.apiV2Key, 'wechatpay.apiV2Key')
  const apiV3Key = wechatpay.apiV3Key === undefined ? undefined : apiKeyAt(wechatpay.apiV3Key, 'wechatpay.apiV3Key')
  if (apiV2Key === undefined && apiV3Key === undefined) {
    fail('wechatpay', 'at least one of apiV2Key, apiV3Key is required')
  }
  if (wechatpay.v2SignType !== undefined && apiV2Key === undefined) fail('wechatpay.v2SignType', 'requires apiV2Key')
  // Without an explicit choice a v2 merchant allows both: WeChat signs each notify with the type the
  // order was placed with, often omits sign_type, and has been seen sending MD5 to HMAC merchants
  // (protocols.md §1.4). Both are keyed by the same APIv2 key.
  let v2SignTypes: V2SignType[] = []
  if (apiV2Key !== undefined) {
    v2SignTypes = wechatpay.v2SignType === undefined ? [...V2_SIGN_TYPES] : parseV2SignTypes(wechatpay.v2SignType)
  }
  const { platformPublicKeys, platformKeyExpiries, platformCertificates } =
    wechatpay.platformPublicKeys === undefined
      ? { platformPublicKeys: {}, platformKeyExpiries: {}, platformCertificates: undefined }
      : await parsePlatformPublicKeys(wechatpay.platformPublicKeys)
  const requestSigning = await parseRequestSigning(wechatpay, apiV3Key !== undefined)
  const apiBaseUrl = wechatpay.apiBaseUrl === undefined ? undefined : providerUrlAt(wechatpay.apiBaseUrl, 'wechatpay.apiBaseUrl', context)
  const download = parseAutoPlatformCertificates(wechatpay, { apiV3Key, merchantSerial: requestSigning.merchantSerial })
  return {
    appid,
    mchid,
    ...partner,
    ...definedOnly({ apiV2Key }),
    v2SignTypes,
    ...definedOnly({ apiV3Key }),
    platformPublicKeys,
    ...(Object.keys(platformKeyExpiries).length === 0 ? {} : { platformKeyExpiries }),
    ...definedOnly({ platformCertificates }),
    ...requestSigning,
    ...definedOnly({ apiBaseUrl }),
    ...(download ? { autoPlatformCertificates: true as const } : {}),
  }
}

/** Every platform key the merchant verifies with, as GET lists them: configured ones first, then downloaded. */
function platformKeysView(wechatpay: WechatpayConfig): { serial: string; source: string; expires_at: string | null }[] {
  const expiries = wechatpay.platformKeyExpiries ?? {}
  const configured = Object.keys(wechatpay.platformPublicKeys).map((serial) => ({
    serial,
    source: 'configured',
    expires_at: Object.hasOwn(expiries, serial) ? expiries[serial]! : null,
  }))
  const downloaded = downloadedOnly(wechatpay).map(([serial, pem]) => ({
    serial,
    source: 'downloaded',
    expires_at: certificateExpiry(pem),
  }))
  return [...configured, ...downloaded]
}

/** The downloaded platform certificates (`withDownloadedKeys`) whose serial is not also configured: a configured key wins. */
function downloadedOnly(wechatpay: WechatpayConfig): [serial: string, pem: string][] {
  return Object.entries(wechatpay.downloadedPlatformCertificates ?? {}).filter(
    ([serial]) => !Object.hasOwn(wechatpay.platformPublicKeys, serial),
  )
}

/** GET shows the section without `apiV2Key`, `apiV3Key` and `merchantPrivateKey`. */
function publicView(wechatpay: WechatpayConfig): Record<string, unknown> {
  const v2SignTypes = wechatpay.v2SignTypes
  return {
    appid: idsView(wechatpay.appid),
    mchid: wechatpay.mchid,
    ...(wechatpay.subMchid === undefined ? {} : { subMchid: wechatpay.subMchid }),
    ...(wechatpay.subAppid === undefined ? {} : { subAppid: idsView(wechatpay.subAppid) }),
    // Shown only for a v2 merchant, as written in the contract: one type alone, else the list.
    ...(wechatpay.apiV2Key === undefined || v2SignTypes.length === 0
      ? {}
      : { v2SignType: v2SignTypes.length === 1 ? v2SignTypes[0]! : [...v2SignTypes] }),
    // As given: a certificate as its PEM, so that GET's reply saved back keeps the certificate and its expiry.
    platformPublicKeys: givenPlatformKeys(wechatpay),
    ...(wechatpay.autoPlatformCertificates === true ? { autoPlatformCertificates: true } : {}),
    platformKeys: platformKeysView(wechatpay),
    ...definedOnly({ merchantSerial: wechatpay.merchantSerial, apiBaseUrl: wechatpay.apiBaseUrl }),
  }
}

/** The configured platform keys as the PUT gave them: a certificate as its PEM, not the key taken from it. */
function givenPlatformKeys(wechatpay: WechatpayConfig): Record<string, string> {
  return { ...wechatpay.platformPublicKeys, ...wechatpay.platformCertificates }
}

/**
 * The PUT body that gives this section again: certificates as given (not their keys), sign types as `v2SignType`
 * unless they are the default (both), so that a patch removing `apiV2Key` leaves no `v2SignType` behind it.
 */
function inputView(wechatpay: WechatpayConfig): Record<string, unknown> {
  // Expiries and downloaded certificates are derived (when saved, by the replica): not part of the body.
  const {
    v2SignTypes,
    platformCertificates: _certificates,
    platformPublicKeys: _keys,
    platformKeyExpiries: _expiries,
    downloadedPlatformCertificates: _downloaded,
    ...rest
  } = wechatpay
  const chosen = v2SignTypes.length < V2_SIGN_TYPES.length
  return {
    ...rest,
    ...(wechatpay.apiV2Key !== undefined && chosen ? { v2SignType: [...v2SignTypes] } : {}),
    platformPublicKeys: givenPlatformKeys(wechatpay),
  }
}

/** Configured platform certificates, and the downloaded ones when the section carries them (`withDownloadedKeys`). */
function certificates(wechatpay: WechatpayConfig): SectionCertificate[] {
  const configured = Object.entries(wechatpay.platformCertificates ?? {}).map(([serial, pem]) => ({
    name: `platformPublicKeys.${serial}`,
    expiresAt: certificateExpiry(pem),
  }))
  const downloaded = downloadedOnly(wechatpay).map(([serial, pem]) => ({ name: `downloaded.${serial}`, expiresAt: certificateExpiry(pem) }))
  return [...configured, ...downloaded]
}

export const wechatpaySection: ConfigSection<WechatpayConfig> = {
  schema: wechatpaySchema,
  parse: parseWechatpay,
  secretFields: ['apiV2Key', 'apiV3Key', 'merchantPrivateKey'],
  publicView,
  viewOnly: wechatpayViewOnly,
  inputView,
  certificates,
}
