/**
 * @module The admin API's merchant body (`PUT /admin/merchants/{id}`): strict validation into a
 * normalized `MerchantInput`. Every failure is `invalid_request` naming the field; unknown fields are
 * refused, because a typo in a payments config must not be silently ignored.
 */
import { readPem, toPem } from '../crypto/encoding'
import { rsaPrivateKey, rsaPublicKey } from '../crypto/keys'
import { rsaPrivateKeyFromText, type RsaPrivateKeyInfo } from '../crypto/private-keys'
import { certificateSerial, spkiFromPublicKeyText } from '../crypto/x509'
import { forwardUrlProblem } from '../delivery/forward-url'
import { webhookSecretProblem } from '../delivery/webhook-secret'
import { AdminError } from '../http/responses'
import type { AlipayConfig, AlipaySignType, ForwardConfig, MerchantConfig, V2SignType, WechatpayConfig } from './types'

/** A merchant's configuration as submitted, validated and normalized; the id comes from the path. */
export type MerchantInput = Omit<MerchantConfig, 'id'>

export interface MerchantSchemaOptions {
  /** Allow `http://localhost` forward and provider API URLs: only while the Worker runs locally. */
  allowLoopback: boolean
}

const MERCHANT_ID = /^[A-Za-z0-9_-]{1,64}$/

export function isMerchantId(value: string): boolean {
  return MERCHANT_ID.test(value)
}

const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256']
const ALIPAY_SIGN_TYPES: readonly AlipaySignType[] = ['RSA2', 'RSA']
// Provider ids (appid, mchid, app_id, seller_id) are short printable ASCII; whitespace would never match a notify.
const PROVIDER_ID = /^[\x21-\x7e]{1,64}$/
// WeChat's APIv2/APIv3 keys are 32 ASCII characters; the v3 key's UTF-8 bytes are the AES-256 key.
const API_KEY = /^[\x21-\x7e]{32}$/
// `Wechatpay-Serial` values: platform-certificate serials (hex) or WeChat Pay public-key ids.
const HEX_SERIAL = /^[0-9A-Fa-f]{1,64}$/
const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$/
const MAX_URL_LENGTH = 2048
const MAX_PUBLIC_KEY_TEXT = 16 * 1024
const MAX_PRIVATE_KEY_TEXT = 16 * 1024
// WeChat signs with RSA-2048 (`WECHATPAY2-SHA256-RSA2048`), as does Alipay's RSA2; legacy Alipay RSA keys are 1024.
const MIN_RSA2_BITS = 2048
const MIN_LEGACY_RSA_BITS = 1024

function fail(path: string, problem: string): never {
  throw new AdminError('invalid_request', `${path}: ${problem}`)
}

function fieldPath(parent: string, key: string): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key
  return parent === '' ? shown : `${parent}.${shown}`
}

type JsonObject = Record<string, unknown>

/** `value` as an object whose keys are all in `allowed` (any keys when `allowed` is null). */
function objectAt(value: unknown, path: string, allowed: readonly string[] | null, parent = path): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, value === undefined ? 'is required' : 'must be an object')
  }
  if (allowed !== null) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) fail(fieldPath(parent, key), `unknown field (expected one of ${allowed.join(', ')})`)
    }
  }
  return value as JsonObject
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, value === undefined ? 'is required' : 'must be a string')
  return value
}

function providerIdAt(value: unknown, path: string): string {
  const text = stringAt(value, path)
  if (!PROVIDER_ID.test(text)) fail(path, 'must be 1–64 printable ASCII characters without spaces')
  return text
}

function apiKeyAt(value: unknown, path: string): string {
  const text = stringAt(value, path)
  if (text.length !== 32) fail(path, 'must be 32 characters')
  if (!API_KEY.test(text)) fail(path, 'must be printable ASCII without spaces')
  return text
}

function webhookSecretAt(value: unknown, path: string): string {
  const secret = stringAt(value, path)
  const problem = webhookSecretProblem(secret)
  if (problem !== null) fail(path, problem)
  return secret
}

