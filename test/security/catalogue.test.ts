/**
 * The attack catalogue: one row per hostile input, across the three provider channels and the admin
 * API, each sent through the real Worker (router → adapter → order Durable Object → D1). Every row
 * asserts
 *   1. the exact reply (status and body, per contract.md for its channel),
 *   2. that no order the gateway knows changed (state, events, outbox; the audit trail may grow),
 *   3. that nothing was forwarded: the outboxes of the orders involved are drained on the spot and
 *      the merchant endpoint saw no event for them,
 *   4. that a correctly signed notification for a fresh order right after is still accepted.
 * The last test checks the merchant's side of the wire once more: one event per genuine payment.
 */
import { http, HttpResponse } from 'msw'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import type { Channel, Provider } from '../../src/providers'
import {
  ACCEPT,
  ADMIN_TOKEN,
  admin,
  adminErrorReply,
  callWorker,
  drainOutbox,
  fixturePost,
  freshPayment,
  merchantBody,
  notify,
  orderState,
  orderView,
  ownKeys,
  PROVIDER_OF,
  recordForwarded,
  registerMerchant,
  registerOrder,
  rejectReply,
  type ForwardedCall,
  type FreshPaymentOptions,
  type MerchantKeys,
  type Reply,
} from './harness'
import { alipayRefundNotify, v2RefundNotify, v3RefundNotify } from '../support/refunds'
import {
  alipayForm,
  alipayPaymentParams,
  signAlipay,
  signV2,
  v2PaymentFields,
  v2Xml,
  v3Payment,
  type SignedNotify,
  type SubMerchant,
} from './signing'

/** Accepts every fixture: MD5 and HMAC-SHA256, RSA2. */
const SEC = 'sec'
/** Allows HMAC-SHA256 only: MD5 notifies are a downgrade. Ids of its own (SEC holds the fixtures'), SEC's keys. */
const SEC_HMAC = 'sec-hmac'
const HMAC_KEYS: MerchantKeys = ownKeys(SEC_HMAC)
/** Another merchant with its own ids and keys, but the same provider public keys (worst case). */
const OTHER = 'sec-other'
const OTHER_KEYS: MerchantKeys = {
  wechat: { appid: 'wx7777777777777777', mchid: '1900000777', apiV2Key: v2Fixtures.otherApiV2Key, apiV3Key: v3Fixtures.otherApiV3Key },
  alipay: { appId: '2021000000000777', sellerId: '2088000000000777' },
}

/** Partner mode (服务商): sub-merchant A of SEC's WeChat account, with SEC's keys; B is another sub-merchant of it. */
const SEC_SUB_A = 'sec-sub-a'
const SUB_A: SubMerchant = { subMchid: v3Fixtures.partner.subMchid, subAppid: v3Fixtures.partner.subAppid }
const SUB_B: SubMerchant = { subMchid: v3Fixtures.partner.otherSubMchid, subAppid: v3Fixtures.partner.otherSubAppid }
/** Several apps: two WeChat appids on one mchid, two Alipay apps of one seller (an identity of its own). */
const SEC_APPS = 'sec-apps'
const APPS_KEYS: MerchantKeys = {
  wechat: { ...OTHER_KEYS.wechat, appid: 'wx5555555555555501', mchid: '1900000555' },
  alipay: { appId: '2021000000000501', sellerId: '2088000000000501' },
}
const APPS_SECOND = { wechat: 'wx5555555555555502', alipay: '2021000000000502' }
/** Alipay third-party (ISV) app: SEC's app acting for the authorizing app of seller 2088000000000555. */
const SEC_ISV = 'sec-isv'
const ISV_KEYS: MerchantKeys = { wechat: OTHER_KEYS.wechat, alipay: { appId: keys.alipay.appId, sellerId: '2088000000000555' } }
/** Alipay certificate mode, with the fixtures' certificates. */
const SEC_CERT = 'sec-cert'
const CERT_KEYS: MerchantKeys = { wechat: OTHER_KEYS.wechat, alipay: { appId: '2021000000000601', sellerId: '2088000000000601' } }
const CERT_ORDER = alipayFixtures.certMode.paidOrder

/** How each merchant's genuine notifications are made (the catalogue's follow-up payments). */
const GENUINE: Record<string, FreshPaymentOptions> = {
  [OTHER]: { identity: OTHER_KEYS },
  [SEC_HMAC]: { identity: HMAC_KEYS, v2SignType: 'HMAC-SHA256' },
  [SEC_SUB_A]: { partner: SUB_A },
  [SEC_APPS]: { identity: APPS_KEYS, appid: APPS_SECOND.wechat },
  [SEC_ISV]: { identity: ISV_KEYS, authAppId: alipayFixtures.isv.authAppId },
  [SEC_CERT]: { identity: CERT_KEYS, alipayPrivateKeyPem: keys.alipay.certMode.alipayCert.privateKeyPem },
}

/** Orders that most fixtures name, registered (amount known) but unpaid: a forged payment would pay them. */
const PENDING_WECHAT = 'T20251124001'
const PENDING_ALIPAY = 'T20261122-0001'

interface OrderRef {
  merchantId: string
  provider: Provider
  outTradeNo: string
}

const forwarded: ForwardedCall[] = []
const paidByChannel = {} as Record<Channel, SignedNotify & { outTradeNo: string }>
const v2TransactionOf = (body: string): string => /<transaction_id><!\[CDATA\[([^\]]+)\]\]>/.exec(body)![1]!
/** Every order a row or the set-up touched; each must be exactly as it was after every row. */
const watched: OrderRef[] = []
/** Fresh orders paid after each row: each must be forwarded exactly once. */
const freshOrders: OrderRef[] = []

const v2Case = v2Fixtures.cases
const v3Case = v3Fixtures.cases
const alipayCase = alipayFixtures.cases

// --- rows ----------------------------------------------------------------------------------------

interface Row {
  name: string
  channel: Channel | 'admin'
  send: () => Promise<Response>
  reply: Reply
  /** The order the hostile input names, if any: it must not appear or change. */
  target?: OrderRef
  /**
   * The row makes the gateway ask the provider: the order's log of its own queries (when, what came back) grows,
   * like the audit trail of notifications; everything else must stay as it was.
   */
  queriesProvider?: true
  /** Merchant whose channel takes the valid notification after the row (default `sec`). */
  followUp?: { channel: Channel; merchantId: string }
}

