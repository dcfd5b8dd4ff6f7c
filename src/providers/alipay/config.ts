/**
 * @module A merchant's Alipay section: its shape, the admin API's validation of it, which fields are
 * secrets, and the redacted view GET shows. Public-key mode or certificate mode (公钥证书), one app or
 * several, and third-party (ISV) apps.
 */
import { nonCertificateContent } from '../../crypto/certificate'
import { spkiFromPublicKeyText } from '../../crypto/x509'
import { fail, objectAt, stringAt, ValidationError, type JsonObject } from '../../lib/validation'
import {
  definedOnly,
  idsView,
  privateKeyPemAt,
  providerIdsAt,
  providerUrlAt,
  type ConfigContext,
  type ProviderIds,
} from '../core/config-fields'
import type { ConfigSection, SectionCertificate } from '../core/descriptor'
import {
  alipayCertificate,
  alipayRootCertificates,
  CertificateSnError,
  type AlipayCertificate,
  type AlipayRootCertificate,
} from './cert-sn'
import { alipayViewOnly, alipaySchema } from './config-schema'
import { alipayPublicCertificatesAt, alipayPublicCertsOf, alipayPublicKeysAt } from './verification-keys'

export type AlipaySignType = 'RSA2' | 'RSA'

/** What certificate mode derives from the certificates when the merchant is saved: serial numbers and expiry. */
export interface AlipayCertificates {
  /** The first certificate of `alipayPublicCert`. */
  alipayPublicCert: AlipayCertificate
  /** Every certificate of `alipayPublicCert`, in order; absent from configs saved when it held only one. */
  alipayPublicCerts?: AlipayCertificate[]
  appCert?: AlipayCertificate
  alipayRootCert?: { sn: string; certificates: AlipayRootCertificate[] }
}

