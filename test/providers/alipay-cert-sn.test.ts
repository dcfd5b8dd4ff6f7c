/**
 * Alipay certificate serial numbers computed by paygate (DER read in workerd, MD5 by crypto.subtle) against
 * alipay-sdk's own computation on the same certificates (test/fixtures/signers/alipay.mjs, `certificateSerials`).
 */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { readCertificate } from '../../src/crypto/certificate'
import { readPem } from '../../src/crypto/encoding'
import { alipayCertificate, alipayRootCertificates, CertificateSnError } from '../../src/providers/alipay/cert-sn'

const { certMode } = keys.alipay
const sdk = fixtures.certMode

function expiryOf(pem: string): string {
  return new Date(new X509Certificate(pem).validTo).toISOString()
}

describe('Alipay certificate serial numbers', () => {
  it('app_cert_sn and alipay_cert_sn equal what alipay-sdk computes from the same certificates', async () => {
    expect((await alipayCertificate(certMode.appCert.certificatePem)).sn).toBe(sdk.appCertSn)
    expect((await alipayCertificate(certMode.alipayCert.certificatePem)).sn).toBe(sdk.alipayCertSn)
    expect((await alipayCertificate(certMode.otherAlipayCert.certificatePem)).sn).toBe(sdk.otherAlipayCertSn)
  })

  it('alipay_root_cert_sn joins the RSA-signed roots with _, leaving the EC one out, as alipay-sdk does', async () => {
    const root = await alipayRootCertificates(certMode.rootCertPem)
    expect(root.sn).toBe(sdk.alipayRootCertSn)
    expect(root.sn.split('_')).toHaveLength(2)
    expect(root.certificates.map((c) => c.sn === null)).toEqual([false, true, false])
  })

  it('reads the serial and expiry node:crypto reads', async () => {
    const pem = certMode.alipayCert.certificatePem
    const certificate = await alipayCertificate(pem)
    const x509 = new X509Certificate(pem)
    expect(certificate.serialNumber).toBe(x509.serialNumber.toUpperCase())
    expect(certificate.expiresAt).toBe(expiryOf(pem))
    // 16-byte serials: their decimal form is far beyond 2^53, so it must be computed exactly.
    expect(BigInt(`0x${certificate.serialNumber}`) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true)
  })

  it('reads every certificate of the root file with its issuer in certificate order', () => {
    const [first] = certMode.rootCertPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!
    const fields = readCertificate(readPem(first!).der)
    expect(fields.issuer.map((a) => a.value)).toEqual([
      'CN',
      'Ant Financial',
      'Certification Authority',
      'Ant Financial Certification Authority R1',
    ])
    expect(fields.signatureAlgorithm).toBe('1.2.840.113549.1.1.11')
  })

  it('refuses what is not one certificate, or has no RSA-signed root', async () => {
    await expect(alipayCertificate(certMode.rootCertPem)).rejects.toThrow(new CertificateSnError('must hold exactly one PEM certificate'))
    await expect(alipayCertificate(certMode.alipayCert.privateKeyPem)).rejects.toBeInstanceOf(CertificateSnError)
    const ecOnly = certMode.rootCertPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)![1]!
    await expect(alipayRootCertificates(ecOnly)).rejects.toThrow('has no RSA-signed certificate, so no alipay_root_cert_sn')
    const damaged = certMode.alipayCert.certificatePem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA')
    await expect(alipayCertificate(damaged)).rejects.toBeInstanceOf(CertificateSnError)
  })
})
