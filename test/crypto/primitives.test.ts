import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import { concatBytes, fromBase64, readPem, toBase64, toHex, toPem, utf8 } from '../../src/crypto/encoding'
import { aesEcbDecrypt } from '../../src/crypto/aes-ecb'
import { hmacSha256, md5, rsaVerify, timingSafeEqual } from '../../src/crypto/primitives'
import { open, readMasterKey, seal } from '../../src/crypto/sealed'
import { X509Certificate } from 'node:crypto'
import { certificatesInPem } from '../../src/crypto/certificate'
import { certificateExpiry, certificateSerial, spkiFromPublicKeyText } from '../../src/crypto/x509'

// WeChat Pay's published APIv2 signing example (protocols.md §1.3, chapter=4_3).
const WECHAT_V2_EXAMPLE = {
  key: '192006250b4c09247ec02edce69f6a2d',
  stringSignTemp:
    'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d',
  md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
  hmac: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
}

describe('crypto primitives in workerd', () => {
  it('reproduces WeChat Pay v2 published MD5 and HMAC-SHA256 signatures', async () => {
    expect(toHex(await md5(utf8(WECHAT_V2_EXAMPLE.stringSignTemp))).toUpperCase()).toBe(WECHAT_V2_EXAMPLE.md5)
    expect(toHex(await hmacSha256(utf8(WECHAT_V2_EXAMPLE.key), utf8(WECHAT_V2_EXAMPLE.stringSignTemp))).toUpperCase()).toBe(
      WECHAT_V2_EXAMPLE.hmac,
    )
  })

  it('compares in constant time and treats different lengths as unequal', () => {
    expect(timingSafeEqual(utf8('abc'), utf8('abc'))).toBe(true)
    expect(timingSafeEqual(utf8('abc'), utf8('abd'))).toBe(false)
    expect(timingSafeEqual(utf8('abc'), utf8('abcd'))).toBe(false)
  })

  it('reads a public key from SPKI PEM, bare base64 and an X.509 certificate alike', () => {
    const fromPem = spkiFromPublicKeyText(keys.wechatpay.platformCertA.publicKeyPem)
    const fromCert = spkiFromPublicKeyText(keys.wechatpay.platformCertA.certificatePem)
    const bare = keys.alipay.alipayKey.publicKeyPem.replace(/-----[^-]+-----|\s/g, '')
    expect(toBase64(fromCert)).toBe(toBase64(fromPem))
    expect(toBase64(spkiFromPublicKeyText(bare))).toBe(toBase64(readPem(keys.alipay.alipayKey.publicKeyPem).der))
    expect(certificateSerial(keys.wechatpay.platformCertA.certificatePem)).toBe(keys.wechatpay.platformCertA.serial)
    expect(() => spkiFromPublicKeyText(keys.stranger.privateKeyPem)).toThrow(/PUBLIC KEY or CERTIFICATE/)
    expect(() => spkiFromPublicKeyText('not a key')).toThrow(RangeError)
  })

  it("reads every fixture certificate's serial, expiry and public key as node:crypto's X509Certificate does", () => {
    const { platformCertA, platformCertB, platformCertC } = keys.wechatpay
    const { alipayCert, otherAlipayCert, appCert } = keys.alipay.certMode
    const pems = [platformCertA, platformCertB, platformCertC, alipayCert, otherAlipayCert, appCert].map((c) => c.certificatePem)
    for (const pem of [...pems, ...certificatesInPem(keys.alipay.certMode.rootCertPem).map((der) => toPem('CERTIFICATE', der))]) {
      const node = new X509Certificate(pem)
      expect(certificateSerial(pem)).toBe(node.serialNumber.toUpperCase())
      expect(certificateExpiry(pem)).toBe(new Date(node.validTo).toISOString())
      if (node.publicKey.asymmetricKeyType === 'rsa')
        expect(toBase64(spkiFromPublicKeyText(pem))).toBe(toBase64(node.publicKey.export({ type: 'spki', format: 'der' })))
    }
  })

  it("reads a certificate's serial, expiry and key whatever string type its names use, and refuses a serial not above zero", () => {
    // A fixture certificate rewritten (its signature no longer matters: neither reader checks it), compared with
    // node:crypto's reading of the same bytes.
    const der = readPem(keys.wechatpay.platformCertA.certificatePem).der
    const [tbs, ...rest] = derChildren(derChildren(der)[0]!.body)
    const fields = derChildren(tbs!.body)
    const at = fields[0]!.tag === 0xa0 ? 1 : 0
    const rebuilt = (changed: DerNode[]) =>
      toPem('CERTIFICATE', derEncode(0x30, [derEncode(0x30, changed.map(derBytes)), ...rest.map(derBytes)]))
    // Every PrintableString of the issuer and subject as NumericString, VisibleString or UniversalString.
    for (const [tag, encode] of [
      [0x12, (text: string) => new TextEncoder().encode(text)],
      [0x1a, (text: string) => new TextEncoder().encode(text)],
      [0x1c, (text: string) => Uint8Array.from([...text].flatMap((c) => [0, 0, 0, c.charCodeAt(0)]))],
    ] as const) {
      const retyped = (name: DerNode): DerNode => ({
        tag: name.tag,
        body: concatBytes(
          ...derChildren(name.body).map((set) =>
            derEncode(
              set.tag,
              derChildren(set.body).map((attribute) => {
                const [type, value] = derChildren(attribute.body)
                const text = new TextDecoder('latin1').decode(value!.body)
                return derEncode(attribute.tag, [derBytes(type!), value!.tag === 0x13 ? derEncode(tag, [encode(text)]) : derBytes(value!)])
              }),
            ),
          ),
        ),
      })
      const pem = rebuilt(fields.map((field, i) => (i === at + 2 || i === at + 4 ? retyped(field) : field)))
      const node = new X509Certificate(pem)
      expect(certificateSerial(pem)).toBe(node.serialNumber.toUpperCase())
      expect(certificateExpiry(pem)).toBe(new Date(node.validTo).toISOString())
      expect(toBase64(spkiFromPublicKeyText(pem))).toBe(toBase64(node.publicKey.export({ type: 'spki', format: 'der' })))
    }
    const withSerial = (serial: number[]) =>
      rebuilt(fields.map((field, i) => (i === at ? { tag: 0x02, body: Uint8Array.from(serial) } : field)))
    expect(certificateSerial(withSerial([0x00, 0x80]))).toBe(new X509Certificate(withSerial([0x00, 0x80])).serialNumber.toUpperCase())
    for (const serial of [[0x00], [0x80], [0xfb]]) expect(() => certificateSerial(withSerial(serial))).toThrow('not a positive number')
  })

  it('refuses an EC certificate or public key: both providers sign with RSA only', () => {
    // A throwaway P-256 certificate made with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1`.
    const ecCertificate = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUegAwIBAgIUeX3HKWllLFquNhBoa367AUFsOqIwCgYIKoZIzj0EAwIw
JjEkMCIGA1UEAwwbcGF5Z2F0ZSB0ZXN0IEVDIGNlcnRpZmljYXRlMB4XDTI2MTEz
MDIwMjQ0OVoXDTM2MTEyNzIwMjQ0OVowJjEkMCIGA1UEAwwbcGF5Z2F0ZSB0ZXN0
IEVDIGNlcnRpZmljYXRlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGZ0HlM6g
xPGyiFnZMF39zED7pkjhR+r83aWzN0UkrjyOB0pyGC8RMSzD8GLbhHti+le6q9NR
QGyGqaAIZX5Zm6NTMFEwHQYDVR0OBBYEFCo5NQpNYGBeCKdSY2f9YSoC7JuOMB8G
A1UdIwQYMBaAFCo5NQpNYGBeCKdSY2f9YSoC7JuOMA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDRwAwRAIgdwUQIs6Dh/86jviMJoPcS5ZwCJtXcl9+gIjFO2aA
cfICIAgB+RlwWAi9EAKt5QaQr1LgV/wt7/QRAiBFu8g3YgyP
-----END CERTIFICATE-----`
    const ecPublicKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGZ0HlM6gxPGyiFnZMF39zED7pkjh
R+r83aWzN0UkrjyOB0pyGC8RMSzD8GLbhHti+le6q9NRQGyGqaAIZX5Zmw==
-----END PUBLIC KEY-----`
    expect(() => spkiFromPublicKeyText(ecCertificate)).toThrow('is not an RSA certificate')
    expect(() => spkiFromPublicKeyText(ecPublicKey)).toThrow('is not an RSA public key')
    // RSA keys of every size in the fixtures still read (their SPKI headers differ in length).
    for (const pem of [
      keys.wechatpay.platformCertA.publicKeyPem,
      keys.alipay.alipayKey.publicKeyPem,
      keys.wechatpay.publicKeyMode.publicKeyPem,
    ])
      expect(spkiFromPublicKeyText(pem).length).toBeGreaterThan(100)
  })

  it('treats a signature that is not base64 as invalid rather than throwing', async () => {
    const spki = spkiFromPublicKeyText(keys.stranger.publicKeyPem)
    expect(await rsaVerify(spki, 'SHA-256', 'WECHATPAY/SIGNTEST/abc', utf8('x'))).toBe(false)
  })

  it('decrypts AES-256-ECB and fails on a wrong key', () => {
    // "hello" under key "0123456789abcdef0123456789abcdef", made with node:crypto:
    // createCipheriv('aes-256-ecb', key, null).update('hello') + final() → base64.
    const key = utf8('0123456789abcdef0123456789abcdef')
    const sealed = fromBase64('pZwJZBLuy3mDACEQT4YTBw==')
    expect(new TextDecoder().decode(aesEcbDecrypt(key, sealed))).toBe('hello')
    expect(() => aesEcbDecrypt(utf8('fedcba9876543210fedcba9876543210'), sealed)).toThrow()
  })

  it('seals secrets under the master key, bound to their owner', async () => {
    const master = readMasterKey(toBase64(utf8('k'.repeat(32))))
    const sealed = await seal(master, 'acme', 'whsec_secret')
    expect(sealed).not.toContain('whsec')
    expect(await open(master, 'acme', sealed)).toBe('whsec_secret')
    await expect(open(master, 'other', sealed)).rejects.toThrow()
    expect(() => readMasterKey('c2hvcnQ=')).toThrow(/32 bytes/)
  })
})

interface DerNode {
  tag: number
  body: Uint8Array
}

/** The elements inside DER content: a test's own walker, so certificates can be rewritten. */
function derChildren(body: Uint8Array): DerNode[] {
  const out: DerNode[] = []
  for (let offset = 0; offset < body.length; ) {
    const tag = body[offset]!
    let length = body[offset + 1]!
    let start = offset + 2
    if (length & 0x80) {
      const count = length & 0x7f
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + body[start + i]!
      start += count
    }
    out.push({ tag, body: body.subarray(start, start + length) })
    offset = start + length
  }
  return out
}

function derEncode(tag: number, parts: Uint8Array[]): Uint8Array {
  const body = concatBytes(...parts)
  const length =
    body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff]
  return concatBytes(Uint8Array.of(tag, ...length), body)
}

const derBytes = (node: DerNode): Uint8Array => derEncode(node.tag, [node.body])
