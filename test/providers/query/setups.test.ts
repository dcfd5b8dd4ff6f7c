/**
 * Order queries for set-ups beyond one app: a WeChat Pay sub-merchant (partner endpoints and fields), an
 * Alipay third-party (ISV) app (`app_auth_token`), and Alipay certificate mode (`app_cert_sn`,
 * `alipay_root_cert_sn`, answers from the configured certificate only). Answers are signed here with
 * node:crypto, or come from test/fixtures (signed by test/fixtures/signers/alipay.mjs).
 */
import { createHash, createVerify } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import alipayFixtures from '../../fixtures/alipay.json'
import v3Fixtures from '../../fixtures/wechatpay-v3.json'
import { network } from '../../msw'
import { alipayQuery } from '../../../src/providers/alipay/query'
import { alipaySection } from '../../../src/providers/alipay/config'
import { wechatpayV2Query } from '../../../src/providers/wechatpay/v2-query'
import { wechatpayV3Query } from '../../../src/providers/wechatpay/v3-query'
import type { MerchantConfig } from '../../../src/merchants/types'
import { failure, keys, merchant, NOW, NOW_SECONDS, OUT_TRADE_NO, rsaSha256 } from './support'

const WECHAT_API = 'https://api.mch.weixin.qq.com'
const ALIPAY_GATEWAY = 'https://openapi.alipay.com/gateway.do'
const { partner } = v3Fixtures
const { platformCertA, merchantApi } = keys.wechatpay
const TRANSACTION_ID = '4200002026112212345678'

const subMerchant = merchant({ wechatpay: { subMchid: partner.subMchid, subAppid: partner.subAppid } })

function partnerTransaction(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sp_appid: keys.wechatpay.appid,
    sp_mchid: keys.wechatpay.mchid,
    sub_appid: partner.subAppid,
    sub_mchid: partner.subMchid,
    out_trade_no: OUT_TRADE_NO,
    transaction_id: TRANSACTION_ID,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2026-11-22T09:59:58+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    ...fields,
  }
}

function signedV3Answer(body: string): Response {
  const nonce = 'c5ac7061fccab6bf3e254dcf98995b8c'
  return new HttpResponse(body, {
    headers: {
      'content-type': 'application/json',
      'Wechatpay-Timestamp': NOW_SECONDS,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': platformCertA.serial,
      'Wechatpay-Signature': rsaSha256(platformCertA.privateKeyPem, `${NOW_SECONDS}\n${nonce}\n${body}\n`),
    },
  })
}

