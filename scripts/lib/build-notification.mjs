// Builds the provider notifications `npm run simulate` sends, signed by the same independent signers
// that make the test fixtures (test/fixtures/signers/*.mjs), so simulator and fixtures cannot drift.
// Pure apart from random ids; test/simulate/simulated-notifications.mjs runs it for every channel and event.
import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import { buildAlipayNotify, encodeAlipayForm } from '../../test/fixtures/signers/alipay.mjs'
import { buildCombinedPaymentNotify, buildPaymentNotify, buildRefundNotify } from '../../test/fixtures/signers/wechatpay-v2.mjs'
import {
  buildV3Notify,
  combinedTransactionResource,
  partnerResource,
  refundResource,
  transactionResource,
  transferResource,
} from '../../test/fixtures/signers/wechatpay-v3.mjs'
import { DEMO_PARTNER, demoApps } from './demo.mjs'
import { fenToYuan } from './money.mjs'

export { fenToYuan, yuanToFen } from './money.mjs'

import { CHANNELS, NOTIFY_PATHS, PROVIDER_OF } from './registry.mjs'

// Channel names, notify paths and providers are the gateway's own (src/providers, through registry.mjs).
export { CHANNELS, NOTIFY_PATHS, PROVIDER_OF }
export const EVENTS = ['payment', 'refund', 'close', 'transfer', 'combined']
/** How many orders a simulated combined payment (合单支付) pays: `<number>-1`, `<number>-2`. */
export const COMBINED_SUB_ORDERS = 2
/** Which WeChat Pay platform key signs v3 notifies: two certificates (rotation) and the newer public-key id. */
export const V3_SIGNERS = ['public-key', 'cert-a', 'cert-b']
export const V2_SIGN_TYPES = ['MD5', 'HMAC-SHA256']
/** ¥88.88: the default payment. */
export const DEFAULT_AMOUNT_FEN = 8888
/** WeChat Pay v3 accepts a timestamp at most 300 s away; `stale` signs one this much in the past. */
export const STALE_SECONDS = 600

const ALIPAY_CONTENT_TYPE = 'application/x-www-form-urlencoded; text/html; charset=utf-8'
const SUBJECT = 'paygate 演示订单'
/** The buyer WeChat Pay names in the demo's v3 notifications and query answers. */
export const DEMO_OPENID = 'oPaygateDemoOpenid0000000001'

/** A request the simulator cannot build, with a message for the user (not a bug). */
export class SimulationError extends Error {
  name = 'SimulationError'
}

/** A fresh merchant order number, unique enough for a demo: `DEMO-20261125-080102-4821`. */
export function newOrderNumber(now = Date.now()) {
  const t = beijing(now)
  return `DEMO-${t.yyyy}${t.MM}${t.dd}-${t.HH}${t.mm}${t.ss}-${randomInt(1000, 10000)}`
}

/** A fresh out_refund_no for `outTradeNo` (the merchant's own refund number). */
export function newRefundNumber(now = Date.now()) {
  const t = beijing(now)
  return `RF-${t.yyyy}${t.MM}${t.dd}-${t.HH}${t.mm}${t.ss}-${randomInt(1000, 10000)}`
}

/** A provider's transaction id in its own shape (WeChat `42000…`, Alipay `2026…2200140…`). */
export function newTransactionId(channel, now = Date.now()) {
  const t = beijing(now)
  return PROVIDER_OF[channel] === 'wechatpay' ? `4200${t.yyyy}${t.MM}${t.dd}${digits(16)}` : `${t.yyyy}${t.MM}${t.dd}22001400${digits(12)}`
}