function parseForward(value: unknown, options: MerchantSchemaOptions): ForwardConfig {
  const forward = objectAt(value, 'forward', ['url', 'secret', 'previousSecret'])
  const url = stringAt(forward.url, 'forward.url')
  if (url.length > MAX_URL_LENGTH) fail('forward.url', `must be at most ${MAX_URL_LENGTH} characters`)
  const urlProblem = forwardUrlProblem(url, { allowLoopback: options.allowLoopback })
  if (urlProblem !== null) fail('forward.url', urlProblem)
  const secret = webhookSecretAt(forward.secret, 'forward.secret')
  if (forward.previousSecret === undefined) return { url, secret }
  const previousSecret = webhookSecretAt(forward.previousSecret, 'forward.previousSecret')
  if (previousSecret === secret) fail('forward.previousSecret', 'must differ from forward.secret')
  return { url, secret, previousSecret }
}

/**
 * Private-key text (PKCS#8 or PKCS#1 PEM, or bare base64 DER) as PKCS#8 `PRIVATE KEY` PEM, proven to
 * import for signing. Messages never echo the key.
 */
async function privateKeyPemAt(value: unknown, path: string, minBits: number): Promise<string> {
  const text = stringAt(value, path)
  if (text.length > MAX_PRIVATE_KEY_TEXT) fail(path, 'is too long for a private key')
  let key: RsaPrivateKeyInfo
  try {
    key = rsaPrivateKeyFromText(text)
  } catch (error) {
    fail(path, error instanceof RangeError ? error.message : 'is not a private key')
  }
  const { pkcs8, modulusLength } = key
  if (modulusLength < minBits) fail(path, `must be an RSA key of at least ${minBits} bits`)
  try {
    await rsaPrivateKey(pkcs8, 'SHA-256')
  } catch {
    fail(path, 'is not an RSA private key WebCrypto can sign with')
  }
  return toPem('PRIVATE KEY', pkcs8)
}

/**
 * A provider API URL (tests and local development point these at a stand-in): the forward-URL
 * policy (https, no private addresses, loopback only locally), no query or fragment, no trailing `/`.
 */
function providerUrlAt(value: unknown, path: string, options: MerchantSchemaOptions): string {
  const url = stringAt(value, path)
  if (url.length > MAX_URL_LENGTH) fail(path, `must be at most ${MAX_URL_LENGTH} characters`)
  const problem = forwardUrlProblem(url, { allowLoopback: options.allowLoopback })
  if (problem !== null) fail(path, problem)
  const parsed = new URL(url)
  if (parsed.search !== '' || parsed.hash !== '' || url.includes('?') || url.includes('#')) {
    fail(path, 'must not have a query or fragment')
  }
  return url.replace(/\/+$/, '')
}

