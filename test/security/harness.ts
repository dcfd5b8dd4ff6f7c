/**
 * @module Driving the real Worker for the security tests: merchants registered through the admin API,
 * notifications posted to the real routes, every forwarded event recorded at the network edge, and
 * order state read back through the admin API.
 */
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import worker from '../../src/index'
import { orderStub } from '../../src/order/order-key'
import type { Channel, Provider } from '../../src/providers'
import { NOTIFY_PATH, PROVIDER_OF } from '../support/providers'
import {
  alipayPayment,
  freshOrderNo,
  ownIds,
  v2Payment,
  v3Payment,
  type AlipayIdentity,
  type SignedNotify,
  type SubMerchant,
  type V2SignType,
  type WechatIdentity,
} from './signing'

export const ADMIN_TOKEN = env.ADMIN_TOKEN!
export const MERCHANT_ORIGIN = 'https://merchant.example'
export const FORWARD_SECRET = `whsec_${btoa('paygate-security-forward-secret!')}`

export function forwardUrl(merchantId: string): string {
  return `${MERCHANT_ORIGIN}/hooks/${merchantId}`
}

export { PROVIDER_OF }

// --- replies (contract.md, "Provider callback endpoints") ------------------------------------------

export interface Reply {
  status: number
  body: string
}

export const ACCEPT: Record<Channel, Reply> = {
  'wechatpay.v2': { status: 200, body: '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>' },
  'wechatpay.v3': { status: 204, body: '' },
  alipay: { status: 200, body: 'success' },
}

export function rejectReply(channel: Channel, status: number, message: string): Reply {
  switch (channel) {
    case 'wechatpay.v2':
      return { status, body: `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${message}]]></return_msg></xml>` }
    case 'wechatpay.v3':
      return { status, body: JSON.stringify({ code: 'FAIL', message }) }
    case 'alipay':
      return { status, body: 'failure' }
  }
}

export function adminErrorReply(status: number, code: string, message: string): Reply {
  return { status, body: JSON.stringify({ error: { code, message } }) }
}

// --- admin API -----------------------------------------------------------------------------------

export function admin(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const { token = ADMIN_TOKEN, ...rest } = init
  const headers = new Headers(rest.headers)
  if (token !== null) headers.set('authorization', `Bearer ${token}`)
  if (rest.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json')
  return exports.default.fetch(`https://gw.test${path}`, { ...rest, headers })
}

export interface MerchantKeys {
  wechat: WechatIdentity
  alipay: AlipayIdentity
}

/** Provider ids of the merchant's own (the fixtures' keys): for every merchant of a file but the one that posts fixtures. */
export function ownKeys(merchantId: string): MerchantKeys {
  return ownIds(merchantId)
}

/** The PUT body of a merchant that every fixture in test/fixtures was signed for (all three channels). */
export interface MerchantBodyOptions {
  v2SignType?: string | string[]
  alipaySignType?: string
  identity?: MerchantKeys
  /** The provider sections the merchant has (default both). */
  providers?: Provider[]
  /** Fields added to (or, when undefined, removed from) each section: partner mode, lists of apps, ISV, certificates. */
  wechatpayFields?: Record<string, unknown>
  alipayFields?: Record<string, unknown>
}

export function merchantBody(merchantId: string, options: MerchantBodyOptions = {}) {
  const { platformCertA, platformCertB, publicKeyMode } = keys.wechatpay
  const wechat = options.identity?.wechat ?? {
    appid: keys.wechatpay.appid,
    mchid: keys.wechatpay.mchid,
    apiV2Key: keys.wechatpay.apiV2Key,
    apiV3Key: keys.wechatpay.apiV3Key,
  }
  const alipay = options.identity?.alipay ?? { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId }
  const providers = options.providers ?? ['wechatpay', 'alipay']
  const body = {
    forward: { url: forwardUrl(merchantId), secret: FORWARD_SECRET },
    wechatpay: {
      appid: wechat.appid,
      mchid: wechat.mchid,
      apiV2Key: wechat.apiV2Key,
      v2SignType: options.v2SignType ?? ['MD5', 'HMAC-SHA256'],
      apiV3Key: wechat.apiV3Key,
      platformPublicKeys: {
        [platformCertA.serial]: platformCertA.certificatePem,
        [platformCertB.serial]: platformCertB.publicKeyPem,
        [publicKeyMode.id]: publicKeyMode.publicKeyPem,
      },
    },
    alipay: {
      appId: alipay.appId,
      sellerId: alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      signType: options.alipaySignType ?? 'RSA2',
    },
  }
  // JSON drops the fields set to undefined: how an option removes one.
  return JSON.parse(
    JSON.stringify({
      forward: body.forward,
      ...(providers.includes('wechatpay') ? { wechatpay: { ...body.wechatpay, ...options.wechatpayFields } } : {}),
      ...(providers.includes('alipay') ? { alipay: { ...body.alipay, ...options.alipayFields } } : {}),
    }),
  ) as typeof body
}

export async function registerMerchant(merchantId: string, options: Parameters<typeof merchantBody>[1] = {}): Promise<void> {
  const response = await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(merchantBody(merchantId, options)) })
  if (response.status !== 200 && response.status !== 201)
    throw new Error(`merchant ${merchantId}: ${response.status} ${await response.text()}`)
}

