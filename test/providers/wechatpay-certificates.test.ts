/**
 * The platform-certificate download client (`GET /v3/certificates`) against answers made by wechatpay-axios-plugin
 * (test/fixtures/signers/wechatpay-v3.mjs, `buildCertificatesAnswer`), at the clock they were signed for.
 */
import { createVerify, X509Certificate } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import type { WechatpayConfig } from '../../src/providers/wechatpay'
import { wechatpayPlatformCertificates as downloads } from '../../src/providers/wechatpay/certificates'
import { QueryFailed } from '../../src/providers/core/query-types'

const wx = keys.wechatpay
const NOW = fixtures.now
const API = 'https://api.mch.weixin.qq.com'

const config: WechatpayConfig = {
  appid: wx.appid,
  mchid: wx.mchid,
  v2SignTypes: [],
  apiV3Key: wx.apiV3Key,
  platformPublicKeys: {},
  merchantPrivateKey: wx.merchantApi.privateKeyPem,
  merchantSerial: wx.merchantApi.serial,
  autoPlatformCertificates: true,
}

type AnswerName = keyof typeof fixtures.certificates

function serve(name: AnswerName): { url: string; headers: Headers }[] {
  const seen: { url: string; headers: Headers }[] = []
  const answer = fixtures.certificates[name]
  network.use(
    http.get(`${API}/v3/certificates`, ({ request }) => {
      seen.push({ url: request.url, headers: request.headers })
      return new HttpResponse(answer.body, { headers: answer.headers })
    }),
  )
  return seen
}

async function failureOf(promise: Promise<unknown>): Promise<QueryFailed> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(QueryFailed)
  return error as QueryFailed
}

const expiry = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString()

describe('WeChat Pay platform certificates: the download', () => {
  it('is a GET signed with the merchant API key (verifiable with node:crypto)', async () => {
    const seen = serve('rotated')
    await downloads.download(config, [], { now: NOW })
    const request = seen[0]!
    expect(new URL(request.url).pathname).toBe('/v3/certificates')
    const auth = Object.fromEntries(
      [...(request.headers.get('authorization') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    )
    expect(auth).toMatchObject({ mchid: wx.mchid, serial_no: wx.merchantApi.serial, timestamp: String(NOW / 1000) })
    const message = `GET\n/v3/certificates\n${auth.timestamp}\n${auth.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(wx.merchantApi.publicKeyPem, auth.signature!, 'base64')).toBe(true)
  })

  it('decrypts each certificate with the APIv3 key; an answer signed by a certificate it lists verifies', async () => {
    serve('rotated')
    const keysDownloaded = await downloads.download(config, [], { now: NOW })
    expect(keysDownloaded).toEqual([
      {
        serial: wx.platformCertA.serial,
        certificatePem: wx.platformCertA.certificatePem,
        expiresAt: expiry(wx.platformCertA.certificatePem),
      },
      {
        serial: wx.platformCertC.serial,
        certificatePem: wx.platformCertC.certificatePem,
        expiresAt: expiry(wx.platformCertC.certificatePem),
      },
    ])
  })

  it('verifies an answer signed with a configured key too', async () => {
    serve('signedByA')
    const configured = { ...config, platformPublicKeys: { [wx.platformCertA.serial]: wx.platformCertA.publicKeyPem } }
    expect((await downloads.download(configured, [], { now: NOW })).map((k) => k.serial)).toEqual([
      wx.platformCertA.serial,
      wx.platformCertC.serial,
    ])
  })

  it('refuses an answer whose signature does not verify', async () => {
    serve('badSignature')
    const error = await failureOf(downloads.download(config, [], { now: NOW }))
    expect(error.reason).toBe('signature_invalid')
    expect(error.message).toBe('signature does not verify')
  })

  it('refuses an answer signed at another time (the callback window applies)', async () => {
    serve('rotated')
    expect((await failureOf(downloads.download(config, [], { now: NOW + 301_000 }))).reason).toBe('signature_invalid')
  })

  it('refuses certificates encrypted under another APIv3 key, and one listed under another serial', async () => {
    serve('otherApiV3Key')
    expect((await failureOf(downloads.download(config, [], { now: NOW }))).message).toBe('certificate does not decrypt with the APIv3 key')
    serve('serialMismatch')
    expect((await failureOf(downloads.download(config, [], { now: NOW }))).message).toBe('certificate is listed under another serial')
  })

  it('leaves out expired certificates', async () => {
    serve('afterExpiryOfA')
    const now = fixtures.certificates.afterExpiryOfA.now
    expect(Date.parse(expiry(wx.platformCertA.certificatePem))).toBeLessThan(now)
    const listed = await downloads.download(config, [], { now })
    expect(listed.map((key) => key.serial)).toEqual([wx.platformCertC.serial])
  })

  it('is only for a merchant that asks for it and has the keys', () => {
    expect(downloads.enabled(config)).toBe(true)
    expect(downloads.enabled({ ...config, autoPlatformCertificates: undefined })).toBe(false)
    expect(downloads.enabled({ ...config, merchantPrivateKey: undefined })).toBe(false)
  })

  it('adds downloaded certificates beside the configured keys, leaving the section alone without any', () => {
    expect(downloads.withDownloaded(config, [])).toBe(config)
    const key = { serial: 'AB', certificatePem: 'pem', expiresAt: '2030-01-01T00:00:00.000Z' }
    expect(downloads.withDownloaded(config, [key]).downloadedPlatformCertificates).toEqual({ AB: 'pem' })
    expect(downloads.refreshIntervalMs).toBeLessThanOrEqual(12 * 3600_000)
  })
})
