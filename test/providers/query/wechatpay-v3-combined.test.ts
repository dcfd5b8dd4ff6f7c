/**
 * The WeChat Pay APIv3 combined query (合单查询订单) as the order-query client makes it: `GET
 * /v3/combine-transactions/out-trade-no/{combine_out_trade_no}` signed with the merchant API key, the answer verified
 * like any v3 answer, then the one sub-order read from `sub_orders`. Answers signed with node:crypto.
 */
import { createVerify } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { network } from '../../msw'
import type { QueryOptions } from '../../../src/providers/core/query-types'
import { wechatpayV3Query } from '../../../src/providers/wechatpay/v3-query'
import { failure, keys, merchant, NOW, NOW_SECONDS, OUT_TRADE_NO, rsaSha256 } from './support'

const { platformCertA, merchantApi } = keys.wechatpay
const API = 'https://api.mch.weixin.qq.com'
const COMBINE = 'C20261122-0001'
const TRANSACTION_ID = '4200002026112212345679'
const SUB_MERCHANT = { subMchid: '1900000999', subAppid: 'wx9999999999999999' }

function subOrder(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mchid: keys.wechatpay.mchid,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2026-11-22T09:59:58+08:00',
    transaction_id: TRANSACTION_ID,
    out_trade_no: OUT_TRADE_NO,
    amount: { total_amount: 300, payer_amount: 300, currency: 'CNY', payer_currency: 'CNY' },
    ...fields,
  }
}

/** The combine's answer: its ids, then another order of the combine and `subOrders`. */
function combined(subOrders: Record<string, unknown>[] = [subOrder()], fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    combine_appid: keys.wechatpay.appid,
    combine_mchid: keys.wechatpay.mchid,
    combine_out_trade_no: COMBINE,
    combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    sub_orders: [subOrder({ out_trade_no: 'T20261122-OTHER', transaction_id: '4200002026112200000001' }), ...subOrders],
    ...fields,
  }
}