function targetOf(
  channel: Channel,
  merchantId: string,
  fixture: { body?: string; resource?: { out_trade_no?: string } },
): OrderRef | undefined {
  let outTradeNo: string | null | undefined
  if (channel === 'wechatpay.v3') outTradeNo = fixture.resource?.out_trade_no
  else if (channel === 'wechatpay.v2') outTradeNo = /<out_trade_no>(?:<!\[CDATA\[)?([^<\]]+)/.exec(fixture.body ?? '')?.[1]
  else outTradeNo = new URLSearchParams(fixture.body ?? '').get('out_trade_no')
  return outTradeNo ? { merchantId, provider: PROVIDER_OF[channel], outTradeNo } : undefined
}

/** A fixture from test/fixtures sent as is; v3 fixtures at the clock they were signed for. */
type Fixture = { body?: string; bodyBase64?: string; headers?: Record<string, string>; resource?: object }

function fixtureRow(name: string, channel: Channel, merchantId: string, fixture: Fixture, status: number, message: string): Row {
  const target = targetOf(channel, merchantId, fixture as { body?: string; resource?: { out_trade_no?: string } })
  const post = () => notify(channel, merchantId, fixturePost(channel, fixture))
  return {
    name,
    channel,
    send: () => (channel === 'wechatpay.v3' ? atFixtureClock(post) : post()),
    reply: status < 300 ? ACCEPT[channel] : rejectReply(channel, status, message),
    ...(target ? { target } : {}),
    followUp: { channel, merchantId },
  }
}

async function atFixtureClock<T>(run: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(v3Fixtures.now)
  try {
    return await run()
  } finally {
    vi.useRealTimers()
  }
}

function adminRow(name: string, send: () => Promise<Response>, reply: Reply): Row {
  return { name, channel: 'admin', send, reply, followUp: { channel: 'wechatpay.v2', merchantId: SEC } }
}

const UNAUTHORIZED = adminErrorReply(401, 'unauthorized', 'a valid bearer token is required')
const ATTACKER_MERCHANT = JSON.stringify({
  ...merchantBody(SEC),
  forward: { url: 'https://attacker.example/steal', secret: `whsec_${btoa('attacker-controlled-secret-32b!!')}` },
})

function putSec(body: string, init: { token?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
  return admin(`/admin/merchants/${SEC}`, { method: 'PUT', body, ...init })
}

function withForwardUrl(url: string): string {
  return JSON.stringify({ ...merchantBody(SEC), forward: { url, secret: merchantBody(SEC).forward.secret } })
}

function productionPut(url: string): Promise<Response> {
  const request = new Request(`https://gw.test/admin/merchants/${SEC}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: withForwardUrl(url),
  })
  return callWorker(request, { ENVIRONMENT: 'production' })
}

const URL_REFUSED = (problem: string): Reply => adminErrorReply(400, 'invalid_request', `forward.url: ${problem}`)
const PRIVATE = 'private, loopback and link-local addresses are refused'

const ROWS: Row[] = [
  // WeChat Pay APIv2: forged, tampered and replayed notifies
  fixtureRow('v2: total_fee lowered after signing', 'wechatpay.v2', SEC, v2Case.tamperedAmount, 401, 'v2 sign does not match'),
  fixtureRow('v2: out_trade_no changed after signing', 'wechatpay.v2', SEC, v2Case.tamperedOrder, 401, 'v2 sign does not match'),
  fixtureRow('v2: a field added after signing', 'wechatpay.v2', SEC, v2Case.addedField, 401, 'v2 sign does not match'),
  fixtureRow(
    'v2: MD5-signed with a key that is not the merchant’s',
    'wechatpay.v2',
    SEC,
    v2Case.otherKeyMd5,
    401,
    'v2 sign does not match',
  ),
  fixtureRow(
    'v2: HMAC-signed with a key that is not the merchant’s',
    'wechatpay.v2',
    SEC,
    v2Case.otherKeyHmac,
    401,
    'v2 sign does not match',
  ),
  fixtureRow(
    'v2: signed with the APIv3 key instead of the APIv2 key',
    'wechatpay.v2',
    SEC,
    v2Case.apiV3KeyUsed,
    401,
    'v2 sign does not match',
  ),
  fixtureRow('v2: sign element removed', 'wechatpay.v2', SEC, v2Case.signRemoved, 401, 'v2 notify has no sign'),
  fixtureRow('v2: sign element empty', 'wechatpay.v2', SEC, v2Case.signEmpty, 401, 'v2 notify has no sign'),
  fixtureRow(
    'v2: sign of neither MD5 nor HMAC length',
    'wechatpay.v2',
    SEC,
    v2Case.signOddLength,
    401,
    'sign has neither an MD5 nor an HMAC-SHA256 length',
  ),
  fixtureRow('v2: unknown sign_type (SHA1)', 'wechatpay.v2', SEC, v2Case.signTypeSha1, 401, 'sign_type is neither MD5 nor HMAC-SHA256'),
  fixtureRow(
    'v2: sign_type HMAC-SHA256 declared over an MD5 sign',
    'wechatpay.v2',
    SEC,
    v2Case.declaredHmacSignedMd5,
    401,
    'v2 sign does not match',
  ),
  fixtureRow(
    'v2 downgrade: a genuine MD5 notify to a merchant that allows only HMAC-SHA256',
    'wechatpay.v2',
    SEC_HMAC,
    v2Case.md5WithSignType,
    401,
    'sign type MD5 is not allowed for this merchant',
  ),
  fixtureRow(
    'v2 cross-merchant: a genuine notify for another appid',
    'wechatpay.v2',
    SEC,
    v2Case.wrongAppid,
    403,
    'appid does not belong to this merchant',
  ),
  fixtureRow(
    'v2 cross-merchant: a genuine notify for another mch_id',
    'wechatpay.v2',
    SEC,
    v2Case.wrongMchid,
    403,
    'mch_id does not belong to this merchant',
  ),
  fixtureRow(
    'v2 cross-merchant: merchant A’s genuine notify posted to merchant B',
    'wechatpay.v2',
    OTHER,
    v2Case.md5WithSignType,
    401,
    'v2 sign does not match',
  ),
  fixtureRow(
    'v2 XXE: external entity to file:///etc/passwd',
    'wechatpay.v2',
    SEC,
    v2Case.xxeExternalEntity,
    400,
    'XML with a DOCTYPE or entity declaration is refused',
  ),
  fixtureRow(
    'v2 entity expansion: billion laughs',
    'wechatpay.v2',
    SEC,
    v2Case.billionLaughs,
    400,
    'XML with a DOCTYPE or entity declaration is refused',
  ),
  fixtureRow(
    'v2: lowercase <!doctype>',
    'wechatpay.v2',
    SEC,
    v2Case.lowercaseDoctype,
    400,
    'XML with a DOCTYPE or entity declaration is refused',
  ),
  fixtureRow(
    'v2: <!ENTITY> without a DOCTYPE',
    'wechatpay.v2',
    SEC,
    v2Case.entityWithoutDoctype,
    400,
    'XML with a DOCTYPE or entity declaration is refused',
  ),
  fixtureRow(
    'v2: undeclared entity reference',
    'wechatpay.v2',
    SEC,
    v2Case.undeclaredEntity,
    400,
    'XML text has an unknown entity reference',
  ),
  fixtureRow('v2: a field repeated (which value was signed?)', 'wechatpay.v2', SEC, v2Case.repeatedField, 400, 'a field appears twice'),
  fixtureRow('v2: JSON instead of XML', 'wechatpay.v2', SEC, v2Case.notXml, 400, 'body is not well-formed XML'),
  fixtureRow('v2: empty body', 'wechatpay.v2', SEC, v2Case.emptyBody, 400, 'body is not well-formed XML'),
  fixtureRow(
    'v2 refund: req_info encrypted under another key',
    'wechatpay.v2',
    SEC,
    v2Case.refundOtherKey,
    500,
    'req_info does not decrypt with the merchant APIv2 key',
  ),
  fixtureRow(
    'v2 refund: envelope naming another mch_id',
    'wechatpay.v2',
    SEC,
    v2Case.refundWrongMchid,
    403,
    'mch_id does not belong to this merchant',
  ),
  fixtureRow(
    'v2 refund: sign and req_info both present',
    'wechatpay.v2',
    SEC,
    v2Case.refundWithSign,
    400,
    'a v2 notify carries sign or req_info, not both',
  ),
  fixtureRow(
    'v2: unsigned return_code=FAIL naming another mch_id',
    'wechatpay.v2',
    SEC,
    v2Case.returnFailForeign,
    403,
    'mch_id does not belong to this merchant',
  ),
  {
    name: 'v2: unsigned return_code=FAIL naming a pending order is acknowledged and touches no order',
    channel: 'wechatpay.v2',
    send: () =>
      notify('wechatpay.v2', SEC, {
        body: v2Xml({ return_code: 'FAIL', return_msg: 'x', out_trade_no: PENDING_WECHAT }),
        headers: { 'content-type': 'text/xml' },
      }),
    reply: ACCEPT['wechatpay.v2'],
    target: { merchantId: SEC, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
  },
  {
    name: 'v2: a live-signed payment whose amount was raised after signing',
    channel: 'wechatpay.v2',
    send: () => {
      const fields = v2PaymentFields({ outTradeNo: PENDING_WECHAT, amount: 1 })
      const sign = signV2(fields, keys.wechatpay.apiV2Key, 'MD5')
      return notify('wechatpay.v2', SEC, {
        body: v2Xml({ ...fields, total_fee: '100', cash_fee: '100', sign }),
        headers: { 'content-type': 'text/xml' },
      })
    },
    reply: rejectReply('wechatpay.v2', 401, 'v2 sign does not match'),
    target: { merchantId: SEC, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
  },
  {
    name: 'v2 partner: sub-merchant B’s genuine notify posted to sub-merchant A (wrong sub_mch_id)',
    channel: 'wechatpay.v2',
    send: () => sendFresh('wechatpay.v2', SEC_SUB_A, { outTradeNo: PENDING_WECHAT, partner: SUB_B }),
    reply: rejectReply('wechatpay.v2', 403, 'sub_mch_id does not belong to this merchant'),
    target: { merchantId: SEC_SUB_A, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v2', merchantId: SEC_SUB_A },
  },
  fixtureRow(
    'v2 partner → direct: the fixtures’ genuine sub-merchant notify posted to the service provider',
    'wechatpay.v2',
    SEC,
    v2Case.partnerPayment,
    403,
    'partner-mode sub_mch_id for a direct merchant',
  ),
  {
    name: 'v2 direct → partner: the service provider’s own genuine notify posted to a sub-merchant',
    channel: 'wechatpay.v2',
    send: () => sendFresh('wechatpay.v2', SEC_SUB_A, { outTradeNo: PENDING_WECHAT }),
    reply: rejectReply('wechatpay.v2', 403, 'no sub_mch_id: a direct message for a sub-merchant'),
    target: { merchantId: SEC_SUB_A, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v2', merchantId: SEC_SUB_A },
  },
  {
    name: 'v2: an appid a merchant with several apps does not list',
    channel: 'wechatpay.v2',
    send: () => sendFresh('wechatpay.v2', SEC_APPS, { outTradeNo: PENDING_WECHAT, identity: APPS_KEYS, appid: 'wx5555555555555503' }),
    reply: rejectReply('wechatpay.v2', 403, 'appid does not belong to this merchant'),
    target: { merchantId: SEC_APPS, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v2', merchantId: SEC_APPS },
  },
  {
    name: 'v2 replay: a genuine notify sent again is acknowledged as a duplicate',
    channel: 'wechatpay.v2',
    send: () => notify('wechatpay.v2', SEC, { body: paidByChannel['wechatpay.v2'].body, headers: paidByChannel['wechatpay.v2'].headers }),
    reply: ACCEPT['wechatpay.v2'],
  },
  {
    name: 'v2: unknown merchant id',
    channel: 'wechatpay.v2',
    send: () => notify('wechatpay.v2', 'no-such-merchant', fixturePost('wechatpay.v2', v2Case.md5WithSignType)),
    reply: rejectReply('wechatpay.v2', 404, 'unknown merchant'),
  },
  {
    name: 'v2: merchant id that could never exist (65 characters)',
    channel: 'wechatpay.v2',
    send: () => notify('wechatpay.v2', 'm'.repeat(65), fixturePost('wechatpay.v2', v2Case.md5WithSignType)),
    reply: rejectReply('wechatpay.v2', 404, 'unknown merchant'),
  },
  {
    name: 'v2: Content-Length over 64 KiB',
    channel: 'wechatpay.v2',
    send: () => notify('wechatpay.v2', SEC, { body: `<xml>${' '.repeat(70_000)}</xml>`, headers: { 'content-type': 'text/xml' } }),
    reply: rejectReply('wechatpay.v2', 413, 'body larger than 65536 bytes'),
  },

  // WeChat Pay APIv3
  fixtureRow('v3: body edited after signing', 'wechatpay.v3', SEC, v3Case.tamperedBody, 401, 'signature does not verify'),
  fixtureRow(
    'v3: signed by a key that is not the platform key for the serial',
    'wechatpay.v3',
    SEC,
    v3Case.strangerKey,
    401,
    'signature does not verify',
  ),
  fixtureRow('v3: WECHATPAY/SIGNTEST/ signature probe', 'wechatpay.v3', SEC, v3Case.probe, 401, 'signature probe'),
  fixtureRow(
    'v3 downgrade: Signature-Type SM2',
    'wechatpay.v3',
    SEC,
    v3Case.signatureTypeSm2,
    401,
    'only WECHATPAY2-SHA256-RSA2048 is accepted',
  ),
  fixtureRow(
    'v3: serial that no configured key has',
    'wechatpay.v3',
    SEC,
    v3Case.unknownSerial,
    401,
    'no platform key for Wechatpay-Serial',
  ),
  fixtureRow(
    'v3: serial naming an Object.prototype member',
    'wechatpay.v3',
    SEC,
    v3Case.prototypeSerial,
    401,
    'no platform key for Wechatpay-Serial',
  ),
  fixtureRow(
    'v3 replay: timestamp 301 s old',
    'wechatpay.v3',
    SEC,
    v3Case.stalePast301,
    401,
    'Wechatpay-Timestamp is more than 300 s from now',
  ),
  fixtureRow(
    'v3: timestamp 301 s in the future',
    'wechatpay.v3',
    SEC,
    v3Case.staleFuture301,
    401,
    'Wechatpay-Timestamp is more than 300 s from now',
  ),
  fixtureRow('v3: Wechatpay-Signature missing', 'wechatpay.v3', SEC, v3Case.missingSignature, 401, 'Wechatpay signature headers missing'),
  fixtureRow('v3: Wechatpay-Signature empty', 'wechatpay.v3', SEC, v3Case.emptySignature, 401, 'Wechatpay signature headers missing'),
  fixtureRow(
    'v3: Wechatpay-Timestamp not an integer',
    'wechatpay.v3',
    SEC,
    v3Case.nonIntegerTimestamp,
    400,
    'Wechatpay-Timestamp is not an integer',
  ),
  fixtureRow(
    'v3 cross-merchant: genuine notify for another mchid',
    'wechatpay.v3',
    SEC,
    v3Case.wrongMchid,
    403,
    'mchid does not belong to this merchant',
  ),
  fixtureRow(
    'v3 cross-merchant: genuine notify for another appid',
    'wechatpay.v3',
    SEC,
    v3Case.wrongAppid,
    403,
    'appid does not belong to this merchant',
  ),
  fixtureRow(
    'v3 cross-merchant: merchant A’s genuine notify posted to merchant B',
    'wechatpay.v3',
    OTHER,
    v3Case.transactionCertA,
    500,
    'resource does not decrypt with the APIv3 key',
  ),
  fixtureRow('v3: GCM tag altered', 'wechatpay.v3', SEC, v3Case.brokenTag, 500, 'resource does not decrypt with the APIv3 key'),
  fixtureRow(
    'v3: resource encrypted under another APIv3 key',
    'wechatpay.v3',
    SEC,
    v3Case.otherApiV3Key,
    500,
    'resource does not decrypt with the APIv3 key',
  ),
  // WeChat Pay partner mode: sub-merchants share the service provider's keys, so only the ids tell them apart.
  {
    name: 'v3 partner: sub-merchant B’s genuine notify posted to sub-merchant A (wrong sub_mchid)',
    channel: 'wechatpay.v3',
    send: () => sendFresh('wechatpay.v3', SEC_SUB_A, { outTradeNo: PENDING_WECHAT, partner: SUB_B }),
    reply: rejectReply('wechatpay.v3', 403, 'sub_mchid does not belong to this merchant'),
    target: { merchantId: SEC_SUB_A, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v3', merchantId: SEC_SUB_A },
  },
  {
    name: 'v3 partner → direct: sub-merchant A’s genuine notify posted to its service provider',
    channel: 'wechatpay.v3',
    send: () => sendFresh('wechatpay.v3', SEC, { outTradeNo: PENDING_WECHAT, partner: SUB_A }),
    reply: rejectReply('wechatpay.v3', 403, 'partner-mode sub_mchid for a direct merchant'),
    target: { merchantId: SEC, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
  },
  {
    name: 'v3 direct → partner: the service provider’s own genuine notify posted to a sub-merchant',
    channel: 'wechatpay.v3',
    send: () => sendFresh('wechatpay.v3', SEC_SUB_A, { outTradeNo: PENDING_WECHAT }),
    reply: rejectReply('wechatpay.v3', 403, 'no sub_mchid: a direct message for a sub-merchant'),
    target: { merchantId: SEC_SUB_A, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v3', merchantId: SEC_SUB_A },
  },
  {
    name: 'v3: an appid a merchant with several apps does not list',
    channel: 'wechatpay.v3',
    send: () => sendFresh('wechatpay.v3', SEC_APPS, { outTradeNo: PENDING_WECHAT, identity: APPS_KEYS, appid: 'wx5555555555555503' }),
    reply: rejectReply('wechatpay.v3', 403, 'appid does not belong to this merchant'),
    target: { merchantId: SEC_APPS, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
    followUp: { channel: 'wechatpay.v3', merchantId: SEC_APPS },
  },
  {
    name: 'v3 replay: a genuine notify captured a year ago',
    channel: 'wechatpay.v3',
    send: () => notify('wechatpay.v3', SEC, fixturePost('wechatpay.v3', v3Case.transactionCertA)),
    reply: rejectReply('wechatpay.v3', 401, 'Wechatpay-Timestamp is more than 300 s from now'),
    target: { merchantId: SEC, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
  },
  {
    name: 'v3 replay: a genuine notify sent again within 300 s is acknowledged as a duplicate',
    channel: 'wechatpay.v3',
    send: () => notify('wechatpay.v3', SEC, { body: paidByChannel['wechatpay.v3'].body, headers: paidByChannel['wechatpay.v3'].headers }),
    reply: ACCEPT['wechatpay.v3'],
  },
  {
    name: 'v3: a live notify signed by a stranger’s key under certificate A’s serial',
    channel: 'wechatpay.v3',
    send: () => {
      const forged = v3Payment({ outTradeNo: PENDING_WECHAT, amount: 100, signer: 'stranger' })
      return notify('wechatpay.v3', SEC, { body: forged.body, headers: forged.headers })
    },
    reply: rejectReply('wechatpay.v3', 401, 'signature does not verify'),
    target: { merchantId: SEC, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
  },

  // Alipay
  fixtureRow('Alipay: total_amount raised after signing', 'alipay', SEC, alipayCase.tamperedAmount, 401, ''),
  fixtureRow('Alipay: signed by a key that is not Alipay’s', 'alipay', SEC, alipayCase.strangerKey, 401, ''),
  fixtureRow('Alipay: no sign', 'alipay', SEC, alipayCase.signMissing, 401, ''),
  fixtureRow('Alipay: empty sign', 'alipay', SEC, alipayCase.signEmpty, 401, ''),
  fixtureRow('Alipay: sign_type left out', 'alipay', SEC, alipayCase.signTypeMissing, 401, ''),
  fixtureRow('Alipay downgrade: genuine RSA (SHA-1) notify to an RSA2 merchant', 'alipay', SEC, alipayCase.rsaForRsa2Merchant, 401, ''),
  fixtureRow('Alipay downgrade: RSA2 signature relabelled RSA', 'alipay', SEC, alipayCase.rsa2RelabeledRsa, 401, ''),
  fixtureRow('Alipay: trade notify signed over content that keeps sign_type', 'alipay', SEC, alipayCase.rsa2SignedV2ForTrade, 401, ''),
  fixtureRow('Alipay cross-merchant: genuine notify for another app_id', 'alipay', SEC, alipayCase.wrongAppId, 403, ''),
  fixtureRow('Alipay cross-merchant: genuine notify for another seller_id', 'alipay', SEC, alipayCase.wrongSellerId, 403, ''),
  fixtureRow(
    'Alipay cross-merchant: merchant A’s genuine notify posted to merchant B',
    'alipay',
    OTHER,
    alipayCase.tradeSuccessUtf8,
    403,
    '',
  ),
  fixtureRow('Alipay: truncated percent escape', 'alipay', SEC, alipayCase.malformedPercent, 400, ''),
  fixtureRow('Alipay: out_trade_no given twice (which one was signed?)', 'alipay', SEC, alipayCase.duplicateKey, 400, ''),
  fixtureRow('Alipay: sign whose + was sent raw (decodes to a space)', 'alipay', SEC, alipayCase.unescapedPlusInSign, 401, ''),
  {
    name: 'Alipay: a live-signed payment whose total_amount was raised after signing',
    channel: 'alipay',
    send: () => {
      const params = alipayPaymentParams({ outTradeNo: PENDING_ALIPAY, amount: 1 })
      const sign = signAlipay(params)
      return notify('alipay', SEC, {
        body: alipayForm({ ...params, total_amount: '88.88', sign }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
    },
    reply: rejectReply('alipay', 401, ''),
    target: { merchantId: SEC, provider: 'alipay', outTradeNo: PENDING_ALIPAY },
  },
  {
    name: 'Alipay: an app_id a merchant with several apps does not list',
    channel: 'alipay',
    send: () =>
      sendFresh('alipay', SEC_APPS, {
        outTradeNo: PENDING_ALIPAY,
        amount: 8888,
        identity: { ...APPS_KEYS, alipay: { ...APPS_KEYS.alipay, appId: '2021000000000503' } },
      }),
    reply: rejectReply('alipay', 403, ''),
    target: { merchantId: SEC_APPS, provider: 'alipay', outTradeNo: PENDING_ALIPAY },
    followUp: { channel: 'alipay', merchantId: SEC_APPS },
  },
  {
    name: 'Alipay ISV: a genuine notify for another authorizing app (wrong auth_app_id)',
    channel: 'alipay',
    send: () =>
      sendFresh('alipay', SEC_ISV, {
        outTradeNo: PENDING_ALIPAY,
        amount: 8888,
        identity: ISV_KEYS,
        authAppId: alipayFixtures.isv.otherAuthAppId,
      }),
    reply: rejectReply('alipay', 403, ''),
    target: { merchantId: SEC_ISV, provider: 'alipay', outTradeNo: PENDING_ALIPAY },
    followUp: { channel: 'alipay', merchantId: SEC_ISV },
  },
  fixtureRow(
    'Alipay: the fixtures’ genuine ISV notify (auth_app_id ≠ app_id) to a merchant that is no ISV',
    'alipay',
    SEC,
    alipayCase.isvPayment,
    403,
    '',
  ),
  {
    name: 'Alipay certificate mode: an order-query answer signed from another Alipay certificate',
    channel: 'alipay',
    send: () => {
      network.use(
        http.post(
          'https://openapi.alipay.com/gateway.do',
          () => new HttpResponse(alipayFixtures.answers.certModeOtherCert.body, { headers: { 'content-type': 'text/html;charset=utf-8' } }),
        ),
      )
      return admin(`/admin/merchants/${SEC_CERT}/orders/${CERT_ORDER}/sync?provider=alipay`, { method: 'POST' })
    },
    reply: {
      status: 200,
      body: JSON.stringify({
        out_trade_no: CERT_ORDER,
        results: [{ provider: 'alipay', status: 'pending', query: 'alipay failed: signature_invalid', refunds: [] }],
      }),
    },
    target: { merchantId: SEC_CERT, provider: 'alipay', outTradeNo: CERT_ORDER },
    queriesProvider: true,
    followUp: { channel: 'alipay', merchantId: SEC_CERT },
  },
  {
    name: 'Alipay certificate mode: a notify signed with the key of another Alipay certificate',
    channel: 'alipay',
    send: () =>
      sendFresh('alipay', SEC_CERT, {
        outTradeNo: CERT_ORDER,
        amount: 8888,
        identity: CERT_KEYS,
        alipayPrivateKeyPem: keys.alipay.certMode.otherAlipayCert.privateKeyPem,
      }),
    reply: rejectReply('alipay', 401, ''),
    target: { merchantId: SEC_CERT, provider: 'alipay', outTradeNo: CERT_ORDER },
    followUp: { channel: 'alipay', merchantId: SEC_CERT },
  },
  {
    name: 'Alipay replay: a genuine notify sent again is acknowledged as a duplicate',
    channel: 'alipay',
    send: () => notify('alipay', SEC, { body: paidByChannel.alipay.body, headers: paidByChannel.alipay.headers }),
    reply: ACCEPT.alipay,
  },
  {
    name: 'Alipay: Content-Length over 64 KiB',
    channel: 'alipay',
    send: () =>
      notify('alipay', SEC, { body: `a=${'b'.repeat(70_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    reply: rejectReply('alipay', 413, ''),
  },

  // Refunds beyond the order (issue 17, item 4): WeChat v3 accepted 5,000 fen on a 100-fen order; the
  // same rule now holds on every channel, and no refund total may exceed the order's amount.
  {
    name: 'v3 refund of 5,000 fen on a paid 100-fen order (amount.refund above amount.total)',
    channel: 'wechatpay.v3',
    send: () => {
      const { outTradeNo } = paidByChannel['wechatpay.v3']
      return notify('wechatpay.v3', SEC, v3RefundNotify({ outTradeNo, outRefundNo: `${outTradeNo}-R1`, refund: 5000, total: 100 }))
    },
    reply: rejectReply('wechatpay.v3', 400, 'amount.refund exceeds amount.total'),
  },
  ...(['wechatpay.v3', 'wechatpay.v2', 'alipay'] as const).map(
    (channel): Row => ({
      name: `${channel} refund that would take the refunded total above the paid order's amount (150 fen of a 100-fen order, stated total 200)`,
      channel,
      send: () => {
        const { outTradeNo } = paidByChannel[channel]
        const refund = { outTradeNo, outRefundNo: `${outTradeNo}-R2` }
        const post =
          channel === 'wechatpay.v3'
            ? v3RefundNotify({ ...refund, refund: 150, total: 200 })
            : channel === 'wechatpay.v2'
              ? // Naming the paid order's transaction, as WeChat does.
                v2RefundNotify({ ...refund, refund: 150, total: 200, transactionId: v2TransactionOf(paidByChannel['wechatpay.v2'].body) })
              : alipayRefundNotify({ ...refund, refundFee: 150, total: 200 })
        return notify(channel, SEC, post)
      },
      reply: rejectReply(channel, 409, "refund exceeds the order's amount"),
    }),
  ),

  // Admin API: tokens
  adminRow('admin: replacing a merchant without a token', () => putSec(ATTACKER_MERCHANT, { token: null }), UNAUTHORIZED),
  adminRow(
    'admin: wrong token of the same length',
    () => putSec(ATTACKER_MERCHANT, { token: 'x'.repeat(ADMIN_TOKEN.length) }),
    UNAUTHORIZED,
  ),
  adminRow(
    'admin: the token’s prefix (a different length)',
    () => putSec(ATTACKER_MERCHANT, { token: ADMIN_TOKEN.slice(0, -1) }),
    UNAUTHORIZED,
  ),
  adminRow('admin: the token with an extra character', () => putSec(ATTACKER_MERCHANT, { token: `${ADMIN_TOKEN}x` }), UNAUTHORIZED),
  adminRow(
    'admin: the right token under the Basic scheme',
    () => putSec(ATTACKER_MERCHANT, { token: null, headers: { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` } }),
    UNAUTHORIZED,
  ),
  adminRow(
    'admin: the right token after a lowercase scheme',
    () => putSec(ATTACKER_MERCHANT, { token: null, headers: { authorization: `bearer ${ADMIN_TOKEN}` } }),
    UNAUTHORIZED,
  ),
  adminRow(
    'admin: the right token in a query string',
    () => admin(`/admin/merchants/${SEC}?token=${ADMIN_TOKEN}`, { method: 'PUT', token: null, body: ATTACKER_MERCHANT }),
    UNAUTHORIZED,
  ),
  adminRow(
    'admin: re-registering an order’s amount without a token',
    () => admin(`/admin/merchants/${SEC}/orders/${PENDING_WECHAT}`, { method: 'PUT', token: null, body: JSON.stringify({ amount: 1 }) }),
    UNAUTHORIZED,
  ),
  adminRow('admin: reading a merchant without a token', () => admin(`/admin/merchants/${SEC}`, { token: null }), UNAUTHORIZED),
  adminRow(
    'admin: replaying a delivery without a token',
    () => admin('/admin/deliveries/dlv_x/replay', { method: 'POST', token: null }),
    UNAUTHORIZED,
  ),

  // Admin API: bodies and forward URLs (SSRF)
  adminRow('admin: invalid JSON', () => putSec('{"forward":'), adminErrorReply(400, 'invalid_request', 'body: not valid JSON')),
  adminRow(
    'admin: an unknown field',
    () => putSec(JSON.stringify({ ...merchantBody(SEC), evil: true })),
    adminErrorReply(
      400,
      'invalid_request',
      'evil: unknown field (expected one of forward, wechatpay, alipay, requireRegisteredOrders, confirmPaymentsByQuery, keepRejectedBodies)',
    ),
  ),
  adminRow(
    'admin: a body over 64 KiB',
    () => putSec(JSON.stringify({ ...merchantBody(SEC), pad: 'x'.repeat(70_000) })),
    adminErrorReply(400, 'invalid_request', 'body: larger than 64 KiB'),
  ),
  adminRow('SSRF: plain http forward URL', () => putSec(withForwardUrl('http://merchant.example/hook')), URL_REFUSED('must use https')),
  adminRow('SSRF: private 10.0.0.0/8 forward URL', () => putSec(withForwardUrl('https://10.0.0.7/hook')), URL_REFUSED(PRIVATE)),
  adminRow('SSRF: 192.168.0.0/16 forward URL', () => putSec(withForwardUrl('https://192.168.1.1/hook')), URL_REFUSED(PRIVATE)),
  adminRow(
    'SSRF: cloud metadata 169.254.169.254',
    () => putSec(withForwardUrl('https://169.254.169.254/latest/meta-data/')),
    URL_REFUSED(PRIVATE),
  ),
  adminRow(
    'SSRF: metadata address written as one decimal number',
    () => putSec(withForwardUrl('https://2852039166/latest/meta-data/')),
    URL_REFUSED(PRIVATE),
  ),
  adminRow(
    'SSRF: metadata address as IPv4-mapped IPv6',
    () => putSec(withForwardUrl('https://[::ffff:169.254.169.254]/')),
    URL_REFUSED(PRIVATE),
  ),
  adminRow('SSRF: IPv6 unique-local address', () => putSec(withForwardUrl('https://[fd00::1]/hook')), URL_REFUSED(PRIVATE)),
  adminRow('SSRF: IPv6 multicast address', () => putSec(withForwardUrl('https://[ff02::1]/hook')), URL_REFUSED(PRIVATE)),
  adminRow(
    'SSRF: NAT64 address of the metadata service',
    () => putSec(withForwardUrl('https://[64:ff9b::a9fe:a9fe]/')),
    URL_REFUSED(PRIVATE),
  ),
  adminRow(
    'SSRF: credentials in the forward URL',
    () => putSec(withForwardUrl('https://user:pass@merchant.example/hook')),
    URL_REFUSED('must not contain credentials'),
  ),
  adminRow(
    'SSRF: http://localhost when running in production',
    () => productionPut('http://localhost:8787/hook'),
    URL_REFUSED('loopback addresses are allowed only when the gateway runs locally'),
  ),
  adminRow(
    'SSRF: https://localhost. (trailing dot) in production',
    () => productionPut('https://localhost./hook'),
    URL_REFUSED('loopback addresses are allowed only when the gateway runs locally'),
  ),
  adminRow('SSRF: a *.localhost. name in production', () => productionPut('https://api.localhost./hook'), URL_REFUSED(PRIVATE)),
  adminRow('admin: unknown path', () => admin('/admin/../../etc/passwd'), adminErrorReply(404, 'not_found', 'no such endpoint')),
  adminRow(
    'notify: GET instead of POST',
    () => admin(`/notify/${SEC}/wechatpay/v2`, { token: null }),
    adminErrorReply(405, 'method_not_allowed', 'provider callbacks are POST requests'),
  ),
]

/** A correctly signed notification for a new (or the named) order, made as `options` say, posted to `merchantId`. */
function sendFresh(channel: Channel, merchantId: string, options: FreshPaymentOptions): Promise<Response> {
  const signed = freshPayment(channel, options)
  return notify(channel, merchantId, { body: signed.body, headers: signed.headers })
}

// --- the run -------------------------------------------------------------------------------------

/** An order's state without the log of the queries it made (`reconciliation`'s when and what). */
function withoutQueryLog<T>(snapshot: T): T {
  if (snapshot === null || typeof snapshot !== 'object' || !('reconciliation' in snapshot)) return snapshot
  const { reconciliation, ...rest } = snapshot as { reconciliation: Record<string, unknown> | null }
  if (reconciliation === null) return snapshot
  const { last_query_at: _at, last_result: _result, next_query_at: _next, queries_made: _count, ...plan } = reconciliation
  return { ...rest, reconciliation: plan } as T
}

async function snapshotAll(orders: OrderRef[]) {
  return Promise.all(orders.map((o) => orderState(o.merchantId, o.provider, o.outTradeNo)))
}

const MERCHANT_IDS = [SEC, SEC_HMAC, OTHER, SEC_SUB_A, SEC_APPS, SEC_ISV, SEC_CERT]

async function merchantViews() {
  return Promise.all(MERCHANT_IDS.map(async (id) => (await admin(`/admin/merchants/${id}`)).text()))
}

beforeAll(async () => {
  await registerMerchant(SEC)
  await registerMerchant(SEC_HMAC, { identity: HMAC_KEYS, v2SignType: 'HMAC-SHA256' })
  await registerMerchant(OTHER, { identity: OTHER_KEYS })
  await registerMerchant(SEC_SUB_A, { providers: ['wechatpay'], wechatpayFields: { subMchid: SUB_A.subMchid, subAppid: SUB_A.subAppid } })
  await registerMerchant(SEC_APPS, {
    identity: APPS_KEYS,
    wechatpayFields: { appid: [APPS_KEYS.wechat.appid, APPS_SECOND.wechat] },
    alipayFields: { appId: [APPS_KEYS.alipay.appId, APPS_SECOND.alipay] },
  })
  await registerMerchant(SEC_ISV, { providers: ['alipay'], identity: ISV_KEYS, alipayFields: { authAppId: alipayFixtures.isv.authAppId } })
  const { certMode } = keys.alipay
  await registerMerchant(SEC_CERT, {
    providers: ['alipay'],
    identity: CERT_KEYS,
    alipayFields: {
      alipayPublicKey: undefined,
      alipayPublicCert: certMode.alipayCert.certificatePem,
      alipayRootCert: certMode.rootCertPem,
      appCert: certMode.appCert.certificatePem,
      appPrivateKey: certMode.appCert.privateKeyPem,
    },
  })
  await registerOrder(SEC_CERT, CERT_ORDER, 8888)
  watched.push({ merchantId: SEC_CERT, provider: 'alipay', outTradeNo: CERT_ORDER })
  for (const merchantId of [SEC_SUB_A, SEC_APPS, SEC_ISV]) {
    for (const [provider, outTradeNo, amount] of [
      ['wechatpay', PENDING_WECHAT, 100],
      ['alipay', PENDING_ALIPAY, 8888],
    ] as const) {
      if (merchantId === SEC_SUB_A && provider === 'alipay') continue
      if (merchantId === SEC_ISV && provider === 'wechatpay') continue
      await registerOrder(merchantId, outTradeNo, amount)
      watched.push({ merchantId, provider, outTradeNo })
    }
  }
  for (const merchantId of [SEC, SEC_HMAC, OTHER]) {
    await registerOrder(merchantId, PENDING_WECHAT, 100)
    await registerOrder(merchantId, PENDING_ALIPAY, 8888)
    watched.push(
      { merchantId, provider: 'wechatpay', outTradeNo: PENDING_WECHAT },
      { merchantId, provider: 'alipay', outTradeNo: PENDING_WECHAT },
      { merchantId, provider: 'alipay', outTradeNo: PENDING_ALIPAY },
      { merchantId, provider: 'wechatpay', outTradeNo: PENDING_ALIPAY },
    )
  }
  // One paid order per channel, whose notify the replay rows send again.
  recordForwarded(forwarded)
  for (const channel of ['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const) {
    const paid = freshPayment(channel)
    const response = await notify(channel, SEC, { body: paid.body, headers: paid.headers })
    expect(response.status).toBe(ACCEPT[channel].status)
    paidByChannel[channel] = paid
    watched.push({ merchantId: SEC, provider: PROVIDER_OF[channel], outTradeNo: paid.outTradeNo })
  }
  await vi.waitFor(() => expect(forwarded).toHaveLength(3), { timeout: 5_000 })
  for (const order of watched) await drainOutbox(order.merchantId, order.provider, order.outTradeNo)
})

beforeEach(() => recordForwarded(forwarded))
afterEach(() => vi.useRealTimers())

describe('attack catalogue', () => {
  it('has at least 40 rows across the three channels and the admin API', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40)
    for (const channel of ['wechatpay.v2', 'wechatpay.v3', 'alipay', 'admin']) {
      expect(ROWS.filter((row) => row.channel === channel).length).toBeGreaterThanOrEqual(8)
    }
  })

  for (const row of ROWS) {
    it(`${row.name} → ${row.reply.status}, nothing stored or forwarded`, async () => {
      const orders = row.target && !watched.some((w) => sameOrder(w, row.target!)) ? [...watched, row.target] : watched
      const before = await snapshotAll(orders)
      const merchantsBefore = await merchantViews()
      const forwardedBefore = forwarded.length

      const response = await row.send()
      expect({ status: response.status, body: await response.text() }).toEqual(row.reply)

      // Anything a hostile input had put in an outbox would be forwarded now.
      for (const order of orders) await drainOutbox(order.merchantId, order.provider, order.outTradeNo)
      const state = row.queriesProvider ? withoutQueryLog : <T>(snapshot: T) => snapshot
      expect((await snapshotAll(orders)).map(state)).toEqual(before.map(state))
      expect(await merchantViews()).toEqual(merchantsBefore)
      expect(forwarded.slice(forwardedBefore)).toEqual([])

      // The gateway still takes a genuine notification at once.
      const followUp = row.followUp ?? { channel: row.channel === 'admin' ? 'wechatpay.v2' : row.channel, merchantId: SEC }
      const genuine = freshPayment(followUp.channel, GENUINE[followUp.merchantId] ?? {})
      const accepted = await notify(followUp.channel, followUp.merchantId, { body: genuine.body, headers: genuine.headers })
      expect({ status: accepted.status, body: await accepted.text() }).toEqual(ACCEPT[followUp.channel])
      const order = { merchantId: followUp.merchantId, provider: PROVIDER_OF[followUp.channel], outTradeNo: genuine.outTradeNo }
      expect((await orderState(order.merchantId, order.provider, order.outTradeNo))?.status).toBe('paid')
      await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === genuine.outTradeNo)).toHaveLength(1))
      freshOrders.push(order)
    })
  }

  const mismatches = [
    { kind: 'amount', registered: { amount: 10_000, currency: 'CNY' }, paid: 1 },
    { kind: 'currency', registered: { amount: 10_000, currency: 'USD' }, paid: 10_000 },
  ]
  for (const channel of ['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const)
    for (const { kind, registered, paid } of mismatches)
      it(`${kind} tampering at the source (${channel}): a genuine notification for another ${kind} than registered → 409, flagged, nothing forwarded`, async () => {
        const outTradeNo = `MISMATCH-${kind}-${channel.replace('.', '')}`
        await registerOrder(SEC, outTradeNo, registered.amount, registered.currency)
        const underpaid = freshPayment(channel, { outTradeNo, amount: paid })
        const response = await notify(channel, SEC, { body: underpaid.body, headers: underpaid.headers })
        expect({ status: response.status, body: await response.text() }).toEqual(
          rejectReply(channel, 409, 'amount or currency does not match the registered order'),
        )
        const provider = PROVIDER_OF[channel]
        await drainOutbox(SEC, provider, outTradeNo)
        const view = await orderView(SEC, provider, outTradeNo)
        expect(view).toMatchObject({ status: 'amount_mismatch', expected_amount: 10_000, events: [], deliveries: [] })
        expect(view!.notifications).toMatchObject([{ verdict: 'rejected', reason: 'amount_mismatch' }])
        expect(forwarded.filter((c) => c.outTradeNo === outTradeNo)).toEqual([])
      })

  it('forwarded exactly one event per genuine payment, to the merchant it belongs to, and nothing else', async () => {
    const expected = [
      ...(['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const).map((channel) => ({
        merchantId: SEC,
        outTradeNo: paidByChannel[channel].outTradeNo,
      })),
      ...freshOrders.map(({ merchantId, outTradeNo }) => ({ merchantId, outTradeNo })),
    ]
    const key = (c: { merchantId: string; outTradeNo: string }) => `${c.merchantId}/${c.outTradeNo}`
    expect(forwarded.map(key).sort()).toEqual(expected.map(key).sort())
    expect(forwarded.every((c) => c.type === 'payment.succeeded')).toBe(true)
    expect(new Set(forwarded.map((c) => c.webhookId)).size).toBe(forwarded.length)
  })
})

function sameOrder(a: OrderRef, b: OrderRef): boolean {
  return a.merchantId === b.merchantId && a.provider === b.provider && a.outTradeNo === b.outTradeNo
}
