/**
 * @module Alipay's certificate serial numbers (公钥证书模式): `app_cert_sn` and `alipay_cert_sn` are the MD5 (hex)
 * of the issuer's name, attributes last to first as `CN=…,OU=…,O=…,C=…`, followed by the serial number in decimal;
 * `alipay_root_cert_sn` joins those of the RSA-signed certificates of the root file with `_` (as alipay-sdk's
 * `getSN` and the Java SDK's `AntCertificationUtil` compute them).
 * @see https://opendocs.alipay.com/common/056zub (public-key certificate mode)
 */
import { certificatesInPem, readCertificate, type CertificateFields } from '../../crypto/certificate'
import { toHex, utf8 } from '../../crypto/encoding'
import { md5 } from '../../crypto/primitives'

/** The attribute names the SDKs write; an issuer with any other attribute has no agreed serial number. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
}
/** sha1WithRSAEncryption, sha256WithRSAEncryption, …: the SDKs keep root certificates whose OID starts so. */
const RSA_SIGNATURE_PREFIX = '1.2.840.113549.1.1'

export interface AlipayCertificate {
  /** Alipay's serial number of the certificate (32 lowercase hex). */
  sn: string
  /** The X.509 serial number, uppercase hex. */
  serialNumber: string
  expiresAt: string
}

/** A certificate of the root file; `sn` is null for one the root serial number leaves out (not RSA-signed). */
export interface AlipayRootCertificate extends Omit<AlipayCertificate, 'sn'> {
  sn: string | null
}

/** Thrown for a certificate whose Alipay serial number cannot be computed; the message says why. */
export class CertificateSnError extends Error {
  override readonly name = 'CertificateSnError'
}

async function snOf(certificate: CertificateFields): Promise<string> {
  const issuer = [...certificate.issuer].reverse().map(({ oid, value }) => {
    const name = SHORT_NAMES[oid]
    if (name === undefined) throw new CertificateSnError(`issuer attribute ${oid} is not one Alipay's serial number covers`)
    return `${name}=${value}`
  })
  const serial = BigInt(`0x${toHex(certificate.serialNumber) || '0'}`).toString(10)
  return toHex(await md5(utf8(`${issuer.join(',')}${serial}`)))
}

function describe(certificate: CertificateFields, sn: string): AlipayCertificate {
  return { sn, serialNumber: toHex(certificate.serialNumber).toUpperCase(), expiresAt: certificate.notAfter.toISOString() }
}

function read(der: Uint8Array<ArrayBuffer>): CertificateFields {
  try {
    return readCertificate(der)
  } catch (error) {
    throw new CertificateSnError(error instanceof RangeError ? error.message : 'certificate could not be read')
  }
}

/** The one certificate of a PEM text (the app's or Alipay's public-key certificate). */
export async function alipayCertificate(pem: string): Promise<AlipayCertificate> {
  const blocks = certificatesInPem(pem)
  if (blocks.length !== 1) throw new CertificateSnError('must hold exactly one PEM certificate')
  const certificate = read(blocks[0]!)
  return describe(certificate, await snOf(certificate))
}

/** The root certificate file: every certificate in it, and `alipay_root_cert_sn` from its RSA-signed ones. */
export async function alipayRootCertificates(pem: string): Promise<{ sn: string; certificates: AlipayRootCertificate[] }> {
  const blocks = certificatesInPem(pem)
  if (blocks.length === 0) throw new CertificateSnError('must hold at least one PEM certificate')
  const certificates: AlipayRootCertificate[] = []
  const sns: string[] = []
  for (const der of blocks) {
    const certificate = read(der)
    if (!certificate.signatureAlgorithm.startsWith(RSA_SIGNATURE_PREFIX)) {
      certificates.push({ ...describe(certificate, ''), sn: null })
      continue
    }
    const sn = await snOf(certificate)
    sns.push(sn)
    certificates.push(describe(certificate, sn))
  }
  if (sns.length === 0) throw new CertificateSnError('has no RSA-signed certificate, so no alipay_root_cert_sn')
  return { sn: sns.join('_'), certificates }
}