export interface AlipayConfig {
  /** The merchant's apps (`app_id`): one or a list, as saved. The first one sends order queries. */
  appId: ProviderIds
  /** The seller (`seller_id`, 2088…) the payments go to: one or a list; absent means not checked. */
  sellerId?: ProviderIds
  /**
   * Alipay's public key as SPKI `PUBLIC KEY` PEM (bare base64 is converted when saved), or a list of keys while
   * Alipay's key changes: each one verifies. Public-key mode.
   */
  alipayPublicKey?: string | readonly string[]
  /**
   * Alipay's public-key certificate (PEM): certificate mode, in place of `alipayPublicKey`. While Alipay renews it,
   * several certificates one after the other (the current and the new one): each one verifies.
   */
  alipayPublicCert?: string
  /** Alipay's root certificate file (PEM, several certificates): `alipay_root_cert_sn` of certificate-mode queries. */
  alipayRootCert?: string
  /** The app's public-key certificate (PEM): `app_cert_sn` of certificate-mode queries. */
  appCert?: string
  /** Serial numbers and expiry of the certificates above, computed when the merchant is saved. */
  certificates?: AlipayCertificates
  /** Third-party (ISV) app: the merchant apps that authorized it (`auth_app_id`), one or a list. */
  authAppId?: ProviderIds
  /** Third-party (ISV) app: the token the merchant's authorization gave it, sent with order queries (a secret). */
  appAuthToken?: string
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
// Certificate files: a root file holds a few certificates of a couple of KiB each.
const MAX_CERTIFICATE_TEXT = 32 * 1024
// `app_auth_token` values are ~40 printable ASCII characters.
const APP_AUTH_TOKEN = /^[\x21-\x7e]{1,128}$/

async function certificateAt<T>(value: unknown, path: string, read: (pem: string) => Promise<T>): Promise<{ pem: string; info: T }> {
  const pem = stringAt(value, path)
  if (pem.length > MAX_CERTIFICATE_TEXT) fail(path, 'is too long for a certificate file')
  // Kept as given and shown by GET, so nothing else may come with it (a bundle exported with its private key).
  const other = nonCertificateContent(pem)
  if (other !== null) fail(path, `holds ${other} besides certificates; give the certificates alone`)
  try {
    return { pem, info: await read(pem) }
  } catch (error) {
    // A reader that names the problem itself (several certificates, each checked) has said it already.
    if (error instanceof ValidationError) throw error
    return fail(path, error instanceof CertificateSnError ? error.message : 'is not a PEM certificate')
  }
}

/** Alipay's public key or keys (public-key mode) or certificates (certificate mode): one mode of the two. */
async function parseVerification(
  alipay: JsonObject,
): Promise<Pick<AlipayConfig, 'alipayPublicKey' | 'alipayPublicCert'> & { certs?: AlipayCertificate[] }> {
  const { alipayPublicKey, alipayPublicCert } = alipay
  if (alipayPublicKey !== undefined && alipayPublicCert !== undefined) {
    fail('alipay.alipayPublicCert', 'use alipayPublicKey (public-key mode) or alipayPublicCert (certificate mode), not both')
  }
  if (alipayPublicCert === undefined) {
    const path = 'alipay.alipayPublicKey'
    if (alipayPublicKey === undefined) fail(path, 'is required')
    return { alipayPublicKey: await alipayPublicKeysAt(alipayPublicKey, path) }
  }
  const path = 'alipay.alipayPublicCert'
  const { pem, info } = await certificateAt(alipayPublicCert, path, (text) => alipayPublicCertificatesAt(text, path))
  return { alipayPublicCert: pem, certs: info }
}

/** The app's certificate and Alipay's root file: both or neither, for certificate mode only. */
async function parseRequestCertificates(alipay: JsonObject, certificateMode: boolean, signsQueries: boolean) {
  const { appCert, alipayRootCert } = alipay
  if (appCert === undefined && alipayRootCert === undefined) {
    if (certificateMode && signsQueries)
      fail('alipay.appCert', 'is required with alipayPublicCert and appPrivateKey (certificate-mode queries)')
    return {}
  }
  if (!certificateMode)
    fail(appCert === undefined ? 'alipay.alipayRootCert' : 'alipay.appCert', 'requires alipayPublicCert (certificate mode)')
  if (appCert === undefined) fail('alipay.appCert', 'is required with alipayRootCert')
  if (alipayRootCert === undefined) fail('alipay.alipayRootCert', 'is required with appCert')
  const app = await certificateAt(appCert, 'alipay.appCert', alipayCertificate)
  try {
    spkiFromPublicKeyText(app.pem)
  } catch {
    fail('alipay.appCert', 'is not an RSA certificate')
  }
  const root = await certificateAt(alipayRootCert, 'alipay.alipayRootCert', alipayRootCertificates)
  return { appCert: app.pem, alipayRootCert: root.pem, app: app.info, root: root.info }
}

function parseAppAuthToken(value: unknown): string | undefined {
  if (value === undefined) return undefined
  const token = stringAt(value, 'alipay.appAuthToken')
  if (!APP_AUTH_TOKEN.test(token)) fail('alipay.appAuthToken', 'must be 1–128 printable ASCII characters')
  return token
}

async function parseAlipay(value: unknown, context: ConfigContext): Promise<AlipayConfig> {
  const alipay = objectAt(value, 'alipay', FIELDS)
  const appId = providerIdsAt(alipay.appId, 'alipay.appId')
  const sellerId = alipay.sellerId === undefined ? undefined : providerIdsAt(alipay.sellerId, 'alipay.sellerId')
  const { certs, ...verification } = await parseVerification(alipay)
  let signType: AlipaySignType = 'RSA2'
  if (alipay.signType !== undefined) {
    if (!SIGN_TYPES.includes(alipay.signType as AlipaySignType)) fail('alipay.signType', 'must be "RSA2" or "RSA"')
    signType = alipay.signType as AlipaySignType
  }
  const appPrivateKey =
    alipay.appPrivateKey === undefined ? undefined : await privateKeyPemAt(alipay.appPrivateKey, 'alipay.appPrivateKey', MIN_BITS[signType])
  const { app, root, ...requestCertificates } = await parseRequestCertificates(alipay, certs !== undefined, appPrivateKey !== undefined)
  const authAppId = alipay.authAppId === undefined ? undefined : providerIdsAt(alipay.authAppId, 'alipay.authAppId')
  const appAuthToken = parseAppAuthToken(alipay.appAuthToken)
  // Queries on an authorizing merchant's behalf, whose notifications name its app: without authAppId every one of
  // them would be refused (auth_app_id is not the merchant's app).
  if (appAuthToken !== undefined && authAppId === undefined) fail('alipay.appAuthToken', 'requires authAppId (ISV mode)')
  const gatewayUrl = alipay.gatewayUrl === undefined ? undefined : providerUrlAt(alipay.gatewayUrl, 'alipay.gatewayUrl', context)
  const certificates: AlipayCertificates | undefined =
    certs === undefined
      ? undefined
      : { alipayPublicCert: certs[0]!, alipayPublicCerts: certs, ...definedOnly({ appCert: app, alipayRootCert: root }) }
  return {
    appId,
    ...definedOnly({ sellerId }),
    ...verification,
    ...requestCertificates,
    ...definedOnly({ certificates, authAppId, appAuthToken }),
    signType,
    ...definedOnly({ appPrivateKey, gatewayUrl }),
  }
}

function certificateView(certificate: { sn: string | null; serialNumber: string; expiresAt: string }) {
  return { sn: certificate.sn, serial_number: certificate.serialNumber, expires_at: certificate.expiresAt }
}

/**
 * Certificate mode: each certificate's Alipay serial number (`sn`), X.509 serial and `expires_at`; every Alipay
 * certificate in `alipayPublicCerts`, the first also in `alipayPublicCert` (where GET showed the only one).
 */
function certificatesView(certificates: AlipayCertificates): Record<string, unknown> {
  const { alipayPublicCert, appCert, alipayRootCert } = certificates
  return {
    alipayPublicCert: certificateView(alipayPublicCert),
    alipayPublicCerts: alipayPublicCertsOf(certificates).map(certificateView),
    ...(appCert === undefined ? {} : { appCert: certificateView(appCert) }),
    ...(alipayRootCert === undefined
      ? {}
      : { alipayRootCert: { sn: alipayRootCert.sn, certificates: alipayRootCert.certificates.map(certificateView) } }),
  }
}

/** GET shows the section without `appPrivateKey` and `appAuthToken`. */
function publicView(alipay: AlipayConfig): Record<string, unknown> {
  const { alipayPublicKey, alipayPublicCert, alipayRootCert, appCert, signType, gatewayUrl } = alipay
  return {
    appId: idsView(alipay.appId),
    ...(alipay.sellerId === undefined ? {} : { sellerId: idsView(alipay.sellerId) }),
    // A list of keys is copied, as a list of ids is: never the stored (frozen) list itself.
    ...(alipayPublicKey === undefined ? {} : { alipayPublicKey: idsView(alipayPublicKey) }),
    ...definedOnly({ alipayPublicCert, alipayRootCert, appCert }),
    ...(alipay.certificates === undefined ? {} : { certificates: certificatesView(alipay.certificates) }),
    ...(alipay.authAppId === undefined ? {} : { authAppId: idsView(alipay.authAppId) }),
    signType,
    ...definedOnly({ gatewayUrl }),
  }
}

/** The stored section is the PUT body's shape (keys already normalized to PEM). */
function inputView(alipay: AlipayConfig): Record<string, unknown> {
  // `certificates` is derived from the certificate files when they are saved: not part of the body.
  const { certificates: _derived, ...body } = alipay
  return body
}

/**
 * The certificate-mode certificates, for the expiry notices (certificate.expiring): the first of `alipayPublicCert`
 * keeps the name it had alone (its notice is not repeated when the next one is added), the others carry their `sn`.
 */
function certificates(alipay: AlipayConfig): SectionCertificate[] {
  const derived = alipay.certificates
  if (derived === undefined) return []
  return [
    ...alipayPublicCertsOf(derived).map((certificate, index) => ({
      name: index === 0 ? 'alipayPublicCert' : `alipayPublicCert.${certificate.sn}`,
      expiresAt: certificate.expiresAt,
    })),
    ...(derived.appCert === undefined ? [] : [{ name: 'appCert', expiresAt: derived.appCert.expiresAt }]),
  ]
}

export const alipaySection: ConfigSection<AlipayConfig> = {
  schema: alipaySchema,
  parse: parseAlipay,
  secretFields: ['appPrivateKey', 'appAuthToken'],
  // The ISV's app_auth_token goes with every order query as a parameter; the private key only signs.
  secretsSentTo: [{ url: 'gatewayUrl', secrets: ['appAuthToken'] }],
  publicView,
  viewOnly: alipayViewOnly,
  inputView,
  certificates,
}
