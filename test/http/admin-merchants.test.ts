import { X509Certificate } from 'node:crypto'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import { readPem, toBase64 } from '../../src/crypto/encoding'
import { withOwnIds } from '../support/gateway'

const TOKEN = 'test-admin-token-32-characters-long'
const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`
const OLD_SECRET = `whsec_${btoa('previous-secret-32-bytes-long!!!')}`
const { platformCertA, platformCertB, publicKeyMode } = keys.wechatpay
const SECRETS = [SECRET, OLD_SECRET, keys.wechatpay.apiV2Key, keys.wechatpay.apiV3Key]

const bare = (pem: string): string => toBase64(readPem(pem).der)

function merchantBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET, previousSecret: OLD_SECRET },
    wechatpay: {
      appid: keys.wechatpay.appid,
      mchid: keys.wechatpay.mchid,
      apiV2Key: keys.wechatpay.apiV2Key,
      v2SignType: 'MD5',
      apiV3Key: keys.wechatpay.apiV3Key,
      platformPublicKeys: {
        [platformCertA.serial.toLowerCase()]: platformCertA.certificatePem,
        [publicKeyMode.id]: publicKeyMode.publicKeyPem,
      },
    },
    alipay: {
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: bare(keys.alipay.alipayKey.publicKeyPem),
    },
    ...overrides,
  }
}

function admin(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const { token = TOKEN, ...rest } = init
  const headers = new Headers(rest.headers)
  if (token !== null) headers.set('authorization', `Bearer ${token}`)
  return exports.default.fetch(`https://gw.test${path}`, { ...rest, headers })
}

function put(id: string, body: unknown, token: string | null = TOKEN): Promise<Response> {
  return admin(`/admin/merchants/${id}`, {
    method: 'PUT',
    token,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } }
  expect(Object.keys(body)).toEqual(['error'])
  return body.error
}

