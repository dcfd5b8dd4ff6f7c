import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import { readPem, toBase64 } from '../../src/crypto/encoding'
import { isMerchantId, parseMerchantInput, type MerchantSchemaOptions } from '../../src/merchants/schema'
import { ValidationError } from '../../src/lib/validation'

const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`
const OLD_SECRET = `whsec_${btoa('previous-secret-32-bytes-long!!!')}`
const PRODUCTION: MerchantSchemaOptions = { allowLoopback: false }
const { platformCertA, platformCertB, publicKeyMode } = keys.wechatpay

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET },
    wechatpay: {
      appid: keys.wechatpay.appid,
      mchid: keys.wechatpay.mchid,
      apiV2Key: keys.wechatpay.apiV2Key,
      apiV3Key: keys.wechatpay.apiV3Key,
      platformPublicKeys: { [publicKeyMode.id]: publicKeyMode.publicKeyPem },
    },
    alipay: {
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
    },
    ...overrides,
  }
}

function wechatpay(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(body().wechatpay as Record<string, unknown>), ...fields }
  for (const key of drop) delete merged[key]
  return body({ wechatpay: merged })
}

function alipay(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(body().alipay as Record<string, unknown>), ...fields }
  for (const key of drop) delete merged[key]
  return body({ alipay: merged })
}

async function rejection(input: unknown, options = PRODUCTION): Promise<string> {
  const error: unknown = await parseMerchantInput(input, options).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ValidationError)
  const { field, problem, message } = error as ValidationError
  expect(message).toBe(`${field}: ${problem}`)
  return message
}

const bare = (pem: string): string => toBase64(readPem(pem).der)

describe('merchant PUT body validation', () => {
  it('takes the on/off settings as booleans, keeping only the ones set to true', async () => {
    const input = await parseMerchantInput(
      body({ requireRegisteredOrders: false, confirmPaymentsByQuery: true, keepRejectedBodies: true }),
      PRODUCTION,
    )
    expect(input).toMatchObject({ confirmPaymentsByQuery: true, keepRejectedBodies: true })
    expect(input).not.toHaveProperty('requireRegisteredOrders')
    expect(await rejection(body({ confirmPaymentsByQuery: 'yes' }))).toBe('confirmPaymentsByQuery: must be true or false')
    expect(await rejection(body({ keepRejectedBodies: 1 }))).toBe('keepRejectedBodies: must be true or false')
  })

  it('accepts a full body and normalizes it', async () => {
    const input = await parseMerchantInput(body(), PRODUCTION)
    expect(input.forward).toEqual({ url: 'https://merchant.example/hooks/payments', secret: SECRET })
    expect(input.wechatpay).toEqual({
      appid: keys.wechatpay.appid,
      mchid: keys.wechatpay.mchid,
      apiV2Key: keys.wechatpay.apiV2Key,
      v2SignTypes: ['MD5', 'HMAC-SHA256'],
      apiV3Key: keys.wechatpay.apiV3Key,
      platformPublicKeys: { [publicKeyMode.id]: publicKeyMode.publicKeyPem },
    })
    expect(input.alipay).toEqual({
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      signType: 'RSA2',
    })
  })

  it('accepts a merchant with only one provider block', async () => {
    const alipayOnly = await parseMerchantInput(body({ wechatpay: undefined }), PRODUCTION)
    expect(alipayOnly.wechatpay).toBeUndefined()
    expect(alipayOnly.alipay?.appId).toBe(keys.alipay.appId)
    const wechatOnly = await parseMerchantInput(body({ alipay: undefined }), PRODUCTION)
    expect(wechatOnly.alipay).toBeUndefined()
    expect(wechatOnly.wechatpay?.mchid).toBe(keys.wechatpay.mchid)
  })

  it('requires at least one provider block', async () => {
    expect(await rejection(body({ wechatpay: undefined, alipay: undefined }))).toBe('body: at least one of wechatpay, alipay is required')
  })

  it('refuses a body that is not an object', async () => {
    expect(await rejection([body()])).toBe('body: must be an object')
    expect(await rejection('{}')).toBe('body: must be an object')
  })

  it('names unknown fields at every level', async () => {
    expect(await rejection(body({ webhook: {} }))).toMatch(/^webhook: unknown field/)
    expect(await rejection(wechatpay({ apiv3Key: keys.wechatpay.apiV3Key }))).toMatch(/^wechatpay\.apiv3Key: unknown field/)
    expect(await rejection(alipay({ publicKey: 'x' }))).toMatch(/^alipay\.publicKey: unknown field/)
    expect(await rejection(body({ forward: { url: 'https://merchant.example/h', secret: SECRET, secrets: [] } }))).toMatch(
      /^forward\.secrets: unknown field/,
    )
  })

  describe('forward', () => {
    it('is required', async () => {
      expect(await rejection(body({ forward: undefined }))).toBe('forward: is required')
      expect(await rejection(body({ forward: 'https://merchant.example' }))).toBe('forward: must be an object')
    })

    it('requires an https URL', async () => {
      expect(await rejection(body({ forward: { secret: SECRET } }))).toBe('forward.url: is required')
      expect(await rejection(body({ forward: { url: 'http://merchant.example/h', secret: SECRET } }))).toBe('forward.url: must use https')
      expect(await rejection(body({ forward: { url: 'merchant.example', secret: SECRET } }))).toBe('forward.url: must be an absolute URL')
    })

    it('refuses private addresses, and loopback unless running locally', async () => {
      expect(await rejection(body({ forward: { url: 'https://10.0.0.8/h', secret: SECRET } }))).toMatch(/^forward\.url: private/)
      expect(await rejection(body({ forward: { url: 'http://localhost:4242/h', secret: SECRET } }))).toMatch(
        /^forward\.url: loopback addresses are allowed only/,
      )
      const local = await parseMerchantInput(body({ forward: { url: 'http://localhost:4242/h', secret: SECRET } }), {
        allowLoopback: true,
      })
      expect(local.forward.url).toBe('http://localhost:4242/h')
    })

    it('requires a Standard Webhooks secret without echoing it', async () => {
      expect(await rejection(body({ forward: { url: 'https://m.example/h' } }))).toBe('forward.secret: is required')
      expect(await rejection(body({ forward: { url: 'https://m.example/h', secret: 'sk_live_123' } }))).toBe(
        'forward.secret: must start with whsec_',
      )
      const short = `whsec_${btoa('short')}`
      const message = await rejection(body({ forward: { url: 'https://m.example/h', secret: short } }))
      expect(message).toMatch(/^forward\.secret: must decode to/)
      expect(message).not.toContain(short)
    })

    it('accepts a previous secret for rotation, under the same rules', async () => {
      const input = await parseMerchantInput(
        body({ forward: { url: 'https://m.example/h', secret: SECRET, previousSecret: OLD_SECRET } }),
        PRODUCTION,
      )
      expect(input.forward.previousSecret).toBe(OLD_SECRET)
      expect(await rejection(body({ forward: { url: 'https://m.example/h', secret: SECRET, previousSecret: 'old' } }))).toBe(
        'forward.previousSecret: must start with whsec_',
      )
      expect(await rejection(body({ forward: { url: 'https://m.example/h', secret: SECRET, previousSecret: SECRET } }))).toBe(
        'forward.previousSecret: must differ from forward.secret',
      )
    })
  })

  describe('wechatpay', () => {
    it('requires appid and mchid', async () => {
      expect(await rejection(wechatpay({}, ['appid']))).toBe('wechatpay.appid: is required')
      expect(await rejection(wechatpay({ mchid: 1900000109 }))).toBe('wechatpay.mchid: must be a string')
      expect(await rejection(wechatpay({ mchid: ' 1900000109' }))).toMatch(/^wechatpay\.mchid: must be 1–64 printable/)
    })

    it('requires 32-character API keys', async () => {
      expect(await rejection(wechatpay({ apiV3Key: 'too-short' }))).toBe('wechatpay.apiV3Key: must be 32 characters')
      expect(await rejection(wechatpay({ apiV2Key: `${keys.wechatpay.apiV2Key}x` }))).toBe('wechatpay.apiV2Key: must be 32 characters')
      expect(await rejection(wechatpay({ apiV2Key: `${'k'.repeat(31)} ` }))).toBe(
        'wechatpay.apiV2Key: must be printable ASCII without spaces',
      )
    })

    it('requires at least one of the API keys', async () => {
      expect(await rejection(wechatpay({}, ['apiV2Key', 'apiV3Key']))).toBe('wechatpay: at least one of apiV2Key, apiV3Key is required')
    })

    it('allows both v2 sign types by default, or exactly the ones listed', async () => {
      const single = await parseMerchantInput(wechatpay({ v2SignType: 'HMAC-SHA256' }), PRODUCTION)
      expect(single.wechatpay?.v2SignTypes).toEqual(['HMAC-SHA256'])
      const list = await parseMerchantInput(wechatpay({ v2SignType: ['MD5', 'MD5'] }), PRODUCTION)
      expect(list.wechatpay?.v2SignTypes).toEqual(['MD5'])
      const v3Only = await parseMerchantInput(wechatpay({}, ['apiV2Key']), PRODUCTION)
      expect(v3Only.wechatpay?.v2SignTypes).toEqual([])
    })

    it('refuses unknown or empty v2 sign types and a sign type without an APIv2 key', async () => {
      expect(await rejection(wechatpay({ v2SignType: 'SHA256' }))).toBe(
        'wechatpay.v2SignType: must be "MD5", "HMAC-SHA256" or a list of them',
      )
      expect(await rejection(wechatpay({ v2SignType: ['MD5', 'hmac-sha256'] }))).toBe(
        'wechatpay.v2SignType[1]: must be "MD5", "HMAC-SHA256" or a list of them',
      )
      expect(await rejection(wechatpay({ v2SignType: [] }))).toBe('wechatpay.v2SignType: must not be an empty list')
      expect(await rejection(wechatpay({ v2SignType: 'MD5' }, ['apiV2Key']))).toBe('wechatpay.v2SignType: requires apiV2Key')
    })

    it('keeps platform certificate serials and PUB_KEY_ID keys side by side, normalized to SPKI PEM', async () => {
      const input = await parseMerchantInput(
        wechatpay({
          platformPublicKeys: {
            [platformCertA.serial.toLowerCase()]: platformCertA.certificatePem,
            [platformCertB.serial]: platformCertB.publicKeyPem,
            [publicKeyMode.id]: bare(publicKeyMode.publicKeyPem),
          },
        }),
        PRODUCTION,
      )
      expect(input.wechatpay?.platformPublicKeys).toEqual({
        [platformCertA.serial]: platformCertA.publicKeyPem,
        [platformCertB.serial]: platformCertB.publicKeyPem,
        [publicKeyMode.id]: publicKeyMode.publicKeyPem,
      })
    })

    it('requires a certificate to be listed under its own serial', async () => {
      const message = await rejection(wechatpay({ platformPublicKeys: { [platformCertB.serial]: platformCertA.certificatePem } }))
      expect(message).toBe(
        `wechatpay.platformPublicKeys.${platformCertB.serial}: ` +
          `certificate serial is ${platformCertA.serial}, not the serial it is listed under`,
      )
      expect(await rejection(wechatpay({ platformPublicKeys: { [publicKeyMode.id]: platformCertA.certificatePem } }))).toMatch(
        new RegExp(`^wechatpay\\.platformPublicKeys\\.${publicKeyMode.id}: certificate serial is`),
      )
    })

    it('refuses platform keys that are not RSA public keys, without echoing them', async () => {
      const privateKey = await rejection(wechatpay({ platformPublicKeys: { [platformCertA.serial]: platformCertA.privateKeyPem } }))
      expect(privateKey).toBe(`wechatpay.platformPublicKeys.${platformCertA.serial}: expected a PUBLIC KEY or CERTIFICATE, got PRIVATE KEY`)
      expect(privateKey).not.toContain(bare(platformCertA.privateKeyPem).slice(0, 40))
      expect(await rejection(wechatpay({ platformPublicKeys: { [platformCertA.serial]: 'not a key' } }))).toBe(
        `wechatpay.platformPublicKeys.${platformCertA.serial}: neither PEM nor base64 DER`,
      )
      expect(await rejection(wechatpay({ platformPublicKeys: { [platformCertA.serial]: 'AAAAAAAA' } }))).toBe(
        `wechatpay.platformPublicKeys.${platformCertA.serial}: is not an RSA public key`,
      )
      expect(await rejection(wechatpay({ platformPublicKeys: { [platformCertA.serial]: 42 } }))).toBe(
        `wechatpay.platformPublicKeys.${platformCertA.serial}: must be a string`,
      )
    })

    it('refuses platform key names that are neither serials nor PUB_KEY_ID ids, and duplicates', async () => {
      expect(await rejection(wechatpay({ platformPublicKeys: { 'serial one': platformCertB.publicKeyPem } }))).toBe(
        'wechatpay.platformPublicKeys.serial one: must be listed under a certificate serial (hex) or a PUB_KEY_ID_… id',
      )
      expect(
        await rejection(
          wechatpay({
            platformPublicKeys: {
              [platformCertB.serial]: platformCertB.publicKeyPem,
              [platformCertB.serial.toLowerCase()]: platformCertB.publicKeyPem,
            },
          }),
        ),
      ).toBe(`wechatpay.platformPublicKeys.${platformCertB.serial.toLowerCase()}: serial is listed twice`)
      expect(await rejection(wechatpay({ platformPublicKeys: [platformCertB.publicKeyPem] }))).toBe(
        'wechatpay.platformPublicKeys: must be an object',
      )
    })
  })

  describe('alipay', () => {
    it('requires appId, sellerId and alipayPublicKey', async () => {
      expect(await rejection(alipay({}, ['appId']))).toBe('alipay.appId: is required')
      expect(await rejection(alipay({ sellerId: '' }))).toMatch(/^alipay\.sellerId: must be 1–64 printable/)
      expect(await rejection(alipay({}, ['alipayPublicKey']))).toBe('alipay.alipayPublicKey: is required')
    })

    it('accepts the public key as bare base64 SPKI and stores PEM', async () => {
      const bareKey = bare(keys.alipay.alipayKey.publicKeyPem)
      const input = await parseMerchantInput(alipay({ alipayPublicKey: bareKey }), PRODUCTION)
      expect(input.alipay?.alipayPublicKey).toBe(keys.alipay.alipayKey.publicKeyPem)
    })

    it('refuses a public key that does not parse', async () => {
      expect(await rejection(alipay({ alipayPublicKey: keys.alipay.appKey.privateKeyPem }))).toBe(
        'alipay.alipayPublicKey: expected a PUBLIC KEY or CERTIFICATE, got PRIVATE KEY',
      )
      expect(await rejection(alipay({ alipayPublicKey: 'MIIB not base64!' }))).toBe('alipay.alipayPublicKey: neither PEM nor base64 DER')
    })

    it('takes RSA2 or RSA as the sign type, RSA2 by default', async () => {
      expect((await parseMerchantInput(alipay({ signType: 'RSA' }), PRODUCTION)).alipay?.signType).toBe('RSA')
      expect(await rejection(alipay({ signType: 'SHA256withRSA' }))).toBe('alipay.signType: must be "RSA2" or "RSA"')
    })
  })
})

describe('merchant ids', () => {
  it('match [A-Za-z0-9_-]{1,64}', () => {
    expect(isMerchantId('acme')).toBe(true)
    expect(isMerchantId('Acme_shop-01')).toBe(true)
    expect(isMerchantId('a'.repeat(64))).toBe(true)
    expect(isMerchantId('a'.repeat(65))).toBe(false)
    expect(isMerchantId('')).toBe(false)
    expect(isMerchantId('acme.shop')).toBe(false)
    expect(isMerchantId('acme%2F')).toBe(false)
  })
})