/**
 * One notification as the provider would POST it to the gateway.
 *
 * @param {object} options
 * @param {'wechatpay.v2'|'wechatpay.v3'|'alipay'} options.channel
 * @param {'payment'|'refund'|'close'|'transfer'|'combined'} options.event   transfer: WeChat Pay v3 only; combined
 *   (合单支付): WeChat Pay only, one notification paying COMBINED_SUB_ORDERS orders (`order.subOrders`)
 * @param {object} options.keys           makeKeys() output (test/fixtures/signers/keys.mjs): the demo or fixture keys
 * @param {string} [options.merchantId]   default `demo`
 * @param {string} [options.outTradeNo]  default: a fresh DEMO-… number (combined: the combine's, `combine_out_trade_no`)
 * @param {number} [options.amount]       payment and close: the order total; refund: this refund; combined: each sub-order's (fen)
 * @param {number} [options.total]        refund: the order total (fen); default `amount`
 * @param {number} [options.refundedBefore] refund: fen already refunded on the order (Alipay reports the running total)
 * @param {string} [options.transactionId]
 * @param {string} [options.outRefundNo]
 * @param {number} [options.appIndex]     the merchant's n-th app (1-based, demoApps(keys)) sends it; default the first
 * @param {boolean} [options.partner]     WeChat Pay only: for the demo sub-merchant (DEMO_PARTNER), partner-mode fields
 * @param {string} [options.v3Signer]     `public-key` (default), `cert-a` or `cert-b`
 * @param {string} [options.v2SignType]   `MD5` (default) or `HMAC-SHA256`
 * @param {boolean} [options.tamper]      change a signed value after signing
 * @param {boolean} [options.stale]       v3 only: a timestamp STALE_SECONDS old
 * @param {boolean} [options.wrongKey]    sign (or encrypt) with a key the merchant did not configure
 * @param {number} [options.now]          epoch ms; default Date.now()
 * @returns {{ channel, event, path, headers: Record<string, string>, body: string, expect: 'accept'|'reject',
 *   description: string, hostile: string[], order: object }}
 */
export function buildNotification(options) {
  const { channel, event, merchantId = 'demo', now = Date.now() } = options
  if (!CHANNELS.includes(channel)) throw new SimulationError(`unknown channel ${channel} (expected ${CHANNELS.join(', ')})`)
  if (!EVENTS.includes(event)) throw new SimulationError(`unknown event ${event} (expected ${EVENTS.join(', ')})`)
  if (event === 'close' && channel !== 'alipay') {
    throw new SimulationError(
      'WeChat Pay sends no notification when an unpaid order is closed (the merchant closes it with the close-order API ' +
        'and learns the state by querying the order), so there is nothing to simulate. Try: alipay close',
    )
  }
  if (event === 'transfer' && channel !== 'wechatpay.v3') {
    throw new SimulationError(
      'transfer simulates a WeChat Pay APIv3 MCHTRANSFER.BILL.FINISHED (商家转账), which only APIv3 sends. Try: wechatpay.v3 transfer',
    )
  }
  if (event === 'combined' && channel === 'alipay') {
    throw new SimulationError(
      "a combined payment (合单支付: one notification paying several orders) is WeChat Pay's. Try: wechatpay.v3 combined",
    )
  }
  if (options.stale && channel !== 'wechatpay.v3') {
    throw new SimulationError(
      `--stale applies to wechatpay.v3 only: ${channel} notifications carry no signed timestamp the gateway could check`,
    )
  }
  if (options.v3Signer !== undefined && !V3_SIGNERS.includes(options.v3Signer)) {
    throw new SimulationError(`unknown v3 signer ${options.v3Signer} (expected ${V3_SIGNERS.join(', ')})`)
  }
  if (options.v2SignType !== undefined && !V2_SIGN_TYPES.includes(options.v2SignType)) {
    throw new SimulationError(`unknown v2 sign type ${options.v2SignType} (expected ${V2_SIGN_TYPES.join(', ')})`)
  }
  if (options.partner && channel === 'alipay') {
    throw new SimulationError("partner mode (服务商, sub_mchid) is WeChat Pay's: use wechatpay.v2 or wechatpay.v3")
  }
  const apps = demoApps(options.keys)[PROVIDER_OF[channel]]
  const appIndex = options.appIndex ?? 1
  if (!Number.isInteger(appIndex) || appIndex < 1 || appIndex > apps.length) {
    throw new SimulationError(`the demo merchant has ${apps.length} ${PROVIDER_OF[channel]} apps: --appid 1 to ${apps.length}`)
  }
  const order = orderFacts(options, now)
  const build = { 'wechatpay.v2': buildV2, 'wechatpay.v3': buildV3, alipay: buildAlipay }[channel]
  const built = build({ ...options, now, order, app: apps[appIndex - 1] })
  const hostile = [options.tamper && 'tamper', options.stale && 'stale', options.wrongKey && 'wrong-key'].filter(Boolean)
  return {
    channel,
    event,
    path: `/notify/${merchantId}/${NOTIFY_PATHS[channel]}`,
    expect: hostile.length === 0 ? 'accept' : 'reject',
    hostile,
    order,
    ...built,
  }
}

