import { createPrivateKey, createSign, createVerify } from 'node:crypto'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import { readPem, toBase64, toPem } from '../../src/crypto/encoding'
import { ValidationError } from '../../src/lib/validation'
import { parseMerchantInput, type MerchantSchemaOptions } from '../../src/merchants/schema'
import { loadMerchant, saveMerchant } from '../../src/merchants/store'
import { publicView } from '../../src/merchants/public-view'
import { withOwnIds } from '../support/gateway'

const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`
const PRODUCTION: MerchantSchemaOptions = { allowLoopback: false }
const LOCAL: MerchantSchemaOptions = { allowLoopback: true }
const { merchantApi, platformCertA } = keys.wechatpay
const { appKey } = keys.alipay

function wechatpay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: keys.wechatpay.appid,
    mchid: keys.wechatpay.mchid,
    apiV3Key: keys.wechatpay.apiV3Key,
    platformPublicKeys: { [platformCertA.serial]: platformCertA.publicKeyPem },
    merchantPrivateKey: merchantApi.privateKeyPem,
    merchantSerial: merchantApi.serial,
    ...fields,
  }
}

function alipay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appId: keys.alipay.appId,
    sellerId: keys.alipay.sellerId,
    alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
    appPrivateKey: appKey.privateKeyPem,
    ...fields,
  }
}

function body(overrides: { wechatpay?: Record<string, unknown>; alipay?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET },
    wechatpay: wechatpay(overrides.wechatpay),
    alipay: alipay(overrides.alipay),
  }
}

function dropped(fields: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  const copy = { ...fields }
  for (const name of names) delete copy[name]
  return copy
}

async function rejection(input: unknown, options = PRODUCTION): Promise<string> {
  const error: unknown = await parseMerchantInput(input, options).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ValidationError)
  return (error as ValidationError).message
}

/** Proves a stored PEM is the same key pair: it signs what the fixture's public key verifies. */
function signsFor(privateKeyPem: string, publicKeyPem: string): boolean {
  const signature = createSign('RSA-SHA256').update('probe').sign(privateKeyPem, 'base64')
  return createVerify('RSA-SHA256').update('probe').verify(publicKeyPem, signature, 'base64')
}

type GenerateKey = SubtleCrypto['generateKey']

async function pkcs8Of(algorithm: Parameters<GenerateKey>[0], usages: Parameters<GenerateKey>[2]): Promise<string> {
  const pair = (await crypto.subtle.generateKey(algorithm, true, usages)) as CryptoKeyPair
  return toPem('PRIVATE KEY', new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer))
}

const pkcs1Pem = (pem: string): string => createPrivateKey(pem).export({ type: 'pkcs1', format: 'pem' }) as string
const bareDer = (pem: string): string => toBase64(readPem(pem).der)

describe('merchant query keys: validation', () => {
  it('accepts the merchant API key pair and the app private key, stored as PKCS#8 PEM', async () => {
    const input = await parseMerchantInput(body({ wechatpay: { merchantSerial: merchantApi.serial.toLowerCase() } }), PRODUCTION)
    expect(input.wechatpay?.merchantSerial).toBe(merchantApi.serial)
    expect(readPem(input.wechatpay!.merchantPrivateKey!).label).toBe('PRIVATE KEY')
    expect(signsFor(input.wechatpay!.merchantPrivateKey!, merchantApi.publicKeyPem)).toBe(true)
    expect(readPem(input.alipay!.appPrivateKey!).label).toBe('PRIVATE KEY')
    expect(signsFor(input.alipay!.appPrivateKey!, appKey.publicKeyPem)).toBe(true)
    expect(input.wechatpay?.apiBaseUrl).toBeUndefined()
    expect(input.alipay?.gatewayUrl).toBeUndefined()
  })

  it('converts PKCS#1 PEM and bare base64 DER (as Alipay’s key tool writes them) to PKCS#8', async () => {
    for (const text of [pkcs1Pem(appKey.privateKeyPem), bareDer(pkcs1Pem(appKey.privateKeyPem)), bareDer(appKey.privateKeyPem)]) {
      const input = await parseMerchantInput(body({ alipay: { appPrivateKey: text } }), PRODUCTION)
      expect(readPem(input.alipay!.appPrivateKey!).label).toBe('PRIVATE KEY')
      expect(signsFor(input.alipay!.appPrivateKey!, appKey.publicKeyPem)).toBe(true)
    }
    const wechat = await parseMerchantInput(body({ wechatpay: { merchantPrivateKey: pkcs1Pem(merchantApi.privateKeyPem) } }), PRODUCTION)
    expect(signsFor(wechat.wechatpay!.merchantPrivateKey!, merchantApi.publicKeyPem)).toBe(true)
  })

  it('leaves a merchant without query keys exactly as before', async () => {
    const input = await parseMerchantInput(
      { ...body(), wechatpay: dropped(wechatpay(), 'merchantPrivateKey', 'merchantSerial'), alipay: dropped(alipay(), 'appPrivateKey') },
      PRODUCTION,
    )
    expect(Object.keys(input.wechatpay!).sort()).toEqual(['apiV3Key', 'appid', 'mchid', 'platformPublicKeys', 'v2SignTypes'])
    expect(Object.keys(input.alipay!).sort()).toEqual(['alipayPublicKey', 'appId', 'sellerId', 'signType'])
  })

  it('wants the private key and its serial together, for an APIv3 merchant', async () => {
    expect(await rejection({ ...body(), wechatpay: dropped(wechatpay(), 'merchantSerial') })).toBe(
      'wechatpay.merchantSerial: is required with merchantPrivateKey',
    )
    expect(await rejection({ ...body(), wechatpay: dropped(wechatpay(), 'merchantPrivateKey') })).toBe(
      'wechatpay.merchantPrivateKey: is required with merchantSerial',
    )
    expect(await rejection({ ...body(), wechatpay: { ...dropped(wechatpay(), 'apiV3Key'), apiV2Key: keys.wechatpay.apiV2Key } })).toBe(
      'wechatpay.merchantPrivateKey: requires apiV3Key',
    )
    expect(await rejection(body({ wechatpay: { merchantSerial: 'not-a-serial' } }))).toBe(
      'wechatpay.merchantSerial: must be the merchant API certificate serial (hex)',
    )
  })

  it('refuses what is not an RSA private key, without echoing the text', async () => {
    expect(await rejection(body({ wechatpay: { merchantPrivateKey: merchantApi.publicKeyPem } }))).toBe(
      'wechatpay.merchantPrivateKey: expected a PRIVATE KEY or RSA PRIVATE KEY, got PUBLIC KEY',
    )
    expect(await rejection(body({ alipay: { appPrivateKey: 'MIIEvQ not a key' } }))).toBe(
      'alipay.appPrivateKey: is neither PEM nor base64 DER',
    )
    expect(await rejection(body({ alipay: { appPrivateKey: btoa('0123456789abcdef') } }))).toBe(
      'alipay.appPrivateKey: is not a readable private key',
    )
    const ec = await pkcs8Of({ name: 'ECDSA', namedCurve: 'P-256' }, ['sign', 'verify'])
    const message = await rejection(body({ wechatpay: { merchantPrivateKey: ec } }))
    expect(message).toBe('wechatpay.merchantPrivateKey: is not an RSA private key')
    expect(message).not.toContain(bareDer(ec).slice(0, 16))
    expect(await rejection(body({ wechatpay: { merchantPrivateKey: 7 } }))).toBe('wechatpay.merchantPrivateKey: must be a string')
  })

  it('requires 2048-bit keys, except an Alipay app key for the legacy RSA sign type', async () => {
    const small = await pkcs8Of(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      ['sign', 'verify'],
    )
    expect(await rejection(body({ wechatpay: { merchantPrivateKey: small } }))).toBe(
      'wechatpay.merchantPrivateKey: must be an RSA key of at least 2048 bits',
    )
    expect(await rejection(body({ alipay: { appPrivateKey: small } }))).toBe(
      'alipay.appPrivateKey: must be an RSA key of at least 2048 bits',
    )
    const legacy = await parseMerchantInput(body({ alipay: { appPrivateKey: small, signType: 'RSA' } }), PRODUCTION)
    expect(legacy.alipay?.appPrivateKey).toBeDefined()
  })

  it('accepts https API URLs, without a trailing slash', async () => {
    const input = await parseMerchantInput(
      body({
        wechatpay: { apiBaseUrl: 'https://api2.mch.weixin.qq.com/' },
        alipay: { gatewayUrl: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do' },
      }),
      PRODUCTION,
    )
    expect(input.wechatpay?.apiBaseUrl).toBe('https://api2.mch.weixin.qq.com')
    expect(input.alipay?.gatewayUrl).toBe('https://openapi-sandbox.dl.alipaydev.com/gateway.do')
  })

  it('allows a loopback stand-in only while running locally, and never plain http or private addresses', async () => {
    const local = body({ wechatpay: { apiBaseUrl: 'http://127.0.0.1:8788' }, alipay: { gatewayUrl: 'http://localhost:8788/gateway.do' } })
    expect(await rejection(local)).toBe('wechatpay.apiBaseUrl: loopback addresses are allowed only when the gateway runs locally')
    const input = await parseMerchantInput(local, LOCAL)
    expect(input.wechatpay?.apiBaseUrl).toBe('http://127.0.0.1:8788')
    expect(input.alipay?.gatewayUrl).toBe('http://localhost:8788/gateway.do')

    expect(await rejection(body({ alipay: { gatewayUrl: 'http://openapi.alipay.com/gateway.do' } }), LOCAL)).toBe(
      'alipay.gatewayUrl: must use https',
    )
    expect(await rejection(body({ wechatpay: { apiBaseUrl: 'https://10.0.0.8' } }), LOCAL)).toBe(
      'wechatpay.apiBaseUrl: private, loopback and link-local addresses are refused',
    )
    expect(await rejection(body({ alipay: { gatewayUrl: 'https://openapi.alipay.com/gateway.do?charset=utf-8' } }))).toBe(
      'alipay.gatewayUrl: must not have a query or fragment',
    )
  })
})

describe('merchant query keys: storage', () => {
  it('seals both private keys in the D1 row and opens them on load', async () => {
    const input = await parseMerchantInput(
      body({
        wechatpay: { apiBaseUrl: 'https://api2.mch.weixin.qq.com' },
        alipay: { gatewayUrl: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do' },
      }),
      PRODUCTION,
    )
    await saveMerchant(env, 'query-keys-sealed', input)
    const row = await env.DB.prepare('SELECT config FROM merchants WHERE id = ?1').bind('query-keys-sealed').first<{ config: string }>()
    for (const pem of [input.wechatpay!.merchantPrivateKey!, input.alipay!.appPrivateKey!]) {
      const base64 = bareDer(pem)
      // Neither the PEM nor any slice of its base64 body appears in clear.
      for (let at = 0; at < base64.length - 32; at += 200) expect(row!.config).not.toContain(base64.slice(at, at + 32))
    }
    expect(row!.config).toContain(merchantApi.serial)

    const loaded = await loadMerchant(env, 'query-keys-sealed', { fresh: true })
    expect(loaded).toEqual({ id: 'query-keys-sealed', ...input })
  })

  it('shows serial and URLs in the public view, never a private key', async () => {
    const input = await parseMerchantInput(
      body({
        wechatpay: { apiBaseUrl: 'https://api2.mch.weixin.qq.com' },
        alipay: { gatewayUrl: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do' },
      }),
      PRODUCTION,
    )
    const view = publicView({ id: 'query-keys-view', ...input })
    expect(view.wechatpay).toMatchObject({ merchantSerial: merchantApi.serial, apiBaseUrl: 'https://api2.mch.weixin.qq.com' })
    expect(view.alipay).toMatchObject({ gatewayUrl: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do' })
    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY')
    expect(view.wechatpay).not.toHaveProperty('merchantPrivateKey')
    expect(view.alipay).not.toHaveProperty('appPrivateKey')
  })

  it('round-trips through the admin API without ever returning a private key', async () => {
    const headers = { authorization: 'Bearer test-admin-token-32-characters-long', 'content-type': 'application/json' }
    const put = await exports.default.fetch('https://gw.test/admin/merchants/query-keys-admin', {
      method: 'PUT',
      headers,
      // Provider ids of its own: query-keys-sealed holds the fixtures', and no two merchants may share them.
      body: JSON.stringify(withOwnIds('query-keys-admin', body({ wechatpay: { apiBaseUrl: 'http://127.0.0.1:8788' } }))),
    })
    expect(put.status).toBe(201)
    const got = await exports.default.fetch('https://gw.test/admin/merchants/query-keys-admin', { headers })
    const text = await got.text()
    expect(got.status).toBe(200)
    expect(text).not.toContain('PRIVATE KEY')
    const view = JSON.parse(text) as { wechatpay: Record<string, unknown>; alipay: Record<string, unknown> }
    expect(view.wechatpay.merchantSerial).toBe(merchantApi.serial)
    expect(view.wechatpay.apiBaseUrl).toBe('http://127.0.0.1:8788')
    expect(view.wechatpay).not.toHaveProperty('merchantPrivateKey')
    expect(view.alipay).not.toHaveProperty('appPrivateKey')
    const loaded = await loadMerchant(env, 'query-keys-admin', { fresh: true })
    expect(signsFor(loaded!.alipay!.appPrivateKey!, appKey.publicKeyPem)).toBe(true)
  })
})