/** The merchant of this test file that holds the fixture ids, and how it was registered. */
let fixtureHolder: { merchantId: string; options: MerchantBodyOptions } | undefined

/**
 * Registers `merchantId` with the fixture ids, for which every committed fixture (test/fixtures) is signed. No
 * two merchants may claim one provider identity, so the merchant of this file that held them before is first
 * saved again with ids of its own (`ownKeys`): from then on it takes no fixture. Module state, like the D1 it
 * mirrors, is the test file's own.
 */
export async function registerFixtureMerchant(merchantId: string, options: MerchantBodyOptions = {}): Promise<void> {
  const previous = fixtureHolder
  if (previous !== undefined && previous.merchantId !== merchantId) {
    await registerMerchant(previous.merchantId, { ...previous.options, identity: ownKeys(previous.merchantId) })
  }
  await registerMerchant(merchantId, options)
  fixtureHolder = { merchantId, options }
}

export async function registerOrder(merchantId: string, outTradeNo: string, amount: number, currency = 'CNY'): Promise<void> {
  const response = await admin(`/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}`, {
    method: 'PUT',
    body: JSON.stringify({ amount, currency }),
  })
  if (response.status !== 200) throw new Error(`order ${outTradeNo}: ${response.status} ${await response.text()}`)
}

/** The order as `GET /admin/merchants/{id}/orders/{no}` shows it, or null when the gateway never heard of it. */
export interface OrderView {
  status: string
  amount: number | null
  expected_amount: number | null
  updated_at: string
  events: { id: string; type: string }[]
  deliveries: { id: string; event_id: string; status: string; attempts: number }[]
  notifications: { verdict: string; reason: string | null }[]
}

export async function orderView(merchantId: string, provider: Provider, outTradeNo: string): Promise<OrderView | null> {
  const response = await admin(`/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}?provider=${provider}`)
  if (response.status === 404) return null
  if (response.status !== 200) throw new Error(`order ${outTradeNo}: ${response.status} ${await response.text()}`)
  return (await response.json()) as OrderView
}

/** Everything about an order but its audit trail, which records hostile attempts by design. */
export async function orderState(
  merchantId: string,
  provider: Provider,
  outTradeNo: string,
): Promise<Omit<OrderView, 'notifications'> | null> {
  const view = await orderView(merchantId, provider, outTradeNo)
  if (view === null) return null
  const { notifications: _audit, ...state } = view
  return state
}

/** Runs the order object's alarm now: anything in its outbox would be forwarded at once. */
export async function drainOutbox(merchantId: string, provider: Provider, outTradeNo: string): Promise<void> {
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
}

// --- notifications -------------------------------------------------------------------------------

export interface RawPost {
  body?: BodyInit | null
  headers?: Record<string, string>
}

export function notify(channel: Channel, merchantId: string, post: RawPost): Promise<Response> {
  return exports.default.fetch(`https://gw.test/notify/${merchantId}/${NOTIFY_PATH[channel]}`, {
    method: 'POST',
    headers: post.headers ?? {},
    body: post.body ?? null,
  })
}

export function notifyRequest(channel: Channel, merchantId: string, post: RawPost): Request {
  return new Request(`https://gw.test/notify/${merchantId}/${NOTIFY_PATH[channel]}`, {
    method: 'POST',
    headers: post.headers ?? {},
    body: post.body ?? null,
  })
}

/** A fixture case (test/fixtures/*.json) as a POST: its body (or base64 bytes) and its headers. */
export function fixturePost(channel: Channel, fixture: { body?: string; bodyBase64?: string; headers?: Record<string, string> }): RawPost {
  const body = fixture.bodyBase64 !== undefined ? Uint8Array.from(atob(fixture.bodyBase64), (c) => c.charCodeAt(0)) : (fixture.body ?? '')
  const contentType =
    channel === 'alipay' ? 'application/x-www-form-urlencoded; charset=utf-8' : channel === 'wechatpay.v2' ? 'text/xml' : 'application/json'
  return { body, headers: { 'content-type': contentType, ...fixture.headers } }
}