/** Whether a gateway reply is the channel's accept reply (contract.md, "Provider callback endpoints"). */
export function isAcceptReply(channel, status, body) {
  switch (channel) {
    case 'wechatpay.v2':
      return status === 200 && /<return_code>(?:<!\[CDATA\[)?SUCCESS(?:\]\]>)?<\/return_code>/.test(body)
    case 'wechatpay.v3':
      return status === 200 || status === 204
    case 'alipay':
      return status === 200 && body === 'success'
    default:
      return false
  }
}

function orderFacts(options, now) {
  const { channel, event } = options
  const outTradeNo = options.outTradeNo ?? newOrderNumber(now)
  const transactionId = options.transactionId ?? newTransactionId(channel, now)
  if (event === 'close') return { outTradeNo, transactionId, amount: options.amount ?? DEFAULT_AMOUNT_FEN }
  if (event === 'transfer') {
    // A transfer is about no order: `outTradeNo` is the merchant's bill number, `transactionId` WeChat's.
    const amount = options.amount ?? DEFAULT_AMOUNT_FEN
    assertFen(amount, 'amount')
    return { outTradeNo: options.outTradeNo ?? `TB${outTradeNo.slice(4)}`, transactionId: `1330${digits(33)}`, amount }
  }
  const amount = options.amount ?? DEFAULT_AMOUNT_FEN
  assertFen(amount, 'amount')
  if (event === 'payment') return { outTradeNo, transactionId, amount }
  if (event === 'combined') {
    // Each sub-order is an order of its own, with its own WeChat transaction; `outTradeNo` is the combine's number.
    const subOrders = Array.from({ length: COMBINED_SUB_ORDERS }, (_, i) => ({
      outTradeNo: `${outTradeNo}-${i + 1}`,
      transactionId: i === 0 ? transactionId : newTransactionId(channel, now),
      amount,
    }))
    return { outTradeNo, amount: amount * subOrders.length, subOrders }
  }
  const total = options.total ?? amount
  const refundedBefore = options.refundedBefore ?? 0
  assertFen(total, 'total')
  if (!Number.isInteger(refundedBefore) || refundedBefore < 0) throw new SimulationError('refundedBefore must be fen ≥ 0')
  if (refundedBefore + amount > total) {
    throw new SimulationError(
      `a refund of ¥${fenToYuan(amount)} on top of ¥${fenToYuan(refundedBefore)} already refunded exceeds the order's ¥${fenToYuan(total)}`,
    )
  }
  return {
    outTradeNo,
    transactionId,
    amount,
    total,
    refundedBefore,
    refundedAfter: refundedBefore + amount,
    outRefundNo: options.outRefundNo ?? newRefundNumber(now),
    refundId: `50300${beijing(now).yyyy}${digits(18)}`,
  }
}

// ---- WeChat Pay APIv2: XML, MD5/HMAC-SHA256 sign; refunds carry AES-256-ECB `req_info` instead of a sign

/** A partner notification's own fields (the demo sub-merchant), beside the service provider's appid and mch_id. */
const V2_PARTNER_FIELDS = { sub_appid: DEMO_PARTNER.subAppid, sub_mch_id: DEMO_PARTNER.subMchid }