/** Public-key text (SPKI PEM, bare base64 SPKI or a PEM certificate) as SPKI `PUBLIC KEY` PEM. */
async function publicKeyPemAt(text: string, path: string): Promise<string> {
  if (text.length > MAX_PUBLIC_KEY_TEXT) fail(path, 'is too long for a public key')
  let spki: Uint8Array<ArrayBuffer>
  try {
    spki = spkiFromPublicKeyText(text)
  } catch (error) {
    // x509/encoding reasons are short and never echo the key text.
    fail(path, error instanceof RangeError ? error.message : 'is not a public key')
  }
  try {
    // Importing proves the DER is an RSA key WebCrypto can verify with (and warms the key cache).
    await rsaPublicKey(spki, 'SHA-256')
  } catch {
    fail(path, 'is not an RSA public key')
  }
  return toPem('PUBLIC KEY', spki)
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
async function parsePlatformPublicKeys(value: unknown): Promise<Record<string, string>> {
  const parent = 'wechatpay.platformPublicKeys'
  const listed = objectAt(value, parent, null)
  const keys = new Map<string, string>()
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
  }
  return Object.fromEntries(keys)
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

async function parseWechatpay(value: unknown, options: MerchantSchemaOptions): Promise<WechatpayConfig> {
  const wechatpay = objectAt(value, 'wechatpay', [
    'appid',
    'mchid',
    'apiV2Key',
    'v2SignType',
    'apiV3Key',
    'platformPublicKeys',
    'merchantPrivateKey',
    'merchantSerial',
    'apiBaseUrl',
  ])
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
  const platformPublicKeys =
    wechatpay.platformPublicKeys === undefined ? {} : await parsePlatformPublicKeys(wechatpay.platformPublicKeys)
  const requestSigning = await parseRequestSigning(wechatpay, apiV3Key !== undefined)
  const apiBaseUrl =
    wechatpay.apiBaseUrl === undefined ? undefined : providerUrlAt(wechatpay.apiBaseUrl, 'wechatpay.apiBaseUrl', options)
  return {
    appid,
    mchid,
    ...(apiV2Key === undefined ? {} : { apiV2Key }),
    v2SignTypes,
    ...(apiV3Key === undefined ? {} : { apiV3Key }),
    platformPublicKeys,
    ...requestSigning,
    ...(apiBaseUrl === undefined ? {} : { apiBaseUrl }),
  }
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
  const privateKey = await privateKeyPemAt(merchantPrivateKey, 'wechatpay.merchantPrivateKey', MIN_RSA2_BITS)
  return { merchantPrivateKey: privateKey, merchantSerial: serial.toUpperCase() }
}

async function parseAlipay(value: unknown, options: MerchantSchemaOptions): Promise<AlipayConfig> {
  const alipay = objectAt(value, 'alipay', [
    'appId',
    'sellerId',
    'alipayPublicKey',
    'signType',
    'appPrivateKey',
    'gatewayUrl',
  ])
  const appId = providerIdAt(alipay.appId, 'alipay.appId')
  const sellerId = providerIdAt(alipay.sellerId, 'alipay.sellerId')
  const keyPath = 'alipay.alipayPublicKey'
  const alipayPublicKey = await publicKeyPemAt(stringAt(alipay.alipayPublicKey, keyPath), keyPath)
  let signType: AlipaySignType = 'RSA2'
  if (alipay.signType !== undefined) {
    if (!ALIPAY_SIGN_TYPES.includes(alipay.signType as AlipaySignType)) {
      fail('alipay.signType', 'must be "RSA2" or "RSA"')
    }
    signType = alipay.signType as AlipaySignType
  }
  const minBits = signType === 'RSA2' ? MIN_RSA2_BITS : MIN_LEGACY_RSA_BITS
  const appPrivateKey =
    alipay.appPrivateKey === undefined
      ? undefined
      : await privateKeyPemAt(alipay.appPrivateKey, 'alipay.appPrivateKey', minBits)
  const gatewayUrl =
    alipay.gatewayUrl === undefined ? undefined : providerUrlAt(alipay.gatewayUrl, 'alipay.gatewayUrl', options)
  return {
    appId,
    sellerId,
    alipayPublicKey,
    signType,
    ...(appPrivateKey === undefined ? {} : { appPrivateKey }),
    ...(gatewayUrl === undefined ? {} : { gatewayUrl }),
  }
}

/** Validates a PUT body; throws `AdminError('invalid_request', '<field path>: <problem>')`. */
export async function parseMerchantInput(body: unknown, options: MerchantSchemaOptions): Promise<MerchantInput> {
  const merchant = objectAt(body, 'body', ['forward', 'wechatpay', 'alipay', 'requireRegisteredOrders'], '')
  const forward = parseForward(merchant.forward, options)
  if (merchant.wechatpay === undefined && merchant.alipay === undefined) {
    fail('body', 'at least one of wechatpay, alipay is required')
  }
  const { requireRegisteredOrders } = merchant
  if (requireRegisteredOrders !== undefined && typeof requireRegisteredOrders !== 'boolean') {
    fail('requireRegisteredOrders', 'must be true or false')
  }
  return {
    forward,
    ...(requireRegisteredOrders === true ? { requireRegisteredOrders } : {}),
    ...(merchant.wechatpay === undefined ? {} : { wechatpay: await parseWechatpay(merchant.wechatpay, options) }),
    ...(merchant.alipay === undefined ? {} : { alipay: await parseAlipay(merchant.alipay, options) }),
  }
}