/** A correctly signed payment for a new order on `channel`, signed for the current clock. */
export interface FreshPaymentOptions {
  outTradeNo?: string
  amount?: number
  identity?: MerchantKeys
  v2SignType?: V2SignType
  /** WeChat Pay partner mode: the sub-merchant (the identity is the service provider's). */
  partner?: SubMerchant
  /** Another of the merchant's WeChat apps. */
  appid?: string
  /** Alipay third-party (ISV) app: the authorizing merchant app. */
  authAppId?: string
  /** The key Alipay signs with (certificate mode: its certificate's). */
  alipayPrivateKeyPem?: string
}

export function freshPayment(channel: Channel, options: FreshPaymentOptions = {}): SignedNotify & { outTradeNo: string } {
  const outTradeNo = options.outTradeNo ?? freshOrderNo(channel.replace('.', ''))
  const amount = options.amount ?? 100
  switch (channel) {
    case 'wechatpay.v2':
      return {
        ...v2Payment({
          outTradeNo,
          amount,
          signType: options.v2SignType ?? 'MD5',
          ...(options.identity ? { identity: options.identity.wechat } : {}),
          ...(options.partner ? { partner: options.partner } : {}),
          ...(options.appid ? { appid: options.appid } : {}),
        }),
        outTradeNo,
      }
    case 'wechatpay.v3':
      return {
        ...v3Payment({
          outTradeNo,
          amount,
          ...(options.identity ? { identity: options.identity.wechat } : {}),
          ...(options.partner ? { partner: options.partner } : {}),
          ...(options.appid ? { appid: options.appid } : {}),
        }),
        outTradeNo,
      }
    case 'alipay':
      return {
        ...alipayPayment({
          outTradeNo,
          amount,
          ...(options.identity ? { identity: options.identity.alipay } : {}),
          ...(options.authAppId ? { authAppId: options.authAppId } : {}),
          ...(options.alipayPrivateKeyPem ? { privateKeyPem: options.alipayPrivateKeyPem } : {}),
        }),
        outTradeNo,
      }
  }
}

// --- the merchant's side of the wire ---------------------------------------------------------------

export interface ForwardedCall {
  merchantId: string
  webhookId: string
  type: string
  outTradeNo: string
}

/**
 * Installs a merchant endpoint for every `https://merchant.example/hooks/{merchantId}` that answers
 * 200 and appends each event it receives to `log`. msw handlers are reset after each test
 * (test/setup.ts), so call this in a `beforeEach`.
 */
export function recordForwarded(log: ForwardedCall[]): void {
  network.use(
    http.post(`${MERCHANT_ORIGIN}/hooks/:merchantId`, async ({ request, params }) => {
      const event = (await request.json()) as { type: string; data: { out_trade_no: string } }
      log.push({
        merchantId: String(params.merchantId),
        webhookId: request.headers.get('webhook-id') ?? '',
        type: event.type,
        outTradeNo: event.data.out_trade_no,
      })
      return HttpResponse.text('ok')
    }),
  )
}

// --- calling the Worker with a modified environment ---------------------------------------------

/**
 * Calls the Worker's fetch handler directly, in this isolate, with `env` changed as given. This is how
 * the tests make D1 unavailable or the Worker run in production mode: bindings cannot be unplugged
 * from a running workerd, but the handler takes its environment as an argument.
 */
export async function callWorker(request: Request, overrides: Partial<Env>): Promise<Response> {
  const ctx = createExecutionContext()
  const response = await worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, { ...env, ...overrides }, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

export class D1Unavailable extends Error {
  override readonly name = 'D1Unavailable'
  constructor() {
    super('D1_ERROR: Network connection lost.')
  }
}

/**
 * A D1Database-shaped binding whose every query fails the way an unreachable D1 does (a rejected
 * promise from `first`/`run`/`all`/`raw`/`batch`). `calls` counts the attempts, to show D1 was tried.
 */
export function unavailableD1(): { db: D1Database; calls: () => number } {
  let calls = 0
  const fail = async (): Promise<never> => {
    calls += 1
    throw new D1Unavailable()
  }
  const statement = {
    bind: () => statement,
    first: fail,
    run: fail,
    all: fail,
    raw: fail,
  }
  const db = {
    prepare: () => statement,
    batch: fail,
    exec: fail,
    dump: fail,
    withSession: () => db,
  }
  return { db: db as unknown as D1Database, calls: () => calls }
}