function buildV2({ event, keys, now, order, app, partner, v2SignType = 'MD5', tamper, wrongKey }) {
  const wx = { appid: app, mchid: keys.wechatpay.mchid, apiV2Key: keys.wechatpay.apiV2Key }
  const sub = partner ? V2_PARTNER_FIELDS : undefined
  const otherKey = wrongKey ? alnum(32) : null
  const headers = { 'content-type': 'text/xml' }
  if (event === 'combined') return buildV2Combined({ wx, now, order, partner, v2SignType, tamper, otherKey, headers })
  if (event === 'payment') {
    const params = {
      outTradeNo: order.outTradeNo,
      amount: order.amount,
      transactionId: order.transactionId,
      timeEnd: beijingCompact(now),
      nonce: alnum(32),
      signType: v2SignType,
      ...(sub === undefined ? {} : { extra: sub }),
    }
    let body = buildPaymentNotify(params, wx, { layout: 'wechat', signingKey: otherKey ?? wx.apiV2Key })
    const notes = [
      `payment notify (result_code SUCCESS${partnerNote(partner)}), ${v2SignType} sign with ${wrongKey ? 'another APIv2 key' : 'the demo APIv2 key'}`,
    ]
    if (tamper) {
      const raised = order.amount * 100
      body = replaceOnce(body, `<total_fee><![CDATA[${order.amount}]]></total_fee>`, `<total_fee><![CDATA[${raised}]]></total_fee>`)
      notes.push(`tampered: total_fee ${order.amount} → ${raised} after signing`)
    }
    return { headers, body, description: notes.join('; ') }
  }
  const params = {
    outTradeNo: order.outTradeNo,
    transactionId: order.transactionId,
    outRefundNo: order.outRefundNo,
    refundId: order.refundId,
    totalFee: order.total,
    refundFee: order.amount,
    refundStatus: 'SUCCESS',
    successTime: beijingDashed(now),
    nonce: alnum(32),
  }
  let body = buildRefundNotify(params, wx, { layout: 'wechat', encryptionKey: otherKey ?? wx.apiV2Key, envelope: sub ?? {} })
  const notes = [
    `refund notify (refund_status SUCCESS${partnerNote(partner)}), req_info encrypted under ${wrongKey ? 'another APIv2 key' : 'the demo APIv2 key'}`,
  ]
  if (tamper) {
    // No sign: req_info's encryption is what vouches for it. Rewriting its first block garbles `<root>`.
    body = body.replace(/<req_info><!\[CDATA\[([^\]]+)\]\]><\/req_info>/, (_, b64) => {
      const sealed = Buffer.from(b64, 'base64')
      for (let i = 0; i < 16; i++) sealed[i] ^= 0x5a
      return `<req_info><![CDATA[${sealed.toString('base64')}]]></req_info>`
    })
    notes.push('tampered: the first AES block of req_info rewritten after encryption')
  }
  return { headers, body, description: notes.join('; ') }
}

/** A v2 combined payment notify: the combine's ids, and `sub_order_list` (JSON text) signed like any field. */
function buildV2Combined({ wx, now, order, partner, v2SignType, tamper, otherKey, headers }) {
  const subOrders = order.subOrders.map(({ outTradeNo, transactionId, amount }) => ({
    appid: wx.appid,
    mchid: wx.mchid,
    ...(partner ? { subAppid: DEMO_PARTNER.subAppid, subMchid: DEMO_PARTNER.subMchid } : {}),
    outTradeNo,
    amount,
    transactionId,
    timeEnd: beijingCompact(now),
  }))
  const params = { combineOutTradeNo: order.outTradeNo, nonce: alnum(32), subOrders, signType: v2SignType }
  let body = buildCombinedPaymentNotify(params, { ...wx, apiV2Key: otherKey ?? wx.apiV2Key }, { layout: 'wechat' })
  const notes = [
    `combined payment notify (合单支付, ${subOrders.length} sub-orders${partnerNote(partner)}), ${v2SignType} sign with ${otherKey === null ? 'the demo APIv2 key' : 'another APIv2 key'}`,
  ]
  if (tamper) {
    const [first] = subOrders
    const raised = first.amount * 100
    body = replaceOnce(body, `"total_fee":${first.amount},`, `"total_fee":${raised},`)
    notes.push(`tampered: the first sub-order's total_fee ${first.amount} → ${raised} after signing`)
  }
  return { headers, body, description: notes.join('; ') }
}

// ---- WeChat Pay APIv3: JSON, SHA256withRSA over timestamp\nnonce\nbody\n, AES-256-GCM resource

function partnerNote(partner) {
  return partner ? `, partner mode: sub_mchid ${DEMO_PARTNER.subMchid}` : ''
}