describe('admin merchant endpoints', () => {
  it('refuse requests without the admin token, or with a wrong one', async () => {
    for (const token of [null, 'wrong-token', `${TOKEN}x`]) {
      const putResponse = await put('acme-auth', merchantBody(), token)
      expect(putResponse.status).toBe(401)
      expect(await errorOf(putResponse)).toEqual({ code: 'unauthorized', message: expect.any(String) })
      const getResponse = await admin('/admin/merchants/acme-auth', { token })
      expect(getResponse.status).toBe(401)
      expect((await errorOf(getResponse)).code).toBe('unauthorized')
    }
    const basic = await exports.default.fetch('https://gw.test/admin/merchants/acme-auth', {
      headers: { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` },
    })
    expect(basic.status).toBe(401)
    // Nothing was created by the refused PUTs.
    expect((await admin('/admin/merchants/acme-auth')).status).toBe(404)
  })

  it('create a merchant with 201, then replace it with 200', async () => {
    // Provider ids of its own: acme-view below holds the fixture ids, and no two merchants may share them.
    const created = await put('acme', withOwnIds('acme', merchantBody()))
    expect(created.status).toBe(201)
    expect(created.headers.get('content-type')).toMatch(/^application\/json/)
    const replaced = await put('acme', withOwnIds('acme', merchantBody({ alipay: undefined })))
    expect(replaced.status).toBe(200)
    expect(await replaced.json()).not.toHaveProperty('alipay')
    const stored = await env.DB.prepare('SELECT version FROM merchants WHERE id = ?1').bind('acme').first<{ version: number }>()
    expect(stored?.version).toBe(2)
  })

  it('return the merchant without any secret, with keys normalized and certificates as given', async () => {
    const putResponse = await put('acme-view', merchantBody())
    const putText = await putResponse.text()
    const getResponse = await admin('/admin/merchants/acme-view')
    expect(getResponse.status).toBe(200)
    const text = await getResponse.text()
    for (const secret of SECRETS) {
      expect(text).not.toContain(secret)
      expect(putText).not.toContain(secret)
    }
    expect(JSON.parse(text)).toEqual({
      forward: { url: 'https://merchant.example/hooks/payments' },
      wechatpay: {
        appid: keys.wechatpay.appid,
        mchid: keys.wechatpay.mchid,
        v2SignType: 'MD5',
        // A certificate as given (the PUT body's shape): saved back, it keeps its expiry.
        platformPublicKeys: {
          [platformCertA.serial]: platformCertA.certificatePem,
          [publicKeyMode.id]: publicKeyMode.publicKeyPem,
        },
        // Contract part 2: every platform key with its source, and the expiry of a key given as a certificate.
        platformKeys: [
          {
            serial: platformCertA.serial,
            source: 'configured',
            expires_at: new Date(new X509Certificate(platformCertA.certificatePem).validTo).toISOString(),
          },
          { serial: publicKeyMode.id, source: 'configured', expires_at: null },
        ],
      },
      alipay: {
        appId: keys.alipay.appId,
        sellerId: keys.alipay.sellerId,
        alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
        signType: 'RSA2',
      },
    })
    expect(JSON.parse(putText)).toEqual(JSON.parse(text))
  })

  it('refuse a certificate listed under another serial, naming the field', async () => {
    const response = await put(
      'acme-serial',
      merchantBody({
        wechatpay: {
          appid: keys.wechatpay.appid,
          mchid: keys.wechatpay.mchid,
          apiV3Key: keys.wechatpay.apiV3Key,
          platformPublicKeys: { [platformCertB.serial]: platformCertA.certificatePem },
        },
      }),
    )
    expect(response.status).toBe(400)
    expect(await errorOf(response)).toEqual({
      code: 'invalid_request',
      message:
        `wechatpay.platformPublicKeys.${platformCertB.serial}: ` +
        `certificate serial is ${platformCertA.serial}, not the serial it is listed under`,
    })
  })

  it('answer 400 with messages that name the bad field, never echoing secrets', async () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', 'body: not valid JSON'],
      [merchantBody({ forward: { url: 'http://merchant.example/h', secret: SECRET } }), 'forward.url: must use https'],
      [
        merchantBody({ wechatpay: { ...(merchantBody().wechatpay as object), apiV3Key: 'short-key' } }),
        'wechatpay.apiV3Key: must be 32 characters',
      ],
      [merchantBody({ alipay: { ...(merchantBody().alipay as object), sign_type: 'RSA2' } }), 'alipay.sign_type: unknown field'],
      [merchantBody({ wechatpay: undefined, alipay: undefined }), 'body: at least one of wechatpay, alipay is required'],
    ]
    for (const [body, message] of cases) {
      const response = await put('acme-invalid', body)
      expect(response.status).toBe(400)
      const error = await errorOf(response)
      expect(error.code).toBe('invalid_request')
      expect(error.message.startsWith(message)).toBe(true)
      for (const secret of SECRETS) expect(error.message).not.toContain(secret)
    }
    const badId = await put('acme.shop', merchantBody())
    expect(badId.status).toBe(400)
    expect((await errorOf(badId)).message).toMatch(/^merchantId: /)
    expect((await admin('/admin/merchants/acme-invalid')).status).toBe(404)
  })

  it('answer 404 not_found for an unknown merchant or an id that cannot exist', async () => {
    for (const id of ['nobody', 'no.body', 'x'.repeat(65)]) {
      const response = await admin(`/admin/merchants/${id}`)
      expect(response.status).toBe(404)
      expect((await errorOf(response)).code).toBe('not_found')
    }
  })

  it('answer an unknown admin path with 404 in the admin error shape', async () => {
    const response = await admin('/admin/merchant/acme')
    expect(response.status).toBe(404)
    expect((await errorOf(response)).code).toBe('not_found')
    const unknownRoot = await exports.default.fetch('https://gw.test/nothing-here')
    expect(unknownRoot.status).toBe(404)
    expect((await errorOf(unknownRoot)).code).toBe('not_found')
  })
})

describe('admin reply headers', () => {
  it('every reply, success or error, is never stored, sniffed or framed (it shares the console’s origin)', async () => {
    expect((await put('headers-merchant', withOwnIds('headers-merchant', merchantBody()))).status).toBe(201)
    const replies = [
      await admin('/admin/merchants/headers-merchant'),
      await admin('/admin/merchants?limit=1'),
      await admin('/admin/merchants/headers-merchant', { token: null }),
      await admin('/admin/merchants/nobody-here'),
      await admin('/admin/merchants?limit=0'),
      await admin('/admin/no-such-endpoint'),
      await admin('/admin/openapi.json', { token: null }),
    ]
    expect(replies.map((r) => r.status)).toEqual([200, 200, 401, 404, 400, 404, 200])
    for (const reply of replies) {
      expect(
        Object.fromEntries(
          ['cache-control', 'x-content-type-options', 'content-security-policy', 'referrer-policy'].map((h) => [h, reply.headers.get(h)]),
        ),
        reply.url,
      ).toEqual({
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
      })
      await reply.body?.cancel()
    }
  })
})