function signed(body: string, privateKeyPem = platformCertA.privateKeyPem, status = 200): Response {
  const nonce = 'c5ac7061fccab6bf3e254dcf98995b8d'
  return new HttpResponse(body, {
    status,
    headers: {
      'content-type': 'application/json',
      'Wechatpay-Timestamp': NOW_SECONDS,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': platformCertA.serial,
      'Wechatpay-Signature': rsaSha256(privateKeyPem, `${NOW_SECONDS}\n${nonce}\n${body}\n`),
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
  })
}

interface Seen {
  url: string
  authorization: string
}

/** The combined endpoint answering `respond()`, and the ordinary ones logged (they must never be asked). */
function answerWith(respond: () => Response): { combined: Seen[]; ordinary: string[] } {
  const seen = { combined: [] as Seen[], ordinary: [] as string[] }
  network.use(
    http.get(`${API}/v3/combine-transactions/out-trade-no/:combineOutTradeNo`, ({ request }) => {
      seen.combined.push({ url: request.url, authorization: request.headers.get('authorization') ?? '' })
      return respond()
    }),
    http.get(`${API}/v3/pay/*`, ({ request }) => {
      seen.ordinary.push(request.url)
      return HttpResponse.json({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }, { status: 404 })
    }),
  )
  return seen
}

const AS_SUB_ORDER: QueryOptions = { now: NOW, combinedPayment: { channel: 'wechatpay.v3', combineOutTradeNo: COMBINE } }

function query(config = merchant(), options = AS_SUB_ORDER) {
  return wechatpayV3Query.queryOrder(config, OUT_TRADE_NO, options)
}

describe('WeChat Pay v3 combined query: the request', () => {
  it('is a GET of the combine, with no query string, signed with the merchant API key; never the ordinary query', async () => {
    const seen = answerWith(() => signed(JSON.stringify(combined())))
    expect((await query()).kind).toBe('paid')
    expect(seen.ordinary).toEqual([])
    expect(seen.combined).toHaveLength(1)
    const url = new URL(seen.combined[0]!.url)
    expect(`${url.origin}${url.pathname}${url.search}`).toBe(`${API}/v3/combine-transactions/out-trade-no/${COMBINE}`)
    const fields = Object.fromEntries([...seen.combined[0]!.authorization.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    const message = `GET\n${url.pathname}\n${fields.timestamp}\n${fields.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(merchantApi.publicKeyPem, fields.signature!, 'base64')).toBe(true)
  })

  it('is the same URL for a sub-merchant (partner mode)', async () => {
    const seen = answerWith(() => signed(JSON.stringify(combined([subOrder({ sub_mchid: SUB_MERCHANT.subMchid })]))))
    expect((await query(merchant({ wechatpay: SUB_MERCHANT }))).kind).toBe('paid')
    expect(new URL(seen.combined[0]!.url).search).toBe('')
  })

  it('is asked only for a combine reported on v3 with a usable number: others are refused before any request', async () => {
    const seen = answerWith(() => signed(JSON.stringify(combined())))
    expect(wechatpayV3Query.queriesCombined({ channel: 'wechatpay.v3', combineOutTradeNo: COMBINE })).toBe(true)
    for (const combinedPayment of [
      { channel: 'wechatpay.v2', combineOutTradeNo: COMBINE },
      { channel: 'wechatpay.v3', combineOutTradeNo: '' },
    ]) {
      expect(wechatpayV3Query.queriesCombined(combinedPayment)).toBe(false)
      await expect(query(merchant(), { now: NOW, combinedPayment })).rejects.toBeInstanceOf(RangeError)
    }
    expect(seen).toEqual({ combined: [], ordinary: [] })
  })
})

describe('WeChat Pay v3 combined query: the answer', () => {
  it('reports the sub-order’s payment (amount.total_amount), its raw fields the combine’s and its own', async () => {
    answerWith(() => signed(JSON.stringify(combined())))
    const result = await query()
    const { sub_orders: _listed, ...combine } = combined()
    expect(result).toEqual({
      kind: 'paid',
      notification: {
        channel: 'wechatpay.v3',
        provider: 'wechatpay',
        notificationId: `query:wechatpay.v3:${TRANSACTION_ID}:payment`,
        outTradeNo: OUT_TRADE_NO,
        effect: { kind: 'payment', amount: 300, currency: 'CNY', transactionId: TRANSACTION_ID, paidAt: '2026-11-22T01:59:58Z' },
        raw: { ...combine, ...subOrder() },
      },
    })
  })

  it('maps the sub-order’s trade_state as an ordinary answer’s: NOTPAY is not paid, CLOSED closed', async () => {
    answerWith(() => signed(JSON.stringify(combined([subOrder({ trade_state: 'NOTPAY', success_time: undefined })]))))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'NOTPAY' })
    answerWith(() => signed(JSON.stringify(combined([subOrder({ trade_state: 'CLOSED' })]))))
    expect((await query()).kind).toBe('closed')
  })

  it('takes 404 ORDER_NOT_EXIST for no answer, never “not paid”: a signed notification named the combine', async () => {
    const seen = answerWith(() => HttpResponse.json({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }, { status: 404 }))
    const error = await failure(query(), 'provider_error')
    expect(error.message).toBe('WeChat Pay answered ORDER_NOT_EXIST for a combined payment its notification named')
    expect(seen.combined).toHaveLength(1)
    expect(seen.ordinary).toEqual([])
  })

  it('is no answer when the combine lists no such sub-order: never “not paid”', async () => {
    answerWith(() => signed(JSON.stringify(combined([]))))
    const error = await failure(query(), 'malformed_response')
    expect(error.message).toBe('the combined payment lists no such sub-order')
    answerWith(() => signed(JSON.stringify(combined([], { sub_orders: undefined }))))
    await failure(query(), 'malformed_response')
  })

  it('refuses a sub-order of another mchid, or of another sub-merchant, and an answer about another combine', async () => {
    answerWith(() => signed(JSON.stringify(combined([subOrder({ mchid: '1900000111' })]))))
    expect((await failure(query(), 'malformed_response')).message).toBe('sub_orders.mchid does not belong to this merchant')
    answerWith(() => signed(JSON.stringify(combined([subOrder({ sub_mchid: '1900000888' })]))))
    const partner = merchant({ wechatpay: SUB_MERCHANT })
    expect((await failure(query(partner), 'malformed_response')).message).toBe('sub_orders.sub_mchid does not belong to this merchant')
    answerWith(() => signed(JSON.stringify(combined([subOrder()], { combine_mchid: '1900000111' }))))
    expect((await failure(query(), 'malformed_response')).message).toBe('combine_mchid does not belong to this merchant')
    answerWith(() => signed(JSON.stringify(combined([subOrder()], { combine_out_trade_no: 'C20261122-9999' }))))
    expect((await failure(query(), 'malformed_response')).message).toBe('answer is about another combined payment')
  })

  it('refuses an unsigned answer, and one signed with a key that is not WeChat’s', async () => {
    answerWith(() => HttpResponse.json(combined()))
    await failure(query(), 'unsigned_response')
    answerWith(() => signed(JSON.stringify(combined()), keys.stranger.privateKeyPem))
    await failure(query(), 'signature_invalid')
  })
})