function buildV3({ event, keys, now, order, app, partner, v3Signer = 'public-key', tamper, stale, wrongKey }) {
  const wx = keys.wechatpay
  const signer = {
    'public-key': { serial: wx.publicKeyMode.id, privateKeyPem: wx.publicKeyMode.privateKeyPem },
    'cert-a': { serial: wx.platformCertA.serial, privateKeyPem: wx.platformCertA.privateKeyPem },
    'cert-b': { serial: wx.platformCertB.serial, privateKeyPem: wx.platformCertB.privateKeyPem },
  }[v3Signer]
  const signedAt = Math.floor(now / 1000) - (stale ? STALE_SECONDS : 0)
  const direct =
    event === 'combined'
      ? v3CombinedResource({ wx, now, order, app, partner })
      : event === 'transfer'
        ? transferResource({ mchId: wx.mchid, outBillNo: order.outTradeNo, transferBillNo: order.transactionId, amount: order.amount })
        : event === 'payment'
          ? transactionResource({
              appid: app,
              mchid: wx.mchid,
              outTradeNo: order.outTradeNo,
              transactionId: order.transactionId,
              total: order.amount,
              successTime: rfc3339Beijing(now),
              openid: DEMO_OPENID,
            })
          : refundResource({
              mchid: wx.mchid,
              outTradeNo: order.outTradeNo,
              transactionId: order.transactionId,
              outRefundNo: order.outRefundNo,
              refundId: order.refundId,
              refundStatus: 'SUCCESS',
              refund: order.amount,
              total: order.total,
              successTime: rfc3339Beijing(now),
            })
  // Transfers are the service provider's own business: never wrapped as a sub-merchant's. A combined payment names
  // its sub-merchant in each sub-order instead.
  const resource = partner && event !== 'transfer' && event !== 'combined' ? partnerResource(direct, DEMO_PARTNER) : direct
  const eventType = {
    payment: 'TRANSACTION.SUCCESS',
    combined: 'TRANSACTION.SUCCESS',
    refund: 'REFUND.SUCCESS',
    transfer: 'MCHTRANSFER.BILL.FINISHED',
  }[event]
  const built = buildV3Notify({
    id: randomUUID(),
    eventType,
    resource,
    ...(event === 'transfer' ? { originalType: 'mch_payment', associatedData: 'mch_payment' } : {}),
    resourceNonce: alnum(12),
    createTime: rfc3339Beijing(now),
    timestamp: signedAt,
    nonce: alnum(32),
    serial: signer.serial,
    privateKeyPem: wrongKey ? keys.stranger.privateKeyPem : signer.privateKeyPem,
    apiV3Key: wx.apiV3Key,
  })
  const signerName = { 'public-key': 'the WeChat Pay public key', 'cert-a': 'platform certificate A', 'cert-b': 'platform certificate B' }[
    v3Signer
  ]
  const what = event === 'combined' ? `${eventType} combined payment (合单支付, ${order.subOrders.length} sub-orders)` : eventType
  const notes = [
    `${what}${partnerNote(partner)} signed ${wrongKey ? 'by a stranger key under the serial of' : 'with'} ${signerName} (${signer.serial})`,
  ]
  if (stale) notes.push(`stale: Wechatpay-Timestamp ${STALE_SECONDS} s old (the limit is 300 s)`)
  let body = built.body
  if (tamper) {
    const envelope = JSON.parse(body)
    const sealed = Buffer.from(envelope.resource.ciphertext, 'base64')
    sealed[0] ^= 0x01
    envelope.resource.ciphertext = sealed.toString('base64')
    body = JSON.stringify(envelope)
    notes.push('tampered: one byte of resource.ciphertext flipped after signing')
  }
  return { headers: { 'content-type': 'application/json', ...built.headers }, body, description: notes.join('; ') }
}

/** A combined payment's resource: the combine's ids (the app and mchid), one `sub_orders` entry per order. */
function v3CombinedResource({ wx, now, order, app, partner }) {
  return combinedTransactionResource({
    combineAppid: app,
    combineMchid: wx.mchid,
    combineOutTradeNo: order.outTradeNo,
    openid: DEMO_OPENID,
    subOrders: order.subOrders.map(({ outTradeNo, transactionId, amount }) => ({
      mchid: wx.mchid,
      ...(partner ? { subMchid: DEMO_PARTNER.subMchid, subAppid: DEMO_PARTNER.subAppid } : {}),
      outTradeNo,
      transactionId,
      total: amount,
      successTime: rfc3339Beijing(now),
    })),
  })
}

// ---- Alipay: form body, RSA2 over the sorted parameters

