/**
 * @module Alipay's verification keys, several at once while Alipay renews its certificate (证书更新) or the merchant
 * switches keys: `alipayPublicKey` is one key or a list, `alipayPublicCert` one PEM certificate or several. Read
 * when the merchant is saved (each key proven usable, each certificate's serial number computed) and when a
 * notification or an OpenAPI answer is verified (every key, or the certificate an answer names).
 */
import { certificatesInPem, readCertificate, type NameAttribute } from '../../crypto/certificate'
import { toPem } from '../../crypto/encoding'
import type { Bytes } from '../../crypto/primitives'
import { cachedSpkiFromPublicKeyText, cachedSpkisOfCertificates } from '../../crypto/x509'
import { fail, stringAt } from '../../lib/validation'
import { distinctAt, idsOf, listAt, publicKeyPemAt } from '../core/config-fields'
import { refuse } from '../core/rejection'
import { alipayCertificate, CertificateSnError, type AlipayCertificate } from './cert-sn'
import type { AlipayCertificates, AlipayConfig } from './config'

/** The old key and the next one are two; a few more leave room, and bound what a forged notification costs. */
export const MAX_ALIPAY_KEYS = 5

/** Alipay's key or keys (public-key mode): one text, or a list of distinct ones, each as SPKI `PUBLIC KEY` PEM. */
export async function alipayPublicKeysAt(value: unknown, path: string): Promise<string | string[]> {
  const list = listAt(value, path, MAX_ALIPAY_KEYS, 'keys')
  if (list === null) return publicKeyPemAt(stringAt(value, path), path)
  const pems: string[] = []
  for (const [index, item] of list.entries()) pems.push(await publicKeyPemAt(stringAt(item, `${path}[${index}]`), `${path}[${index}]`))
  return distinctAt(pems, path)
}

function sameName(a: readonly NameAttribute[], b: readonly NameAttribute[]): boolean {
  return a.length === b.length && a.every((attribute, i) => attribute.oid === b[i]!.oid && attribute.value === b[i]!.value)
}

/** Whether the certificate names itself as its issuer (a root); one whose subject cannot be read is not. */
function isSelfIssued(der: Bytes): boolean {
  try {
    const { issuer, subject } = readCertificate(der)
    return sameName(issuer, subject)
  } catch {
    return false
  }
}

/**
 * Every certificate of `alipayPublicCert` (certificate mode), in order: each one Alipay's RSA certificate with a
 * serial number, none a root (those belong in `alipayRootCert`), none twice.
 */
export async function alipayPublicCertificatesAt(pem: string, path: string): Promise<AlipayCertificate[]> {
  const blocks = certificatesInPem(pem)
  if (blocks.length === 0) fail(path, 'must hold at least one PEM certificate')
  if (blocks.length > MAX_ALIPAY_KEYS) fail(path, `must hold at most ${MAX_ALIPAY_KEYS} certificates`)
  const problem = (index: number, message: string) => fail(path, blocks.length === 1 ? message : `certificate ${index + 1} ${message}`)
  const certificates: AlipayCertificate[] = []
  for (const [index, der] of blocks.entries()) {
    const block = toPem('CERTIFICATE', der)
    let info: AlipayCertificate
    try {
      info = await alipayCertificate(block)
    } catch (error) {
      return problem(index, error instanceof CertificateSnError ? error.message : 'is not a PEM certificate')
    }
    if (isSelfIssued(der)) problem(index, 'is a root certificate: it belongs in alipayRootCert')
    try {
      // Proves the certificate holds an RSA key WebCrypto verifies with.
      await publicKeyPemAt(block, path)
    } catch {
      problem(index, 'is not an RSA certificate WebCrypto verifies with')
    }
    if (certificates.some((known) => known.sn === info.sn)) problem(index, 'is there twice')
    certificates.push(info)
  }
  return certificates
}

/** Every certificate of `alipayPublicCert`; a config saved with one certificate only knows `alipayPublicCert`. */
export function alipayPublicCertsOf(certificates: AlipayCertificates): readonly AlipayCertificate[] {
  return certificates.alipayPublicCerts ?? [certificates.alipayPublicCert]
}

export interface AlipayVerificationKey {
  spki: Bytes
  /** Certificate mode: the certificate's Alipay serial number, which an answer's `alipay_cert_sn` names. */
  sn: string | null
}

/**
 * Every key the merchant trusts, in the order configured: each key of `alipayPublicKey`, or the key of each
 * certificate of `alipayPublicCert` with its serial number. An unusable one is a configuration problem.
 */
export function alipayVerificationKeys(config: AlipayConfig): AlipayVerificationKey[] {
  try {
    const { alipayPublicCert, alipayPublicKey, certificates } = config
    if (alipayPublicCert !== undefined) {
      const sns = certificates === undefined ? [] : alipayPublicCertsOf(certificates).map((certificate) => certificate.sn)
      return cachedSpkisOfCertificates(alipayPublicCert).map((spki, index) => ({ spki, sn: sns[index] ?? null }))
    }
    if (alipayPublicKey === undefined) throw new RangeError('no alipay key configured')
    return idsOf(alipayPublicKey).map((text) => ({ spki: cachedSpkiFromPublicKeyText(text), sn: null }))
  } catch {
    return refuse('channel_not_configured', 'alipay public key is not usable')
  }
}

/**
 * Whether a signature verifies under any of the merchant's keys (`verify` checks it under one). An unusable key is a
 * configuration problem (`channel_not_configured`; a query's `asQuery` reads it as `not_configured`).
 */
export async function verifiesUnderAny(
  keys: readonly AlipayVerificationKey[],
  verify: (spki: Bytes) => Promise<boolean>,
): Promise<boolean> {
  for (const { spki } of keys) {
    let valid: boolean
    try {
      valid = await verify(spki)
    } catch {
      // Verification only throws when the key itself cannot be imported.
      return refuse('channel_not_configured', 'alipay public key is not a usable RSA key')
    }
    if (valid) return true
  }
  return false
}
