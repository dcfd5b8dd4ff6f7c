/**
 * The three refund-query clients against the providers' side played by the mock network: each request
 * signed as the provider checks it (verified here with node:crypto), each answer's signature checked
 * before its refund is read, and each answer mapped to settled or unsettled.
 */
import { createHmac, createVerify } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { network } from '../../msw'
import { alipayRefundQuery } from '../../../src/providers/alipay/refund-query'
import type { RefundQueryClient } from '../../../src/providers/core/refund-query'
import { wechatpayV2RefundQuery } from '../../../src/providers/wechatpay/v2-refund-query'
import { wechatpayV3RefundQuery } from '../../../src/providers/wechatpay/v3-refund-query'
import {
  ALIPAY_GATEWAY,
  alipayRefundQueryAnswers,
  v2RefundQueryAnswers,
  v3RefundQueryAnswers,
  WECHAT_API,
  type AnswerSigner,
  type ProviderRefund,
  type QueryLog,
} from '../../support/refunds'
import { failure, keys, merchant } from './support'

const REFUND: ProviderRefund = { outTradeNo: 'T20261122-0030', outRefundNo: 'R20261123-B', amount: 2000, total: 10_000 }
const ref = { outTradeNo: REFUND.outTradeNo, outRefundNo: REFUND.outRefundNo }

const clients: { name: string; client: RefundQueryClient; answers: (r: ProviderRefund[], s?: AnswerSigner) => QueryLog }[] = [
  { name: 'wechatpay.v3', client: wechatpayV3RefundQuery, answers: v3RefundQueryAnswers },
  { name: 'wechatpay.v2', client: wechatpayV2RefundQuery, answers: v2RefundQueryAnswers },
  { name: 'alipay', client: alipayRefundQuery, answers: alipayRefundQueryAnswers },
]

const query = (client: RefundQueryClient) => client.queryRefund(merchant(), ref, { now: Date.now() })

describe('refund queries: answers', () => {
  for (const { name, client, answers } of clients) {
    it(`${name}: a verified answer settles the refund with its own amount, in the shape of its notification`, async () => {
      const log = answers([REFUND])
      const result = await query(client)
      expect(log.asked).toEqual([REFUND.outRefundNo])
      if (result.kind !== 'settled') throw new Error(`expected settled, got ${result.kind}`)
      expect(result.notification).toMatchObject({
        channel: client.channel,
        provider: client.provider,
        notificationId: `query:${client.channel}:refund:${REFUND.outRefundNo}:succeeded`,
        outTradeNo: REFUND.outTradeNo,
        effect: {
          kind: 'refund',
          outcome: 'succeeded',
          outRefundNo: REFUND.outRefundNo,
          amount: 2000,
          cumulativeRefunded: null,
          orderAmount: 10_000,
        },
      })
    })

    it(`${name}: a refund the provider does not hold (yet), or still processes, is unsettled`, async () => {
      answers([])
      expect((await query(client)).kind).toBe('unsettled')
      answers([{ ...REFUND, status: 'PROCESSING' }])
      expect((await query(client)).kind).toBe('unsettled')
    })

    it(`${name}: an answer signed by another key, or not signed, is refused`, async () => {
      answers([REFUND], 'stranger')
      await failure(query(client), 'signature_invalid')
      answers([REFUND], 'unsigned')
      const unsigned = await query(client).then(
        () => null,
        (error: unknown) => (error as { reason: string }).reason,
      )
      expect(['unsigned_response', 'signature_invalid']).toContain(unsigned)
    })

    it(`${name}: an answer about another order's refund is never this refund`, async () => {
      answers([{ ...REFUND, outTradeNo: 'T-OTHER' }])
      if (name === 'alipay') {
        // Alipay is asked by order and refund number: another order's refund is simply not found.
        expect((await query(client)).kind).toBe('unsettled')
      } else {
        // WeChat is asked by refund number: an answer naming another order is refused.
        await failure(query(client), 'malformed_response')
      }
    })
  }

  it('refuses numbers that could not be asked about, before any request', async () => {
    await expect(wechatpayV3RefundQuery.queryRefund(merchant(), { ...ref, outRefundNo: '..' }, { now: Date.now() })).rejects.toThrow(
      RangeError,
    )
  })
})

