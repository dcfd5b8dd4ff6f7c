import { afterEach, describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { fromBase64, readPem, toBase64 } from '../../src/crypto/encoding'
import { KeyBytesByText, rsaPublicKey } from '../../src/crypto/keys'
import { signWebhook } from '../../src/delivery/sign'
import { v2Sign } from '../../src/providers/wechatpay/v2-sign'
import { rsaVerify } from '../../src/crypto/primitives'
import { cachedSpkiFromPublicKeyText } from '../../src/crypto/x509'
import { createSign } from 'node:crypto'

describe('RSA verification keys remembered by their SPKI bytes', () => {
  it('hands back the same imported key for the same configured key, per hash', async () => {
    const spki = cachedSpkiFromPublicKeyText(keys.alipay.alipayKey.publicKeyPem)
    const first = await rsaPublicKey(spki, 'SHA-256')
    await Promise.resolve()
    expect(await rsaPublicKey(spki, 'SHA-256')).toBe(first)
    expect(await rsaPublicKey(cachedSpkiFromPublicKeyText(keys.alipay.alipayKey.publicKeyPem), 'SHA-256')).toBe(first)
    const sha1 = await rsaPublicKey(spki, 'SHA-1')
    expect(sha1).not.toBe(first)
    expect((sha1.algorithm as { hash: { name: string } }).hash.name).toBe('SHA-1')
  })

  it('finds the same key through the fingerprint for a fresh copy of the bytes', async () => {
    const spki = cachedSpkiFromPublicKeyText(keys.wechatpay.publicKeyMode.publicKeyPem)
    const key = await rsaPublicKey(spki, 'SHA-256')
    expect(await rsaPublicKey(spki.slice(), 'SHA-256')).toBe(key)
  })

  it('verifies with the remembered key, and a wrong signature still fails', async () => {
    const spki = cachedSpkiFromPublicKeyText(keys.alipay.alipayKey.publicKeyPem)
    const data = new TextEncoder().encode('a=1&b=2') as Uint8Array<ArrayBuffer>
    const signature = createSign('RSA-SHA256').update(data).sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
    expect(await rsaVerify(spki, 'SHA-256', signature, data)).toBe(true)
    expect(await rsaVerify(spki, 'SHA-256', signature, data)).toBe(true)
    expect(await rsaVerify(spki, 'SHA-256', signature, new TextEncoder().encode('a=1&b=3') as Uint8Array<ArrayBuffer>)).toBe(false)
  })
})

describe('key bytes of secrets held as text', () => {
  afterEach(() => vi.restoreAllMocks())

  it('are decoded once per text and shared, within a bound', () => {
    let decoded = 0
    const cache = new KeyBytesByText((text) => {
      decoded += 1
      return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>
    }, 2)
    const first = cache.of('alpha')
    expect(cache.of('alpha')).toBe(first)
    cache.of('beta')
    cache.of('gamma')
    expect(decoded).toBe(3)
    expect(cache.of('alpha')).not.toBe(first)
    expect(decoded).toBe(4)
  })

  it('are held 30 s: a secret rotated out leaves at the next lookup of any other', () => {
    let decoded = 0
    const cache = new KeyBytesByText((text) => {
      decoded += 1
      return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>
    })
    const first = cache.of('secret', 1_000)
    expect(cache.of('secret', 30_999)).toBe(first)
    expect(cache.of('secret', 31_000)).not.toBe(first)
    expect(decoded).toBe(2)
    cache.of('rotated-out', 40_000)
    expect(cache.size).toBe(2)
    // Only the new secret is asked for from now on: the old one is gone all the same.
    cache.of('secret', 70_000)
    expect(cache.size).toBe(1)
  })

  it('let a delivery signed again, and a v2 HMAC sign made again, skip fingerprinting their key', async () => {
    const secret = `whsec_${btoa('key-bytes-cache-secret-32-bytes!')}`
    const first = await signWebhook({ id: 'evt_1', timestamp: 1_700_000_000, body: '{}', secrets: [secret] })
    await v2Sign('a=1&b=2', 'v2-key-bytes-cache-0123456789abc', 'HMAC-SHA256')
    const digest = vi.spyOn(crypto.subtle, 'digest')
    const again = await signWebhook({ id: 'evt_1', timestamp: 1_700_000_000, body: '{}', secrets: [secret] })
    await v2Sign('a=1&b=3', 'v2-key-bytes-cache-0123456789abc', 'HMAC-SHA256')
    expect(again).toEqual(first)
    expect(digest).not.toHaveBeenCalled()
  })
})

describe('base64 decoding', () => {
  it('gives the bytes atob gives for canonical base64 of every length', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + length * 7) & 0xff)
      const text = toBase64(bytes)
      expect(Array.from(fromBase64(text)), text).toEqual(Array.from(atob(text), (c) => c.charCodeAt(0)))
    }
    const der = readPem(keys.alipay.alipayKey.publicKeyPem).der
    expect(Array.from(fromBase64(toBase64(der)))).toEqual(Array.from(der))
  })

  it('still refuses what is not canonical base64', () => {
    for (const text of ['YQ', 'YQ=', 'Y Q==', 'YQ==\n', 'YQ-_', 'YWJj\tZA==', '====']) {
      expect(() => fromBase64(text), JSON.stringify(text)).toThrow(RangeError)
    }
  })
})
