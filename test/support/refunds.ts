/**
 * @module Refunds as the providers send and answer them, signed live with node:crypto and the throwaway
 * keys in test/fixtures/keys.json (never paygate's own code): refund notifications for the three
 * channels, and the three refund-query APIs answered through the mock network from a model of the
 * refunds the provider made.
 */
import { createCipheriv, createHash, createSign, randomBytes } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import {
  alipayForm,
  encryptV3Resource,
  SEC_ALIPAY,
  SEC_WECHAT,
  signAlipay,
  signV2,
  signV3,
  v2Xml,
  type AlipayIdentity,
  type SignedNotify,
  type WechatIdentity,
} from '../security/signing'

export const WECHAT_API = 'https://api.mch.weixin.qq.com'
export const ALIPAY_GATEWAY = 'https://openapi.alipay.com/gateway.do'

let sequence = 0
const unique = () => `${Date.now().toString(36)}${(++sequence).toString(36)}${randomBytes(3).toString('hex')}`
const yuan = (fen: number) => (fen / 100).toFixed(2)
/** Currencies without a minor unit (ISO 4217 exponent 0): Alipay still writes two decimals, "1000.00" for 1000 yen. */
const WHOLE_UNITS = new Set(['JPY', 'KRW'])
/** An amount in `currency`'s minor units as Alipay states it. */
const alipayAmount = (minor: number, currency = 'CNY') => (WHOLE_UNITS.has(currency) ? `${minor}.00` : yuan(minor))

export interface RefundNotifyOptions {
  outTradeNo: string
  outRefundNo: string
  /** This refund's amount (fen). */
  refund: number
  /** The order's total (fen). */
  total: number
  transactionId?: string
  /** The merchant's ids and keys (default the fixtures'). */
  identity?: WechatIdentity
}

/** A REFUND.SUCCESS (or ABNORMAL / CLOSED) as WeChat Pay v3 posts it, signed with platform certificate A for now. */
export function v3RefundNotify(options: RefundNotifyOptions & { status?: 'SUCCESS' | 'ABNORMAL' | 'CLOSED'; id?: string }): SignedNotify {
  const status = options.status ?? 'SUCCESS'
  const identity = options.identity ?? SEC_WECHAT
  const resource = {
    mchid: identity.mchid,
    transaction_id: options.transactionId ?? `4200${unique()}`,
    out_trade_no: options.outTradeNo,
    refund_id: `5030${unique()}`,
    out_refund_no: options.outRefundNo,
    refund_status: status,
    ...(status === 'SUCCESS' ? { success_time: '2025-11-25T10:00:00+08:00' } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: options.total, refund: options.refund, payer_total: options.total, payer_refund: options.refund },
  }
  const nonce = randomBytes(6).toString('hex')
  const body = JSON.stringify({
    id: options.id ?? `EV-${unique()}`,
    create_time: '2025-11-25T10:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: `REFUND.${status}`,
    summary: '退款成功',
    resource: {
      original_type: 'refund',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptV3Resource(JSON.stringify(resource), identity.apiV3Key, nonce, 'refund'),
      associated_data: 'refund',
      nonce,
    },
  })
  return signedV3(body)
}

/** Headers of a v3 message signed now with platform certificate A. */
function signedV3(body: string): SignedNotify {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = randomBytes(16).toString('hex').toUpperCase()
  const signature = signV3(timestamp, nonce, body, keys.wechatpay.platformCertA.privateKeyPem)
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': keys.wechatpay.platformCertA.serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
    signature,
  }
}