describe('refund queries: requests', () => {
  it('wechatpay.v3: GET /v3/refund/domestic/refunds/{no}, signed with the merchant API key', async () => {
    const seen: { url: string; authorization: string }[] = []
    network.use(
      http.get(`${WECHAT_API}/v3/refund/domestic/refunds/:no`, ({ request }) => {
        seen.push({ url: request.url, authorization: request.headers.get('authorization') ?? '' })
        return HttpResponse.json({ code: 'RESOURCE_NOT_EXISTS', message: 'x' }, { status: 404 })
      }),
    )
    await query(wechatpayV3RefundQuery)
    const url = new URL(seen[0]!.url)
    expect(url.pathname).toBe('/v3/refund/domestic/refunds/R20261123-B')
    const fields = Object.fromEntries([...seen[0]!.authorization.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
    const message = `GET\n${url.pathname}${url.search}\n${fields.timestamp}\n${fields.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(keys.wechatpay.merchantApi.publicKeyPem, fields.signature!, 'base64')).toBe(
      true,
    )
  })

  it('wechatpay.v2: POST /pay/refundquery by out_refund_no, HMAC-SHA256 signed with the APIv2 key', async () => {
    let body = ''
    network.use(
      http.post(`${WECHAT_API}/pay/refundquery`, async ({ request }) => {
        body = await request.text()
        return HttpResponse.text('<xml><return_code>FAIL</return_code><return_msg>x</return_msg></xml>')
      }),
    )
    await failure(query(wechatpayV2RefundQuery), 'provider_error')
    const fields = Object.fromEntries([...body.matchAll(/<(\w+)>(?:<!\[CDATA\[)?([^<\]]*)/g)].map((m) => [m[1]!, m[2]!]))
    expect(fields).toMatchObject({
      appid: keys.wechatpay.appid,
      mch_id: keys.wechatpay.mchid,
      out_refund_no: 'R20261123-B',
      sign_type: 'HMAC-SHA256',
    })
    const signed = Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&')
    const expected = createHmac('sha256', keys.wechatpay.apiV2Key)
      .update(`${signed}&key=${keys.wechatpay.apiV2Key}`)
      .digest('hex')
      .toUpperCase()
    expect(fields.sign).toBe(expected)
  })

  it('alipay: alipay.trade.fastpay.refund.query with out_trade_no and out_request_no, RSA2-signed with the app key', async () => {
    let form = new URLSearchParams()
    network.use(
      http.post(ALIPAY_GATEWAY, async ({ request }) => {
        form = new URLSearchParams(await request.text())
        return HttpResponse.text('{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}')
      }),
    )
    await failure(query(alipayRefundQuery), 'provider_error')
    expect(form.get('method')).toBe('alipay.trade.fastpay.refund.query')
    expect(JSON.parse(form.get('biz_content')!)).toEqual({
      out_trade_no: REFUND.outTradeNo,
      out_request_no: REFUND.outRefundNo,
      query_options: ['gmt_refund_pay'],
    })
    const params = Object.fromEntries(form)
    const content = Object.keys(params)
      .filter((k) => k !== 'sign' && params[k] !== '')
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&')
    expect(createVerify('RSA-SHA256').update(content).verify(keys.alipay.appKey.publicKeyPem, params.sign!, 'base64')).toBe(true)
  })
})

describe('refund queries: Alipay keys that rotate', () => {
  const { alipayKey, nextAlipayKey } = keys.alipay
  const withKeys = (alipayPublicKey: string[]) => merchant({ alipay: { alipayPublicKey } })

  it('alipay: an answer signed with any listed key settles the refund; with none of them it is refused', async () => {
    alipayRefundQueryAnswers([REFUND])
    const listed = await alipayRefundQuery.queryRefund(withKeys([nextAlipayKey.publicKeyPem, alipayKey.publicKeyPem]), ref, {
      now: Date.now(),
    })
    expect(listed.kind).toBe('settled')
    alipayRefundQueryAnswers([REFUND])
    await failure(alipayRefundQuery.queryRefund(withKeys([nextAlipayKey.publicKeyPem]), ref, { now: Date.now() }), 'signature_invalid')
  })
})

describe('refund queries: the currency of an Alipay answer', () => {
  it("alipay: the answer names no currency, so its amounts are read and labelled in the order's (300.00 of a JPY trade is 300 yen)", async () => {
    alipayRefundQueryAnswers([{ ...REFUND, amount: 300, total: 1000, currency: 'JPY' }])
    const result = await alipayRefundQuery.queryRefund(merchant(), { ...ref, currency: 'JPY' }, { now: Date.now() })
    if (result.kind !== 'settled') throw new Error(`expected settled, got ${result.kind}`)
    expect(result.notification.effect).toMatchObject({ amount: 300, orderAmount: 1000, currency: 'JPY' })
    expect(result.notification.raw).toMatchObject({ refund_amount: '300.00', total_amount: '1000.00' })
    // An order that knows no currency: CNY, as a domestic trade is.
    alipayRefundQueryAnswers([REFUND])
    const domestic = await alipayRefundQuery.queryRefund(merchant(), { ...ref, currency: null }, { now: Date.now() })
    expect(domestic).toMatchObject({ kind: 'settled', notification: { effect: { amount: 2000, orderAmount: 10_000, currency: 'CNY' } } })
  })
})