describe('WeChat Pay sub-merchant (partner mode) order queries', () => {
  it('v3: GETs the partner endpoint with sp_mchid and sub_mchid, signed by the service provider’s API key', async () => {
    const seen: { url: string; headers: Headers }[] = []
    network.use(
      http.get(`${WECHAT_API}/v3/pay/partner/transactions/out-trade-no/:no`, ({ request }) => {
        seen.push({ url: request.url, headers: request.headers })
        return signedV3Answer(JSON.stringify(partnerTransaction()))
      }),
    )
    const result = await wechatpayV3Query.queryOrder(subMerchant, OUT_TRADE_NO, { now: NOW })
    expect(result).toMatchObject({
      kind: 'paid',
      notification: { effect: { kind: 'payment', amount: 100, transactionId: TRANSACTION_ID } },
    })
    const url = new URL(seen[0]!.url)
    expect(`${url.pathname}${url.search}`).toBe(
      `/v3/pay/partner/transactions/out-trade-no/${OUT_TRADE_NO}?sp_mchid=${keys.wechatpay.mchid}&sub_mchid=${partner.subMchid}`,
    )
    const auth = Object.fromEntries(
      [...(seen[0]!.headers.get('authorization') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    )
    expect(auth.mchid).toBe(keys.wechatpay.mchid)
    const message = `GET\n${url.pathname}${url.search}\n${auth.timestamp}\n${auth.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(merchantApi.publicKeyPem, auth.signature!, 'base64')).toBe(true)
  })

  it('v3: refuses an answer about another sub-merchant, or in the direct form', async () => {
    for (const answer of [
      partnerTransaction({ sub_mchid: partner.otherSubMchid }),
      { ...partnerTransaction(), sp_mchid: undefined, mchid: keys.wechatpay.mchid },
    ]) {
      network.use(http.get(`${WECHAT_API}/v3/pay/partner/transactions/out-trade-no/:no`, () => signedV3Answer(JSON.stringify(answer))))
      await failure(wechatpayV3Query.queryOrder(subMerchant, OUT_TRADE_NO, { now: NOW }), 'malformed_response')
    }
  })

  it('v2: orderquery names sub_mch_id and the first listed appid, signed as node:crypto computes it', async () => {
    const seen: string[] = []
    const answer = {
      return_code: 'SUCCESS',
      appid: keys.wechatpay.appid,
      mch_id: keys.wechatpay.mchid,
      sub_mch_id: partner.subMchid,
      nonce_str: 'lJjqKnCW9DaZTbDP',
      result_code: 'SUCCESS',
      trade_state: 'NOTPAY',
      out_trade_no: OUT_TRADE_NO,
    }
    network.use(
      http.post(`${WECHAT_API}/pay/orderquery`, async ({ request }) => {
        seen.push(await request.text())
        return HttpResponse.xml(xmlOf({ ...answer, sign: md5Sign(answer) }))
      }),
    )
    const config = merchant({
      wechatpay: { appid: [keys.wechatpay.appid, v3Fixtures.secondAppid], subMchid: partner.subMchid, v2SignTypes: ['MD5'] },
    })
    expect(await wechatpayV2Query.queryOrder(config, OUT_TRADE_NO, { now: NOW })).toEqual({ kind: 'not_paid', providerStatus: 'NOTPAY' })
    const fields = Object.fromEntries([...seen[0]!.matchAll(/<(\w+)><!\[CDATA\[([^\]]*)\]\]><\/\1>/g)].map((m) => [m[1]!, m[2]!]))
    expect(fields).toMatchObject({ appid: keys.wechatpay.appid, mch_id: keys.wechatpay.mchid, sub_mch_id: partner.subMchid })
    expect(fields.sign).toBe(md5Sign(fields))
  })
})

function md5Sign(fields: Record<string, string | undefined>): string {
  const text = Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name])
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&')
  return createHash('md5').update(`${text}&key=${keys.wechatpay.apiV2Key}`, 'utf8').digest('hex').toUpperCase()
}

function xmlOf(fields: Record<string, string>): string {
  return `<xml>${Object.entries(fields)
    .map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`)
    .join('')}</xml>`
}

/** The merchant as the admin API saves it: certificate mode, serial numbers computed by paygate. */
async function certModeMerchant(): Promise<MerchantConfig> {
  const { certMode } = keys.alipay
  const alipay = await alipaySection.parse(
    {
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicCert: certMode.alipayCert.certificatePem,
      alipayRootCert: certMode.rootCertPem,
      appCert: certMode.appCert.certificatePem,
      appPrivateKey: certMode.appCert.privateKeyPem,
    },
    { allowLoopback: false },
  )
  return { ...merchant(), alipay }
}

function alipayAnswers(body: string): URLSearchParams[] {
  const seen: URLSearchParams[] = []
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      seen.push(new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer())))
      return new HttpResponse(body, { headers: { 'content-type': 'text/html;charset=utf-8' } })
    }),
  )
  return seen
}

describe('Alipay order queries of a third-party (ISV) app and in certificate mode', () => {
  it('ISV: sends (and signs) the merchant’s app_auth_token', async () => {
    const token = '202611BBe6b1d3e2a9c74f0a8d36e1b2c4f5a6b7'
    const content = JSON.stringify({ code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在' })
    const seen = alipayAnswers(
      `{"alipay_trade_query_response":${content},"sign":"${rsaSha256(keys.alipay.alipayKey.privateKeyPem, content)}"}`,
    )
    const config = merchant({ alipay: { authAppId: alipayFixtures.isv.authAppId, appAuthToken: token } })
    expect(await alipayQuery.queryOrder(config, OUT_TRADE_NO, { now: NOW })).toEqual({
      kind: 'not_paid',
      providerStatus: 'ACQ.TRADE_NOT_EXIST',
    })
    const params = Object.fromEntries(seen[0]!)
    expect(params.app_auth_token).toBe(token)
    const signContent = Object.keys(params)
      .filter((name) => name !== 'sign')
      .sort()
      .map((name) => `${name}=${params[name]}`)
      .join('&')
    expect(createVerify('RSA-SHA256').update(signContent).verify(keys.alipay.appKey.publicKeyPem, params.sign!, 'base64')).toBe(true)
  })

  it('certificate mode: app_cert_sn and alipay_root_cert_sn as alipay-sdk computes them, signed with the app key', async () => {
    const seen = alipayAnswers(alipayFixtures.answers.certModePaid.body)
    const result = await alipayQuery.queryOrder(await certModeMerchant(), alipayFixtures.certMode.paidOrder, { now: NOW })
    expect(result).toMatchObject({ kind: 'paid', notification: { effect: { kind: 'payment', amount: 8888 } } })
    const params = Object.fromEntries(seen[0]!)
    expect(params.app_cert_sn).toBe(alipayFixtures.certMode.appCertSn)
    expect(params.alipay_root_cert_sn).toBe(alipayFixtures.certMode.alipayRootCertSn)
    const signContent = Object.keys(params)
      .filter((name) => name !== 'sign')
      .sort()
      .map((name) => `${name}=${params[name]}`)
      .join('&')
    const appCertKey = keys.alipay.certMode.appCert.certificatePem
    expect(createVerify('RSA-SHA256').update(signContent).verify(appCertKey, params.sign!, 'base64')).toBe(true)
  })

  it('certificate mode: refuses an answer from another Alipay certificate, and one naming another certificate', async () => {
    const config = await certModeMerchant()
    alipayAnswers(alipayFixtures.answers.certModeOtherCert.body)
    const other = await failure(alipayQuery.queryOrder(config, alipayFixtures.certMode.paidOrder, { now: NOW }), 'signature_invalid')
    expect(other.message).toBe('Alipay answer comes from another certificate (alipay_cert_sn)')
    alipayAnswers(alipayFixtures.answers.certModeNamesOtherCert.body)
    await failure(alipayQuery.queryOrder(config, alipayFixtures.certMode.paidOrder, { now: NOW }), 'signature_invalid')
  })
})
