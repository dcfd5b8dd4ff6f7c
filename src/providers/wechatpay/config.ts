/**
 * @module A merchant's WeChat Pay section: its shape, the admin API's validation of it, which fields
 * are secrets, and the redacted view GET shows.
 */
import { readPem, toPem } from '../../crypto/encoding'
import { certificateExpiry, certificateSerial } from '../../crypto/x509'
import { fail, fieldPath, objectAt, stringAt, type JsonObject } from '../../lib/validation'
import { definedOnly, privateKeyPemAt, providerIdAt, providerUrlAt, publicKeyPemAt, type ConfigContext } from '../core/config-fields'
import type { ConfigSection, SectionCertificate } from '../core/descriptor'
import { wechatpaySchema } from './config-schema'

export type V2SignType = 'MD5' | 'HMAC-SHA256'

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
}

export const WECHATPAY_API_BASE_URL = 'https://api.mch.weixin.qq.com'

export const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256']
// WeChat's APIv2/APIv3 keys are 32 ASCII characters; the v3 key's UTF-8 bytes are the AES-256 key.
const API_KEY = /^[\x21-\x7e]{32}$/
// `Wechatpay-Serial` values: platform-certificate serials (hex) or WeChat Pay public-key ids.
const HEX_SERIAL = /^[0-9A-Fa-f]{1,64}$/
const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$/
// WeChat signs with RSA-2048 (`WECHATPAY2-SHA256-RSA2048`).
const MIN_RSA_BITS = 2048

const FIELDS = Object.keys(wechatpaySchema.shape)

function apiKeyAt(value: unknown, path: string): string {
  const text = stringAt(value, path)
  if (text.length !== 32) fail(path, 'must be 32 characters')
  if (!API_KEY.test(text)) fail(path, 'must be printable ASCII without spaces')
  return text
}

/** The serial of a PEM certificate, or null when `text` is a plain public key. */
function certificateSerialOf(text: string): string | null {
  const block = readPem(text.trim())
  return block.label === 'CERTIFICATE' ? certificateSerial(toPem('CERTIFICATE', block.der)) : null
}

/**
 * Serial → SPKI PEM. A certificate must be listed under its own serial. Hex serials are stored
 * uppercase (as WeChat writes `Wechatpay-Serial`); `PUB_KEY_ID_…` ids are kept exactly as given.
 */
async function parsePlatformPublicKeys(value: unknown): Promise<Pick<WechatpayConfig, 'platformPublicKeys' | 'platformCertificates'>> {
  const parent = 'wechatpay.platformPublicKeys'
  const listed = objectAt(value, parent, null)
  const keys = new Map<string, string>()
  const certificates = new Map<string, string>()
  for (const [serial, text] of Object.entries(listed)) {
    const path = fieldPath(parent, serial)
    const hexSerial = HEX_SERIAL.test(serial)
    if (!hexSerial && !PUBLIC_KEY_ID.test(serial)) {
      fail(path, 'must be listed under a certificate serial (hex) or a PUB_KEY_ID_… id')
    }
    const keyText = stringAt(text, path)
    const pem = await publicKeyPemAt(keyText, path)
    const normalizedSerial = hexSerial ? serial.toUpperCase() : serial
    // Parsed already by publicKeyPemAt, so reading the block again cannot fail.
    const actual = certificateSerialOf(keyText)
    if (actual !== null && actual !== normalizedSerial) {
      fail(path, `certificate serial is ${actual}, not the serial it is listed under`)
    }
    if (keys.has(normalizedSerial)) fail(path, 'serial is listed twice')
    keys.set(normalizedSerial, pem)
    if (actual !== null) certificates.set(normalizedSerial, toPem('CERTIFICATE', readPem(keyText.trim()).der))
  }
  const platformPublicKeys = Object.fromEntries(keys)
  return certificates.size === 0 ? { platformPublicKeys } : { platformPublicKeys, platformCertificates: Object.fromEntries(certificates) }
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

async function parseWechatpay(value: unknown, context: ConfigContext): Promise<WechatpayConfig> {
  const wechatpay = objectAt(value, 'wechatpay', FIELDS)
  const appid = providerIdAt(wechatpay.appid, 'wechatpay.appid')
  const mchid = providerIdAt(wechatpay.mchid, 'wechatpay.mchid')
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
  const platformKeys =
    wechatpay.platformPublicKeys === undefined ? { platformPublicKeys: {} } : await parsePlatformPublicKeys(wechatpay.platformPublicKeys)
  const requestSigning = await parseRequestSigning(wechatpay, apiV3Key !== undefined)
  const apiBaseUrl = wechatpay.apiBaseUrl === undefined ? undefined : providerUrlAt(wechatpay.apiBaseUrl, 'wechatpay.apiBaseUrl', context)
  return {
    appid,
    mchid,
    ...definedOnly({ apiV2Key }),
    v2SignTypes,
    ...definedOnly({ apiV3Key }),
    ...platformKeys,
    ...requestSigning,
    ...definedOnly({ apiBaseUrl }),
  }
}

/** GET shows the section without `apiV2Key`, `apiV3Key` and `merchantPrivateKey`. */
function publicView(wechatpay: WechatpayConfig): Record<string, unknown> {
  const v2SignTypes = wechatpay.v2SignTypes
  return {
    appid: wechatpay.appid,
    mchid: wechatpay.mchid,
    // Shown only for a v2 merchant, as written in the contract: one type alone, else the list.
    ...(wechatpay.apiV2Key === undefined || v2SignTypes.length === 0
      ? {}
      : { v2SignType: v2SignTypes.length === 1 ? v2SignTypes[0]! : [...v2SignTypes] }),
    platformPublicKeys: { ...wechatpay.platformPublicKeys },
    ...definedOnly({ merchantSerial: wechatpay.merchantSerial, apiBaseUrl: wechatpay.apiBaseUrl }),
  }
}

/** The PUT body that gives this section again: certificates as given (not their keys), sign types as `v2SignType`. */
function inputView(wechatpay: WechatpayConfig): Record<string, unknown> {
  const { v2SignTypes, platformCertificates, platformPublicKeys, ...rest } = wechatpay
  return {
    ...rest,
    ...(wechatpay.apiV2Key === undefined ? {} : { v2SignType: [...v2SignTypes] }),
    platformPublicKeys: { ...platformPublicKeys, ...platformCertificates },
  }
}

function certificates(wechatpay: WechatpayConfig): SectionCertificate[] {
  return Object.entries(wechatpay.platformCertificates ?? {}).map(([serial, pem]) => ({
    name: `platformPublicKeys.${serial}`,
    expiresAt: certificateExpiry(pem),
  }))
}

export const wechatpaySection: ConfigSection<WechatpayConfig> = {
  schema: wechatpaySchema,
  parse: parseWechatpay,
  secretFields: ['apiV2Key', 'apiV3Key', 'merchantPrivateKey'],
  publicView,
  inputView,
  certificates,
}
