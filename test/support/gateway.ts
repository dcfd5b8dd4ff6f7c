/** @module Driving the real Worker in tests: admin calls, merchants built from the throwaway keys, notify posts. */
import { exports } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { ownIds } from '../security/signing'
import type { Channel } from '../../src/providers'
import { NOTIFY_PATH } from './providers'

export const ADMIN_TOKEN = 'test-admin-token-32-characters-long'
export const FORWARD_URL = 'https://merchant.example/hooks/payments'
export const FORWARD_SECRET = `whsec_${btoa('forward-secret-for-e2e-tests-32b')}`

/** Every secret a test merchant holds: none may ever appear in a response or a log line. */
export const MERCHANT_SECRETS = [FORWARD_SECRET, keys.wechatpay.apiV2Key, keys.wechatpay.apiV3Key, ADMIN_TOKEN]

export function admin(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const { token = ADMIN_TOKEN, ...rest } = init
  const headers = new Headers(rest.headers)
  if (token !== null) headers.set('authorization', `Bearer ${token}`)
  if (rest.body !== undefined) headers.set('content-type', 'application/json')
  return exports.default.fetch(`https://gw.test${path}`, { ...rest, headers })
}

/** A merchant that matches every fixture in test/fixtures (all three channels). */
export function merchantBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { platformCertA, platformCertB, publicKeyMode } = keys.wechatpay
  return {
    forward: { url: FORWARD_URL, secret: FORWARD_SECRET },
    wechatpay: {
      appid: keys.wechatpay.appid,
      mchid: keys.wechatpay.mchid,
      apiV2Key: keys.wechatpay.apiV2Key,
      v2SignType: ['MD5', 'HMAC-SHA256'],
      apiV3Key: keys.wechatpay.apiV3Key,
      platformPublicKeys: {
        [platformCertA.serial]: platformCertA.certificatePem,
        [platformCertB.serial]: platformCertB.publicKeyPem,
        [publicKeyMode.id]: publicKeyMode.publicKeyPem,
      },
    },
    alipay: {
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      signType: 'RSA2',
    },
    ...overrides,
  }
}

export async function putMerchant(id: string, overrides: Record<string, unknown> = {}): Promise<void> {
  const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(merchantBody(overrides)) })
  if (response.status !== 200 && response.status !== 201) throw new Error(`merchant ${id}: ${response.status} ${await response.text()}`)
}

/** `body` with provider ids of merchant `id`'s own (`ownIds`) in place of the fixtures': it then takes no fixture. */
export function withOwnIds(id: string, merchant: object): Record<string, unknown> {
  const body = merchant as Record<string, unknown>
  const { wechat, alipay } = ownIds(id)
  const section = (name: string, ids: Record<string, string>) =>
    body[name] === undefined ? {} : { [name]: { ...(body[name] as Record<string, unknown>), ...ids } }
  return {
    ...body,
    ...section('wechatpay', { appid: wechat.appid, mchid: wechat.mchid }),
    ...section('alipay', { appId: alipay.appId, sellerId: alipay.sellerId }),
  }
}

/** The merchant of this test file that holds the fixture ids, and its overrides. */
let fixtureHolder: { id: string; overrides: Record<string, unknown> } | undefined

/**
 * `putMerchant` for a merchant that takes the committed fixtures (signed for the fixture ids). No two merchants
 * may claim one provider identity, so the merchant of this file that held them before is first saved again with
 * ids of its own (`withOwnIds`). Module state, like the D1 it mirrors, is the test file's own.
 */
export async function putFixtureMerchant(id: string, overrides: Record<string, unknown> = {}): Promise<void> {
  const previous = fixtureHolder
  if (previous !== undefined && previous.id !== id) await putOwnIdsMerchant(previous.id, previous.overrides)
  await putMerchant(id, overrides)
  fixtureHolder = { id, overrides }
}

/** `putMerchant` with provider ids of the merchant's own: for merchants that take no fixture. */
export async function putOwnIdsMerchant(id: string, overrides: Record<string, unknown> = {}): Promise<void> {
  const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(withOwnIds(id, merchantBody(overrides))) })
  if (response.status !== 200 && response.status !== 201) throw new Error(`merchant ${id}: ${response.status} ${await response.text()}`)
}

export { NOTIFY_PATH }

export interface FixtureCase {
  body?: string
  bodyBase64?: string
  headers?: Record<string, string>
}

export function notify(channel: Channel, merchantId: string, fixture: FixtureCase): Promise<Response> {
  const body = fixture.bodyBase64 !== undefined ? Uint8Array.from(atob(fixture.bodyBase64), (c) => c.charCodeAt(0)) : fixture.body
  const contentType =
    channel === 'alipay'
      ? 'application/x-www-form-urlencoded; text/html; charset=utf-8'
      : channel === 'wechatpay.v2'
        ? 'text/xml'
        : 'application/json'
  return exports.default.fetch(`https://gw.test/notify/${merchantId}/${NOTIFY_PATH[channel]}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...fixture.headers },
    body,
  })
}

export interface ForwardedCall {
  id: string
  type: string
  body: string
}

/** The merchant's endpoint, answering 200 and recording what the gateway forwarded. */
export function recordForwarded(url = FORWARD_URL): ForwardedCall[] {
  const calls: ForwardedCall[] = []
  network.use(
    http.post(url, async ({ request }) => {
      const body = await request.text()
      calls.push({ id: request.headers.get('webhook-id') ?? '', type: (JSON.parse(body) as { type: string }).type, body })
      return HttpResponse.text('ok')
    }),
  )
  return calls
}

export interface OrderView {
  status: string
  amount: number | null
  events: { id: string; type: string; data: Record<string, unknown> }[]
  deliveries: { id: string; event_id: string; status: string }[]
  notifications: { verdict: string; reason: string | null }[]
}

export async function getOrder(merchantId: string, outTradeNo: string): Promise<OrderView> {
  const response = await admin(`/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}`)
  if (response.status !== 200) throw new Error(`order ${outTradeNo}: ${response.status} ${await response.text()}`)
  return (await response.json()) as OrderView
}
