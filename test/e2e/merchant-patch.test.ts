/**
 * `PATCH /admin/merchants/{id}` through the real Worker: a JSON merge patch of the PUT body, validated as a whole.
 * Rotating `forward.secret` alone keeps every other secret, and the next event verifies with the new secret only.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { orderStub } from '../../src/order/order-key'
import { verifyWebhook } from '../../src/verify-webhook'
import {
  admin,
  FORWARD_SECRET,
  forwardUrl,
  freshPayment,
  MERCHANT_ORIGIN,
  merchantBody,
  notify,
  ownKeys,
  registerFixtureMerchant,
} from '../security/harness'
import { merchantEndpoint, type Received } from '../support/operations'

const NEW_SECRET = `whsec_${btoa('rotated-forward-secret-32-bytes!!')}`

function patch(merchantId: string, body: unknown): Promise<Response> {
  return admin(`/admin/merchants/${merchantId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(body),
  })
}

async function errorMessage(response: Response): Promise<string> {
  return ((await response.json()) as { error: { message: string } }).error.message
}

describe('PATCH /admin/merchants/{merchantId}', () => {
  it('rotates forward.secret alone: the next event verifies with the new secret, every other setting is kept', async () => {
    const M = 'patch-rotate'
    await registerFixtureMerchant(M)
    const before = await (await admin(`/admin/merchants/${M}`)).json()
    const received = merchantEndpoint(forwardUrl(M), () => 200)

    const response = await patch(M, { forward: { secret: NEW_SECRET } })
    expect(response.status).toBe(200)
    const after = await response.json()
    // The public view is unchanged (secrets are never shown), and GET agrees.
    expect(after).toEqual(before)
    expect(await (await admin(`/admin/merchants/${M}`)).json()).toEqual(before)
    // A platform key given as a certificate is still stored as one (its expiry is watched: certificate.expiring).
    const stored = await env.DB.prepare('SELECT config FROM merchants WHERE id = ?').bind(M).first<{ config: string }>()
    const wechatpay = (JSON.parse(stored!.config) as { wechatpay: { platformCertificates: Record<string, string> } }).wechatpay
    expect(Object.keys(wechatpay.platformCertificates)).toEqual([keys.wechatpay.platformCertA.serial])

    // The WeChat Pay keys were kept: a signed v2 notification still verifies, and its event is signed anew.
    const payment = freshPayment('wechatpay.v2')
    expect((await notify('wechatpay.v2', M, payment)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'wechatpay', outTradeNo: payment.outTradeNo }))
    expect(received).toHaveLength(1)
    const [event] = received
    const headers = { 'webhook-id': event!.id, 'webhook-timestamp': event!.timestamp, 'webhook-signature': event!.signature }
    expect(new Webhook(NEW_SECRET.slice('whsec_'.length)).verify(event!.body, headers)).toMatchObject({ type: 'payment.succeeded' })
    expect(() => new Webhook(FORWARD_SECRET.slice('whsec_'.length)).verify(event!.body, headers)).toThrow()
  })

  it('keeps the old secret signing beside the new one when the patch says so, and null removes it again', async () => {
    const M = 'patch-previous'
    await registerFixtureMerchant(M)
    const received = merchantEndpoint(forwardUrl(M), () => 200)
    expect((await patch(M, { forward: { secret: NEW_SECRET, previousSecret: FORWARD_SECRET } })).status).toBe(200)
    const first = freshPayment('alipay')
    await notify('alipay', M, first)
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: first.outTradeNo }))
    expect(received[0]!.signature.split(' ')).toHaveLength(2)
    for (const secret of [NEW_SECRET, FORWARD_SECRET]) {
      const r = received[0]!
      expect(() =>
        new Webhook(secret.slice('whsec_'.length)).verify(r.body, {
          'webhook-id': r.id,
          'webhook-timestamp': r.timestamp,
          'webhook-signature': r.signature,
        }),
      ).not.toThrow()
    }

    expect((await patch(M, { forward: { previousSecret: null } })).status).toBe(200)
    const second = freshPayment('alipay')
    await notify('alipay', M, second)
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: second.outTradeNo }))
    expect(received[1]!.signature.split(' ')).toHaveLength(1)
  })

  it('a delivery being retried follows the settings in force at each attempt: secrets of a rotation, then a new URL', async () => {
    const M = 'patch-mid-retry'
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.parse('2031-06-01T00:00:00Z'))
      await registerFixtureMerchant(M)
      let status = 503
      const old = merchantEndpoint(forwardUrl(M), () => status)
      const moved = merchantEndpoint(`${MERCHANT_ORIGIN}/hooks/${M}-moved`, () => status)
      const payment = freshPayment('alipay')
      expect((await notify('alipay', M, payment)).status).toBe(200)
      const stub = orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo })
      const retryAfter = async (ms: number) => {
        vi.setSystemTime(Date.now() + ms)
        await runDurableObjectAlarm(stub)
      }
      // As the merchant's own code checks each request (paygate/verify-webhook): which secrets verify it.
      const verifiedBy = async (r: Received) => {
        const headers = { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature }
        const ok = async (secret: string) =>
          verifyWebhook(secret, headers, r.body).then(
            () => true,
            () => false,
          )
        return { old: await ok(FORWARD_SECRET), new: await ok(NEW_SECRET) }
      }

      await runDurableObjectAlarm(stub)
      expect((await patch(M, { forward: { secret: NEW_SECRET, previousSecret: FORWARD_SECRET } })).status).toBe(200)
      await retryAfter(7_000)
      expect((await patch(M, { forward: { previousSecret: null } })).status).toBe(200)
      await retryAfter(40_000)
      expect(await Promise.all(old.map(verifiedBy))).toEqual([
        { old: true, new: false },
        { old: true, new: true },
        { old: false, new: true },
      ])
      // The endpoint moves while the delivery waits for its next attempt: that attempt goes to the new URL, delivered.
      expect((await patch(M, { forward: { url: `${MERCHANT_ORIGIN}/hooks/${M}-moved` } })).status).toBe(200)
      status = 200
      await retryAfter(150_000)
      expect(old).toHaveLength(3)
      expect(await Promise.all(moved.map(verifiedBy))).toEqual([{ old: false, new: true }])
      // One event throughout: one webhook-id, the same body.
      expect(new Set([...old, ...moved].map((r) => r.id)).size).toBe(1)
      expect(new Set([...old, ...moved].map((r) => r.body)).size).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('merges maps member by member: null removes one platform key, the others stay', async () => {
    const M = 'patch-keys'
    await registerFixtureMerchant(M)
    const { platformCertB } = keys.wechatpay
    const response = await patch(M, { wechatpay: { platformPublicKeys: { [platformCertB.serial]: null } }, requireRegisteredOrders: true })
    expect(response.status).toBe(200)
    const view = (await response.json()) as { wechatpay: { platformPublicKeys: Record<string, string> }; requireRegisteredOrders?: boolean }
    expect(Object.keys(view.wechatpay.platformPublicKeys).sort()).toEqual(
      [keys.wechatpay.platformCertA.serial, keys.wechatpay.publicKeyMode.id].sort(),
    )
    expect(view.requireRegisteredOrders).toBe(true)
    const removed = (await (await patch(M, { requireRegisteredOrders: null })).json()) as object
    expect(removed).not.toHaveProperty('requireRegisteredOrders')
  })

  it('validates the result as a whole, naming the field, and changes nothing when it is refused', async () => {
    const M = 'patch-invalid'
    await registerFixtureMerchant(M)
    const before = await (await admin(`/admin/merchants/${M}`)).json()
    const cases: [unknown, string][] = [
      [{ forward: { url: 'http://merchant.example/hook' } }, 'forward.url: must use https'],
      [{ forward: { url: null } }, 'forward.url: is required'],
      [{ forward: { sekret: NEW_SECRET } }, 'forward.sekret: unknown field (expected one of url, secret, previousSecret)'],
      [{ forward: { secret: 'whsec_c2hvcnQ=' } }, 'forward.secret: must decode to 16–64 bytes'],
      [{ wechatpay: { apiV2Key: null, apiV3Key: null } }, 'wechatpay: at least one of apiV2Key, apiV3Key is required'],
      [{ wechatpay: null, alipay: null }, 'body: at least one of wechatpay, alipay is required'],
      [{ alipay: { signType: 'RSA3' } }, 'alipay.signType: must be "RSA2" or "RSA"'],
      [{ requireRegisteredOrders: 'yes' }, 'requireRegisteredOrders: must be true or false'],
      [['not', 'an', 'object'], 'body: must be an object'],
    ]
    for (const [body, message] of cases) {
      const response = await patch(M, body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(await errorMessage(response)).toBe(message)
    }
    expect(await (await admin(`/admin/merchants/${M}`)).json()).toEqual(before)
  })

  it('removes apiV2Key with null from a merchant that never chose v2SignType: no sign types are left behind', async () => {
    const M = 'patch-v2-off'
    const { publicKeyMode } = keys.wechatpay
    const body = {
      forward: { url: forwardUrl(M), secret: FORWARD_SECRET },
      wechatpay: {
        ...ownKeys(M).wechat,
        apiV2Key: keys.wechatpay.apiV2Key,
        apiV3Key: keys.wechatpay.apiV3Key,
        platformPublicKeys: { [publicKeyMode.id]: publicKeyMode.publicKeyPem },
      },
    }
    expect((await admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(body) })).status).toBe(201)
    const patched = await patch(M, { wechatpay: { apiV2Key: null } })
    expect({ status: patched.status, body: patched.status === 200 ? null : await patched.json() }).toEqual({ status: 200, body: null })
    const { wechatpay } = (await (await admin(`/admin/merchants/${M}`)).json()) as { wechatpay: Record<string, unknown> }
    expect(wechatpay).not.toHaveProperty('v2SignType')
    // One that chose a sign type still has to say what becomes of it.
    await patch(M, { wechatpay: { apiV2Key: keys.wechatpay.apiV2Key, v2SignType: 'MD5' } })
    expect(await errorMessage(await patch(M, { wechatpay: { apiV2Key: null } }))).toBe('wechatpay.v2SignType: requires apiV2Key')
    expect((await patch(M, { wechatpay: { apiV2Key: null, v2SignType: null } })).status).toBe(200)
  })

  it('points the Alipay gateway elsewhere only with the app_auth_token it would receive given again (a security review read it out)', async () => {
    const M = 'patch-isv-gateway'
    const base = merchantBody(M, { identity: ownKeys(M), providers: ['alipay'] })
    const token = '202612BBpatchisvgatewaytoken0123456789'
    const body = { ...base, alipay: { ...base.alipay, authAppId: '2021000000000042', appAuthToken: token } }
    expect((await admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(body) })).status).toBe(201)
    const before = await (await admin(`/admin/merchants/${M}`)).json()
    const elsewhere = 'https://gateway.elsewhere.example/gateway.do'

    const refused = await patch(M, { alipay: { gatewayUrl: elsewhere } })
    expect({ status: refused.status, message: await errorMessage(refused) }).toEqual({
      status: 400,
      message: 'alipay.gatewayUrl: a new URL receives alipay.appAuthToken: give it again in the same request',
    })
    expect(await (await admin(`/admin/merchants/${M}`)).json()).toEqual(before)
    // Given again, it is the caller's own to send; other changes, and going back to Alipay's own gateway, need nothing.
    expect((await patch(M, { alipay: { gatewayUrl: elsewhere, appAuthToken: token } })).status).toBe(200)
    expect((await patch(M, { alipay: { signType: 'RSA2' } })).status).toBe(200)
    expect((await patch(M, { alipay: { gatewayUrl: null } })).status).toBe(200)
    expect(await (await admin(`/admin/merchants/${M}`)).json()).toEqual(before)
    // Without a token stored there is nothing to give again.
    expect((await patch(M, { alipay: { appAuthToken: null, authAppId: null } })).status).toBe(200)
    expect((await patch(M, { alipay: { gatewayUrl: elsewhere } })).status).toBe(200)
  })

  it('answers 404 for an unknown merchant', async () => {
    const response = await patch('patch-nobody', { forward: { secret: NEW_SECRET } })
    expect(response.status).toBe(404)
  })
})