function buildAlipay({ event, keys, now, order, app, tamper, wrongKey }) {
  const { sellerId } = keys.alipay
  const appId = app
  const at = beijingDashed(now)
  const paid = {
    gmt_payment: at,
    invoice_amount: fenToYuan(order.total ?? order.amount),
    receipt_amount: fenToYuan(order.total ?? order.amount),
    buyer_pay_amount: fenToYuan(order.total ?? order.amount),
    point_amount: '0.00',
    fund_bill_list: JSON.stringify([{ amount: fenToYuan(order.total ?? order.amount), fundChannel: 'ALIPAYACCOUNT' }]),
  }
  const params = {
    gmt_create: at,
    charset: 'utf-8',
    seller_email: 'demo-merchant@example.com',
    subject: SUBJECT,
    buyer_id: '2088102170000001',
    notify_id: `${beijingCompact(now)}${digits(20)}`,
    notify_type: 'trade_status_sync',
    app_id: appId,
    seller_id: sellerId,
    notify_time: at,
    version: '1.0',
    out_trade_no: order.outTradeNo,
    trade_no: order.transactionId,
    auth_app_id: appId,
    buyer_logon_id: 'abc***@example.com',
  }
  let description
  if (event === 'payment') {
    Object.assign(params, paid, { trade_status: 'TRADE_SUCCESS', total_amount: fenToYuan(order.amount) })
    description = 'TRADE_SUCCESS'
  } else if (event === 'refund') {
    const full = order.refundedAfter === order.total
    // Alipay reports refunds on the trade notify: refund_fee is the running total; a full refund closes the trade.
    Object.assign(params, paid, {
      trade_status: full ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
      total_amount: fenToYuan(order.total),
      refund_fee: fenToYuan(order.refundedAfter),
      out_biz_no: order.outRefundNo,
      gmt_refund: `${at}.${String(now % 1000).padStart(3, '0')}`,
      ...(full ? { gmt_close: at } : {}),
    })
    description = `${params.trade_status} with refund_fee ${params.refund_fee} (running total)${full ? ': a full refund' : ''}`
  } else {
    Object.assign(params, { trade_status: 'TRADE_CLOSED', total_amount: fenToYuan(order.amount), gmt_close: at })
    description = 'TRADE_CLOSED of an unpaid trade'
  }
  const privateKeyPem = wrongKey ? keys.stranger.privateKeyPem : keys.alipay.alipayKey.privateKeyPem
  const built = buildAlipayNotify(params, { privateKeyPem, signType: 'RSA2' })
  const notes = [`${description}, RSA2 signed with ${wrongKey ? 'a stranger key' : 'the demo Alipay key'}`]
  let body = built.body
  if (tamper) {
    const raised = fenToYuan((order.total ?? order.amount) * 100)
    body = encodeAlipayForm({ ...built.params, total_amount: raised })
    notes.push(`tampered: total_amount ${built.params.total_amount} → ${raised} after signing`)
  }
  return { headers: { 'content-type': ALIPAY_CONTENT_TYPE }, body: body.toString('ascii'), description: notes.join('; ') }
}

// ---- helpers

function assertFen(value, name) {
  if (!Number.isInteger(value) || value <= 0) throw new SimulationError(`${name} must be a positive amount in fen`)
}

function replaceOnce(text, from, to) {
  if (!text.includes(from)) throw new Error(`cannot tamper: ${from} not in the body`)
  return text.replace(from, to)
}

function digits(n) {
  let out = ''
  while (out.length < n) out += String(randomInt(0, 1_000_000_000)).padStart(9, '0')
  return out.slice(0, n)
}

function alnum(n) {
  let out = ''
  while (out.length < n)
    out += randomBytes(n * 2)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
  return out.slice(0, n)
}

/** Wall-clock fields in Beijing time (UTC+8), which every provider uses. */
function beijing(now) {
  const iso = new Date(now + 8 * 3600_000).toISOString()
  return {
    yyyy: iso.slice(0, 4),
    MM: iso.slice(5, 7),
    dd: iso.slice(8, 10),
    HH: iso.slice(11, 13),
    mm: iso.slice(14, 16),
    ss: iso.slice(17, 19),
  }
}

/** `yyyyMMddHHmmss` (WeChat v2 time_end). */
export function beijingCompact(now) {
  const t = beijing(now)
  return `${t.yyyy}${t.MM}${t.dd}${t.HH}${t.mm}${t.ss}`
}

/** `yyyy-MM-dd HH:mm:ss` (Alipay times, v2 refund success_time). */
export function beijingDashed(now) {
  const t = beijing(now)
  return `${t.yyyy}-${t.MM}-${t.dd} ${t.HH}:${t.mm}:${t.ss}`
}

/** RFC 3339 with the +08:00 offset, as WeChat v3 writes times. */
export function rfc3339Beijing(now) {
  const t = beijing(now)
  return `${t.yyyy}-${t.MM}-${t.dd}T${t.HH}:${t.mm}:${t.ss}+08:00`
}
