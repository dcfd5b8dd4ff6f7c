/**
 * @module A merchant's Alipay section: its shape, the admin API's validation of it, which fields are
 * secrets, and the redacted view GET shows.
 */
import { definedOnly, privateKeyPemAt, providerIdAt, providerUrlAt, publicKeyPemAt, type ConfigContext } from '../core/config-fields'
import type { ConfigSection } from '../core/descriptor'
import { alipaySchema } from './config-schema'
import { fail, objectAt, stringAt } from '../../lib/validation'

export type AlipaySignType = 'RSA2' | 'RSA'

export interface AlipayConfig {
  appId: string
  sellerId: string
  /** Alipay's public key as SPKI `PUBLIC KEY` PEM (bare base64 is converted when saved). */
  alipayPublicKey: string
  signType: AlipaySignType
  /** The app private key (PKCS#8 `PRIVATE KEY` PEM once saved): signs OpenAPI requests such as `alipay.trade.query`. */
  appPrivateKey?: string
  /** The OpenAPI gateway endpoint; absent means `ALIPAY_GATEWAY_URL`. The sandbox, or a local stand-in in development. */
  gatewayUrl?: string
}

export const ALIPAY_GATEWAY_URL = 'https://openapi.alipay.com/gateway.do'

const SIGN_TYPES: readonly AlipaySignType[] = ['RSA2', 'RSA']
// RSA2 keys are RSA-2048 at least; legacy RSA (SHA-1) keys are 1024.
const MIN_BITS: Readonly<Record<AlipaySignType, number>> = { RSA2: 2048, RSA: 1024 }
const FIELDS = Object.keys(alipaySchema.shape)

async function parseAlipay(value: unknown, context: ConfigContext): Promise<AlipayConfig> {
  const alipay = objectAt(value, 'alipay', FIELDS)
  const appId = providerIdAt(alipay.appId, 'alipay.appId')
  const sellerId = providerIdAt(alipay.sellerId, 'alipay.sellerId')
  const keyPath = 'alipay.alipayPublicKey'
  const alipayPublicKey = await publicKeyPemAt(stringAt(alipay.alipayPublicKey, keyPath), keyPath)
  let signType: AlipaySignType = 'RSA2'
  if (alipay.signType !== undefined) {
    if (!SIGN_TYPES.includes(alipay.signType as AlipaySignType)) fail('alipay.signType', 'must be "RSA2" or "RSA"')
    signType = alipay.signType as AlipaySignType
  }
  const appPrivateKey =
    alipay.appPrivateKey === undefined ? undefined : await privateKeyPemAt(alipay.appPrivateKey, 'alipay.appPrivateKey', MIN_BITS[signType])
  const gatewayUrl = alipay.gatewayUrl === undefined ? undefined : providerUrlAt(alipay.gatewayUrl, 'alipay.gatewayUrl', context)
  return { appId, sellerId, alipayPublicKey, signType, ...definedOnly({ appPrivateKey, gatewayUrl }) }
}

/** GET shows the section without `appPrivateKey`. */
function publicView(alipay: AlipayConfig): Record<string, unknown> {
  const { appId, sellerId, alipayPublicKey, signType, gatewayUrl } = alipay
  return { appId, sellerId, alipayPublicKey, signType, ...definedOnly({ gatewayUrl }) }
}

/** The stored section is the PUT body's shape (keys already normalized to PEM). */
function inputView(alipay: AlipayConfig): Record<string, unknown> {
  return { ...alipay }
}

export const alipaySection: ConfigSection<AlipayConfig> = {
  schema: alipaySchema,
  parse: parseAlipay,
  secretFields: ['appPrivateKey'],
  publicView,
  inputView,
}