/** A v2 refund notify: `req_info` = AES-256-ECB (PKCS#7) under the lowercase hex MD5 of the APIv2 key. */
export function v2RefundNotify(options: RefundNotifyOptions): SignedNotify {
  const identity = options.identity ?? SEC_WECHAT
  const fields: Record<string, string> = {
    out_refund_no: options.outRefundNo,
    out_trade_no: options.outTradeNo,
    refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
    refund_fee: String(options.refund),
    refund_id: `5030${unique()}`,
    refund_recv_accout: '支付用户零钱',
    refund_request_source: 'API',
    refund_status: 'SUCCESS',
    settlement_refund_fee: String(options.refund),
    settlement_total_fee: String(options.total),
    success_time: '2025-11-25 10:00:00',
    total_fee: String(options.total),
    transaction_id: options.transactionId ?? `4200${unique()}`,
  }
  const plaintext = `<root>${Object.entries(fields)
    .map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`)
    .join('')}</root>`
  const key = Buffer.from(createHash('md5').update(identity.apiV2Key).digest('hex'), 'utf8')
  const cipher = createCipheriv('aes-256-ecb', key, null)
  const reqInfo = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64')
  const body = v2Xml({
    return_code: 'SUCCESS',
    appid: identity.appid,
    mch_id: identity.mchid,
    nonce_str: randomBytes(16).toString('hex'),
    req_info: reqInfo,
  })
  return { body, headers: { 'content-type': 'text/xml' }, signature: reqInfo.slice(0, 16) }
}

export interface AlipayRefundOptions {
  outTradeNo: string
  /** `out_biz_no`; null for a refund requested without one. */
  outRefundNo: string | null
  /** The trade's running total refunded, this refund included (fen): Alipay's `refund_fee`. */
  refundFee: number
  total: number
  tradeNo?: string
  /** With `gmt_payment` (the default), the notification proves the payment. */
  paid?: boolean
  notifyId?: string
  /** The merchant's app and seller (default the fixtures'). */
  identity?: AlipayIdentity
}

/** An Alipay refund notification: TRADE_SUCCESS with the running `refund_fee`, or TRADE_CLOSED once all is refunded. */
export function alipayRefundNotify(options: AlipayRefundOptions): SignedNotify {
  const full = options.refundFee === options.total
  const params: Record<string, string> = {
    gmt_create: '2026-11-22 17:59:40',
    charset: 'utf-8',
    notify_id: options.notifyId ?? `2026112300222${unique()}`,
    notify_type: 'trade_status_sync',
    trade_status: full ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
    app_id: (options.identity ?? SEC_ALIPAY).appId,
    seller_id: (options.identity ?? SEC_ALIPAY).sellerId,
    out_trade_no: options.outTradeNo,
    total_amount: yuan(options.total),
    trade_no: options.tradeNo ?? `2026112222001${unique()}`,
    ...(options.paid === false ? {} : { gmt_payment: '2026-11-22 17:59:58' }),
    refund_fee: yuan(options.refundFee),
    ...(options.outRefundNo === null ? {} : { out_biz_no: options.outRefundNo }),
    gmt_refund: '2026-11-23 10:00:00.123',
    ...(full ? { gmt_close: '2026-11-23 10:00:00' } : {}),
    notify_time: '2026-11-23 10:00:01',
    version: '1.0',
    sign_type: 'RSA2',
  }
  const sign = signAlipay(params)
  return { body: alipayForm({ ...params, sign }), headers: { 'content-type': 'application/x-www-form-urlencoded' }, signature: sign }
}

// --- the refund-query APIs ------------------------------------------------------------------------

/** What the provider knows of a refund: its order, its own amount, the order's total, its state. */
export interface ProviderRefund {
  outTradeNo: string
  outRefundNo: string
  amount: number
  total: number
  status?: 'SUCCESS' | 'PROCESSING' | 'CLOSED'
  /** The trade's currency (default CNY): Alipay's answer states the amounts in it without naming it. */
  currency?: string
}

export type AnswerSigner = 'provider' | 'stranger' | 'unsigned'

/** Every refund query the mock answered, by out_refund_no. */
export interface QueryLog {
  asked: string[]
}

/**
 * Answers `alipay.trade.fastpay.refund.query` from `refunds` (a refund it does not hold is "not refunded":
 * code 10000 without refund fields), signed over the exact response text with Alipay's key, a stranger's,
 * or not at all. Other methods are left to other handlers.
 */
export function alipayRefundQueryAnswers(refunds: readonly ProviderRefund[], signer: AnswerSigner = 'provider'): QueryLog {
  const log: QueryLog = { asked: [] }
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('method') !== 'alipay.trade.fastpay.refund.query') return undefined
      return alipayRefundQueryReply(form, refunds, log, signer)
    }),
  )
  return log
}

/** Alipay's answer to the refund query `form` (logged in `log`), from `refunds`. */
export function alipayRefundQueryReply(
  form: URLSearchParams,
  refunds: readonly ProviderRefund[],
  log: QueryLog,
  signer: AnswerSigner = 'provider',
): HttpResponse<string> {
  const biz = JSON.parse(form.get('biz_content')!) as { out_trade_no: string; out_request_no: string }
  log.asked.push(biz.out_request_no)
  const refund = refunds.find((r) => r.outTradeNo === biz.out_trade_no && r.outRefundNo === biz.out_request_no)
  const fields =
    refund === undefined || refund.status === 'PROCESSING'
      ? { code: '10000', msg: 'Success' }
      : {
          code: '10000',
          msg: 'Success',
          trade_no: '2026112222001400000000000030',
          out_trade_no: refund.outTradeNo,
          out_request_no: refund.outRefundNo,
          total_amount: alipayAmount(refund.total, refund.currency),
          refund_amount: alipayAmount(refund.amount, refund.currency),
          refund_status: 'REFUND_SUCCESS',
          gmt_refund_pay: '2026-11-23 10:00:00',
        }
  const content = JSON.stringify(fields)
  const privateKey = signer === 'stranger' ? keys.stranger.privateKeyPem : keys.alipay.alipayKey.privateKeyPem
  const sign = createSign('RSA-SHA256').update(content).sign(privateKey, 'base64')
  const body =
    signer === 'unsigned'
      ? `{"alipay_trade_fastpay_refund_query_response":${content}}`
      : `{"alipay_trade_fastpay_refund_query_response":${content},"sign":"${sign}"}`
  return new HttpResponse(body, { headers: { 'content-type': 'text/html;charset=utf-8' } })
}

/**
 * Answers `GET /v3/refund/domestic/refunds/{no}` at `api` from `refunds` (404 RESOURCE_NOT_EXISTS otherwise), signed as
 * chosen: 'provider' is platform certificate A's key, under its serial.
 */
export function v3RefundQueryAnswers(refunds: readonly ProviderRefund[], signer: AnswerSigner = 'provider', api = WECHAT_API): QueryLog {
  const log: QueryLog = { asked: [] }
  network.use(
    http.get(`${api}/v3/refund/domestic/refunds/:outRefundNo`, ({ params }) => {
      const outRefundNo = decodeURIComponent(String(params.outRefundNo))
      log.asked.push(outRefundNo)
      const refund = refunds.find((r) => r.outRefundNo === outRefundNo)
      const status = refund === undefined ? 404 : 200
      const body = JSON.stringify(
        refund === undefined
          ? { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' }
          : {
              refund_id: '50300000012025112500000001',
              out_refund_no: refund.outRefundNo,
              transaction_id: '4200000001202511250000000001',
              out_trade_no: refund.outTradeNo,
              channel: 'ORIGINAL',
              user_received_account: '支付用户零钱',
              success_time: '2025-11-25T10:00:00+08:00',
              create_time: '2025-11-25T09:59:00+08:00',
              status: refund.status ?? 'SUCCESS',
              funds_account: 'AVAILABLE',
              amount: {
                total: refund.total,
                refund: refund.amount,
                payer_total: refund.total,
                payer_refund: refund.amount,
                currency: 'CNY',
              },
            },
      )
      if (signer === 'unsigned') return new HttpResponse(body, { status, headers: { 'content-type': 'application/json' } })
      const timestamp = String(Math.floor(Date.now() / 1000))
      const nonce = randomBytes(16).toString('hex')
      const privateKey = signer === 'stranger' ? keys.stranger.privateKeyPem : keys.wechatpay.platformCertA.privateKeyPem
      return new HttpResponse(body, {
        status,
        headers: {
          'content-type': 'application/json',
          'Wechatpay-Timestamp': timestamp,
          'Wechatpay-Nonce': nonce,
          'Wechatpay-Serial': keys.wechatpay.platformCertA.serial,
          'Wechatpay-Signature': signV3(timestamp, nonce, body, privateKey),
          'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
        },
      })
    }),
  )
  return log
}

/**
 * Answers `POST /pay/refundquery` from `refunds` (REFUNDNOTEXIST otherwise) for the merchant `identity` (default
 * the fixtures'), signed with its APIv2 key (MD5) or a wrong one.
 */
export function v2RefundQueryAnswers(
  refunds: readonly ProviderRefund[],
  signer: AnswerSigner = 'provider',
  identity: WechatIdentity = SEC_WECHAT,
): QueryLog {
  const log: QueryLog = { asked: [] }
  network.use(
    http.post(`${WECHAT_API}/pay/refundquery`, async ({ request }) => {
      const outRefundNo = /<out_refund_no><!\[CDATA\[([^\]]*)\]\]>|<out_refund_no>([^<]*)</.exec(await request.text())
      const asked = outRefundNo?.[1] ?? outRefundNo?.[2] ?? ''
      log.asked.push(asked)
      const refund = refunds.find((r) => r.outRefundNo === asked)
      const common = { return_code: 'SUCCESS', return_msg: 'OK', appid: identity.appid, mch_id: identity.mchid, nonce_str: unique() }
      const fields: Record<string, string> =
        refund === undefined
          ? { ...common, result_code: 'FAIL', err_code: 'REFUNDNOTEXIST', err_code_des: 'not exist' }
          : {
              ...common,
              result_code: 'SUCCESS',
              transaction_id: '4200000001202511250000000001',
              out_trade_no: refund.outTradeNo,
              total_fee: String(refund.total),
              cash_fee: String(refund.total),
              refund_count: '1',
              out_refund_no_0: refund.outRefundNo,
              refund_id_0: '50300000012025112500000001',
              refund_channel_0: 'ORIGINAL',
              refund_fee_0: String(refund.amount),
              refund_status_0: refund.status === 'CLOSED' ? 'REFUNDCLOSE' : (refund.status ?? 'SUCCESS'),
              refund_recv_accout_0: '支付用户零钱',
              refund_success_time_0: '2025-11-25 10:00:00',
            }
      const key = signer === 'stranger' ? 'Zq3RkT8vW1nB6yLm0pXc4HsJ9dFa2GeU' : identity.apiV2Key
      const body = v2Xml(signer === 'unsigned' ? fields : { ...fields, sign: signV2(fields, key, 'HMAC-SHA256') })
      return new HttpResponse(body, { headers: { 'content-type': 'text/xml' } })
    }),
  )
  return log
}

/** The query keys a merchant needs for every refund query (merged into the harness merchant body). */
export function withQueryKeys(body: Record<string, unknown>): Record<string, unknown> {
  const wechatpay = body.wechatpay as Record<string, unknown>
  const alipay = body.alipay as Record<string, unknown>
  return {
    ...body,
    wechatpay: {
      ...wechatpay,
      merchantPrivateKey: keys.wechatpay.merchantApi.privateKeyPem,
      merchantSerial: keys.wechatpay.merchantApi.serial,
    },
    alipay: { ...alipay, appPrivateKey: keys.alipay.appKey.privateKeyPem },
  }
}

// --- the merchant's side -------------------------------------------------------------------------

/** An event as the merchant received it: its `webhook-id` and its JSON body. */
export interface ReceivedEvent {
  webhookId: string
  type: string
  data: {
    out_trade_no?: string
    amount?: number | null
    refund?: { out_refund_no: string; refund_id: string | null; amount: number; total_refunded: number } | null
    notification_type?: string
    notification_id?: string
    subject_id?: string | null
    raw: Record<string, unknown>
    [field: string]: unknown
  }
}

/** The merchant endpoint `url` answering 200 and keeping every event it receives, in order. */
export function receiveEvents(url: string): ReceivedEvent[] {
  const received: ReceivedEvent[] = []
  network.use(
    http.post(url, async ({ request }) => {
      const event = (await request.json()) as Omit<ReceivedEvent, 'webhookId'>
      received.push({ webhookId: request.headers.get('webhook-id') ?? '', type: event.type, data: event.data })
      return HttpResponse.text('ok')
    }),
  )
  return received
}

/** Alipay's side of `alipay.trade.query`: the trade as `fields` say, signed over the exact response text. */
export function tradeQueryAnswers(fields: (outTradeNo: string) => Record<string, string>): string[] {
  const asked: string[] = []
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('method') !== 'alipay.trade.query') return undefined
      return tradeQueryReply(form, fields, asked)
    }),
  )
  return asked
}

/** Alipay's answer to the trade query `form` (its order noted in `asked`): the trade as `fields` say. */
export function tradeQueryReply(
  form: URLSearchParams,
  fields: (outTradeNo: string) => Record<string, string>,
  asked: string[],
): HttpResponse<string> {
  const outTradeNo = (JSON.parse(form.get('biz_content')!) as { out_trade_no: string }).out_trade_no
  asked.push(outTradeNo)
  const content = JSON.stringify({ code: '10000', msg: 'Success', out_trade_no: outTradeNo, ...fields(outTradeNo) })
  const sign = createSign('RSA-SHA256').update(content).sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
  return new HttpResponse(`{"alipay_trade_query_response":${content},"sign":"${sign}"}`)
}

/**
 * Holds Alipay's answer to the first request `matches` (every request, without it) until `release`: the gateway's
 * query is then out while the test sends what must interleave with it. `sent` resolves once that request is made.
 */
export function holdFirstAlipayRequest(matches: (form: URLSearchParams) => boolean = () => true): {
  sent: Promise<void>
  release: () => void
} {
  let requestSent!: () => void
  const sent = new Promise<void>((resolve) => {
    requestSent = resolve
  })
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let seen = 0
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      if (!matches(new URLSearchParams(await request.clone().text()))) return undefined
      seen += 1
      if (seen === 1) {
        requestSent()
        await held
      }
      return undefined
    }),
  )
  return { sent, release }
}
