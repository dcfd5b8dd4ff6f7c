/**
 * The merchant body's fields for set-ups beyond one app (contract part 2): lists of app ids, WeChat Pay partner
 * mode and downloaded platform certificates, Alipay ISV apps and certificate mode. Each refusal names its field.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { ValidationError } from '../../src/lib/validation'
import { publicView } from '../../src/merchants/public-view'
import { parseMerchantInput, type MerchantSchemaOptions } from '../../src/merchants/schema'
import { loadMerchant, saveMerchant } from '../../src/merchants/store'

const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`
const PRODUCTION: MerchantSchemaOptions = { allowLoopback: false }
const wx = keys.wechatpay
const { certMode } = keys.alipay
const TOKEN = '202611BBe6b1d3e2a9c74f0a8d36e1b2c4f5a6b7'

function wechatpay(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const section: Record<string, unknown> = {
    appid: wx.appid,
    mchid: wx.mchid,
    apiV3Key: wx.apiV3Key,
    merchantPrivateKey: wx.merchantApi.privateKeyPem,
    merchantSerial: wx.merchantApi.serial,
    ...fields,
  }
  for (const name of drop) delete section[name]
  return { forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET }, wechatpay: section }
}

function alipay(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const section: Record<string, unknown> = { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId, ...fields }
  for (const name of drop) delete section[name]
  return { forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET }, alipay: section }
}

const certModeFields = {
  alipayPublicCert: certMode.alipayCert.certificatePem,
  alipayRootCert: certMode.rootCertPem,
  appCert: certMode.appCert.certificatePem,
  appPrivateKey: certMode.appCert.privateKeyPem,
}

async function rejection(input: unknown): Promise<string> {
  const error: unknown = await parseMerchantInput(input, PRODUCTION).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ValidationError)
  return (error as ValidationError).message
}

describe('several apps', () => {
  it('takes appid, appId and sellerId as a string or a list, and GET shows them as saved', async () => {
    const wechat = await parseMerchantInput(wechatpay({ appid: [wx.appid, 'wx8888888888888802', 'wx8888888888888803'] }), PRODUCTION)
    expect(wechat.wechatpay?.appid).toEqual([wx.appid, 'wx8888888888888802', 'wx8888888888888803'])
    expect((publicView({ id: 'm', ...wechat }).wechatpay as Record<string, unknown>).appid).toEqual(wechat.wechatpay?.appid)
    const ali = await parseMerchantInput(
      alipay({
        appId: [keys.alipay.appId, '2021000000000002'],
        sellerId: ['2088000000000001', '2088000000000002'],
        alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      }),
      PRODUCTION,
    )
    expect(publicView({ id: 'm', ...ali }).alipay).toMatchObject({
      appId: [keys.alipay.appId, '2021000000000002'],
      sellerId: ['2088000000000001', '2088000000000002'],
    })
    const noSeller = await parseMerchantInput(alipay({ alipayPublicKey: keys.alipay.alipayKey.publicKeyPem }, ['sellerId']), PRODUCTION)
    expect(noSeller.alipay).not.toHaveProperty('sellerId')
  })

  it('refuses empty lists, repeated ids and non-strings, naming the item', async () => {
    expect(await rejection(wechatpay({ appid: [] }))).toBe('wechatpay.appid: must not be an empty list')
    expect(await rejection(wechatpay({ appid: [wx.appid, wx.appid] }))).toBe('wechatpay.appid[1]: is listed twice')
    expect(await rejection(wechatpay({ appid: [wx.appid, 7] }))).toBe('wechatpay.appid[1]: must be a string')
    expect(await rejection(wechatpay({ appid: 7 }))).toBe('wechatpay.appid: must be a string or a list of strings')
    expect(await rejection(alipay({ appId: ['2021 0001'] }))).toBe(
      'alipay.appId[0]: must be 1–64 printable ASCII characters without spaces',
    )
  })
})

describe('WeChat Pay partner mode and downloaded certificates', () => {
  it('keeps subMchid and subAppid (a string or a list)', async () => {
    const input = await parseMerchantInput(wechatpay({ subMchid: '1900000999', subAppid: ['wx9999999999999999'] }), PRODUCTION)
    expect(input.wechatpay).toMatchObject({ mchid: wx.mchid, subMchid: '1900000999', subAppid: ['wx9999999999999999'] })
    expect(publicView({ id: 'm', ...input }).wechatpay).toMatchObject({ subMchid: '1900000999', subAppid: ['wx9999999999999999'] })
  })

  it('refuses a subAppid without subMchid, and a subMchid that is the service provider’s own', async () => {
    expect(await rejection(wechatpay({ subAppid: 'wx9999999999999999' }))).toBe('wechatpay.subAppid: requires subMchid (partner mode)')
    expect(await rejection(wechatpay({ subMchid: wx.mchid }))).toBe("wechatpay.subMchid: must differ from mchid, the service provider's")
  })

  it('takes autoPlatformCertificates only with the APIv3 key and the merchant API key pair', async () => {
    const input = await parseMerchantInput(wechatpay({ autoPlatformCertificates: true }), PRODUCTION)
    expect(input.wechatpay?.autoPlatformCertificates).toBe(true)
    const off = await parseMerchantInput(wechatpay({ autoPlatformCertificates: false }), PRODUCTION)
    expect(off.wechatpay).not.toHaveProperty('autoPlatformCertificates')
    expect(await rejection(wechatpay({ autoPlatformCertificates: 'yes' }))).toBe(
      'wechatpay.autoPlatformCertificates: must be true or false',
    )
    expect(await rejection(wechatpay({ autoPlatformCertificates: true }, ['merchantPrivateKey', 'merchantSerial']))).toBe(
      'wechatpay.autoPlatformCertificates: requires merchantPrivateKey and merchantSerial (the download is a signed request)',
    )
    expect(
      await rejection(
        wechatpay({ autoPlatformCertificates: true, apiV2Key: wx.apiV2Key }, ['apiV3Key', 'merchantPrivateKey', 'merchantSerial']),
      ),
    ).toBe('wechatpay.autoPlatformCertificates: requires apiV3Key (the certificates are encrypted with it)')
  })

  it('never takes downloaded certificates or derived expiries from the body', async () => {
    expect(await rejection(wechatpay({ downloadedPlatformCertificates: {} }))).toMatch(
      /^wechatpay\.downloadedPlatformCertificates: unknown field/,
    )
    expect(await rejection(wechatpay({ platformKeyExpiries: {} }))).toMatch(/^wechatpay\.platformKeyExpiries: unknown field/)
  })
})

describe('Alipay third-party apps and certificate mode', () => {
  it('keeps authAppId and appAuthToken; the token is a secret: sealed, never shown', async () => {
    const input = await parseMerchantInput(
      alipay({ alipayPublicKey: keys.alipay.alipayKey.publicKeyPem, authAppId: alipayFixtures.isv.authAppId, appAuthToken: TOKEN }),
      PRODUCTION,
    )
    expect(input.alipay).toMatchObject({ authAppId: alipayFixtures.isv.authAppId, appAuthToken: TOKEN })
    const view = JSON.stringify(publicView({ id: 'isv', ...input }))
    expect(view).toContain(alipayFixtures.isv.authAppId)
    expect(view).not.toContain(TOKEN)
    await saveMerchant(env, 'isv-sealed', input)
    const row = await env.DB.prepare('SELECT config FROM merchants WHERE id = ?').bind('isv-sealed').first<{ config: string }>()
    expect(row!.config).not.toContain(TOKEN)
    expect((await loadMerchant(env, 'isv-sealed', { fresh: true }))?.alipay?.appAuthToken).toBe(TOKEN)
    expect(await rejection(alipay({ alipayPublicKey: keys.alipay.alipayKey.publicKeyPem, appAuthToken: 'has spaces' }))).toBe(
      'alipay.appAuthToken: must be 1–128 printable ASCII characters',
    )
    // A token without the authorizing app: every notification of that app would be refused, so the save is.
    expect(await rejection(alipay({ alipayPublicKey: keys.alipay.alipayKey.publicKeyPem, appAuthToken: TOKEN }))).toBe(
      'alipay.appAuthToken: requires authAppId (ISV mode)',
    )
  })

  it('certificate mode: computes the serial numbers when saved, and GET shows them with each expiry', async () => {
    const input = await parseMerchantInput(alipay(certModeFields), PRODUCTION)
    expect(input.alipay).not.toHaveProperty('alipayPublicKey')
    const view = publicView({ id: 'cert', ...input }).alipay as Record<string, unknown>
    expect(view).toMatchObject({
      alipayPublicCert: certMode.alipayCert.certificatePem,
      certificates: {
        alipayPublicCert: { sn: alipayFixtures.certMode.alipayCertSn, expires_at: expect.stringMatching(/^\d{4}-/) },
        appCert: { sn: alipayFixtures.certMode.appCertSn },
        alipayRootCert: { sn: alipayFixtures.certMode.alipayRootCertSn },
      },
    })
    const root = (view.certificates as { alipayRootCert: { certificates: { sn: string | null }[] } }).alipayRootCert
    expect(root.certificates).toHaveLength(3)
    expect(JSON.stringify(view)).not.toContain(certMode.appCert.privateKeyPem.slice(40, 80))
  })

  it('refuses mixed or incomplete modes, naming the field', async () => {
    expect(await rejection(alipay({ ...certModeFields, alipayPublicKey: keys.alipay.alipayKey.publicKeyPem }))).toBe(
      'alipay.alipayPublicCert: use alipayPublicKey (public-key mode) or alipayPublicCert (certificate mode), not both',
    )
    expect(await rejection(alipay({}, ['alipayPublicKey']))).toBe('alipay.alipayPublicKey: is required')
    expect(await rejection(alipay(certModeFields, ['appCert', 'alipayRootCert']))).toBe(
      'alipay.appCert: is required with alipayPublicCert and appPrivateKey (certificate-mode queries)',
    )
    expect(await rejection(alipay(certModeFields, ['appCert']))).toBe('alipay.appCert: is required with alipayRootCert')
    expect(await rejection(alipay(certModeFields, ['alipayRootCert']))).toBe('alipay.alipayRootCert: is required with appCert')
    expect(await rejection(alipay({ alipayPublicKey: keys.alipay.alipayKey.publicKeyPem, appCert: certMode.appCert.certificatePem }))).toBe(
      'alipay.appCert: requires alipayPublicCert (certificate mode)',
    )
    // The root file pasted in the wrong field: its first certificate is a root.
    expect(await rejection(alipay({ ...certModeFields, alipayPublicCert: certMode.rootCertPem }))).toBe(
      'alipay.alipayPublicCert: certificate 1 is a root certificate: it belongs in alipayRootCert',
    )
    expect(await rejection(alipay({ ...certModeFields, alipayRootCert: 'not a certificate' }))).toBe(
      'alipay.alipayRootCert: must hold at least one PEM certificate',
    )
    // A bundle exported with its private key: stored as given and shown by GET, so refused whole, in each field.
    const { privateKeyPem } = certMode.appCert
    for (const field of ['appCert', 'alipayPublicCert', 'alipayRootCert'] as const) {
      const bundle = `${certModeFields[field]}${privateKeyPem}`
      const refusal = await rejection(alipay({ ...certModeFields, [field]: bundle }))
      expect(refusal).toBe(`alipay.${field}: holds a PRIVATE KEY block besides certificates; give the certificates alone`)
      expect(refusal).not.toContain(privateKeyPem.slice(40, 80))
    }
    // The key as Alipay's tool writes it: bare base64, no armour.
    const bare = privateKeyPem.replace(/-----[A-Z ]+-----/g, '').trim()
    expect(await rejection(alipay({ ...certModeFields, appCert: `${certModeFields.appCert}\n${bare}\n` }))).toBe(
      'alipay.appCert: holds base64 text besides certificates; give the certificates alone',
    )
    // Comments and openssl's attribute lines around a certificate are no key.
    const annotated = `# Alipay root\nBag Attributes\n    localKeyID: 01 00 00 00\nsubject=/C=CN/O=Ant Financial\n${certModeFields.alipayRootCert}`
    expect((await parseMerchantInput(alipay({ ...certModeFields, alipayRootCert: annotated }), PRODUCTION)).alipay).toBeDefined()
    // Notifications alone need only Alipay's certificate.
    const notifyOnly = await parseMerchantInput(alipay({ alipayPublicCert: certMode.alipayCert.certificatePem }), PRODUCTION)
    expect(notifyOnly.alipay?.certificates?.alipayPublicCert.sn).toBe(alipayFixtures.certMode.alipayCertSn)
  })
})

describe('Alipay keys and certificates that rotate', () => {
  const { alipayKey, nextAlipayKey, otherAlipayCert } = { ...keys.alipay, ...keys.alipay.certMode }

  it('takes alipayPublicKey as a list of keys, each normalized to PEM, and GET shows the list', async () => {
    const bare = nextAlipayKey.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '')
    const input = await parseMerchantInput(alipay({ alipayPublicKey: [alipayKey.publicKeyPem, bare] }), PRODUCTION)
    expect(input.alipay?.alipayPublicKey).toEqual([alipayKey.publicKeyPem, nextAlipayKey.publicKeyPem])
    expect((publicView({ id: 'm', ...input }).alipay as Record<string, unknown>).alipayPublicKey).toEqual([
      alipayKey.publicKeyPem,
      nextAlipayKey.publicKeyPem,
    ])
  })

  it('refuses an empty list, a key listed twice and a key that is not one, naming its place', async () => {
    expect(await rejection(alipay({ alipayPublicKey: [] }))).toBe('alipay.alipayPublicKey: must not be an empty list')
    expect(await rejection(alipay({ alipayPublicKey: [alipayKey.publicKeyPem, alipayKey.publicKeyPem] }))).toBe(
      'alipay.alipayPublicKey[1]: is listed twice',
    )
    expect(await rejection(alipay({ alipayPublicKey: [alipayKey.publicKeyPem, 'not a key'] }))).toMatch(/^alipay\.alipayPublicKey\[1\]: /)
    expect(await rejection(alipay({ alipayPublicKey: Array(6).fill(alipayKey.publicKeyPem) }))).toBe(
      'alipay.alipayPublicKey: must list at most 5 keys',
    )
  })

  it('takes several certificates in alipayPublicCert, each with its serial number and expiry', async () => {
    const both = certMode.alipayCert.certificatePem + otherAlipayCert.certificatePem
    const input = await parseMerchantInput(alipay({ ...certModeFields, alipayPublicCert: both }), PRODUCTION)
    const derived = input.alipay?.certificates
    expect(derived?.alipayPublicCerts?.map((certificate) => certificate.sn)).toEqual([
      alipayFixtures.certMode.alipayCertSn,
      alipayFixtures.certMode.otherAlipayCertSn,
    ])
    expect(derived?.alipayPublicCert.sn).toBe(alipayFixtures.certMode.alipayCertSn)
  })

  it('refuses a certificate given twice and a root certificate, naming which', async () => {
    const twice = certMode.alipayCert.certificatePem + certMode.alipayCert.certificatePem
    expect(await rejection(alipay({ ...certModeFields, alipayPublicCert: twice }))).toBe(
      'alipay.alipayPublicCert: certificate 2 is there twice',
    )
    // The root file's EC root, after Alipay's certificate: a root either way.
    const [, ecRoot] = certMode.rootCertPem.split(/(?<=-----END CERTIFICATE-----\n)/)
    expect(await rejection(alipay({ ...certModeFields, alipayPublicCert: certMode.alipayCert.certificatePem + ecRoot }))).toBe(
      'alipay.alipayPublicCert: certificate 2 is a root certificate: it belongs in alipayRootCert',
    )
    // WeChat's platform certificate is self-signed too; a lone certificate's message names no number.
    expect(await rejection(alipay({ ...certModeFields, alipayPublicCert: wx.platformCertA.certificatePem }))).toBe(
      'alipay.alipayPublicCert: is a root certificate: it belongs in alipayRootCert',
    )
  })
})
