import { createHash, createHmac } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { network } from '../../msw'
import type { V2SignType } from '../../../src/providers/wechatpay'
import { wechatpayV2Query } from '../../../src/providers/wechatpay/v2-query'
import { failure, keys, merchant, NOW, OUT_TRADE_NO } from './support'

const API = 'https://api.mch.weixin.qq.com'
const KEY = keys.wechatpay.apiV2Key
const TRANSACTION_ID = '4200002026112212345678'

/** WeChat's v2 sign, computed here with node:crypto: sorted non-empty fields but `sign`, `&key=`, uppercase hex. */
function independentSign(fields: Record<string, string>, signType: V2SignType, key = KEY): string {
  const text = `${Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name] !== '')
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&')}&key=${key}`
  const digest = signType === 'MD5' ? createHash('md5').update(text, 'utf8') : createHmac('sha256', key).update(text, 'utf8')
  return digest.digest('hex').toUpperCase()
}

/** A flat XML reader written for the test, so the request is not read back with the code under test. */
function xmlFields(xml: string): Record<string, string> {
  const inner = /^<xml>([\s\S]*)<\/xml>$/.exec(xml.trim())
  expect(inner).not.toBeNull()
  const fields: Record<string, string> = {}
  for (const match of inner![1]!.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) {
    fields[match[1]!] = match[2] ?? match[3] ?? ''
  }
  return fields
}

function xml(fields: Record<string, string>): string {
  return `<xml>${Object.entries(fields)
    .map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`)
    .join('')}</xml>`
}

function paidFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: keys.wechatpay.appid,
    mch_id: keys.wechatpay.mchid,
    nonce_str: 'lJjqKnCW9DaZTbDP',
    result_code: 'SUCCESS',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: '100',
    fee_type: 'CNY',
    cash_fee: '100',
    transaction_id: TRANSACTION_ID,
    out_trade_no: OUT_TRADE_NO,
    attach: '',
    time_end: '20261122095958',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    ...overrides,
  }
}

function signed(fields: Record<string, string>, signType: V2SignType = 'HMAC-SHA256', key = KEY): string {
  return xml({ ...fields, sign: independentSign(fields, signType, key) })
}

function answerWith(respond: (body: string) => Response | string, base = API): string[] {
  const seen: string[] = []
  network.use(
    http.post(`${base}/pay/orderquery`, async ({ request }) => {
      const body = await request.text()
      seen.push(body)
      const answer = respond(body)
      return typeof answer === 'string' ? HttpResponse.xml(answer) : answer
    }),
  )
  return seen
}

function query(config = merchant()) {
  return wechatpayV2Query.queryOrder(config, OUT_TRADE_NO, { now: NOW })
}

describe('WeChat Pay v2 order query: the request', () => {
  it('posts the order number with appid, mch_id and nonce, HMAC-SHA256-signed as node:crypto computes it', async () => {
    const seen = answerWith(() => signed(paidFields()))
    await query()
    const fields = xmlFields(seen[0]!)
    expect(Object.keys(fields).sort()).toEqual(['appid', 'mch_id', 'nonce_str', 'out_trade_no', 'sign', 'sign_type'])
    expect(fields).toMatchObject({
      appid: keys.wechatpay.appid,
      mch_id: keys.wechatpay.mchid,
      out_trade_no: OUT_TRADE_NO,
      sign_type: 'HMAC-SHA256',
    })
    expect(fields.nonce_str).toMatch(/^[0-9a-f]{32}$/)
    expect(fields.sign).toBe(independentSign(fields, 'HMAC-SHA256'))
  })

  it('signs with MD5 for a merchant that allows only MD5, and accepts the MD5-signed answer', async () => {
    const seen = answerWith(() => signed(paidFields(), 'MD5'))
    const result = await query(merchant({ wechatpay: { v2SignTypes: ['MD5'] } }))
    expect(result.kind).toBe('paid')
    const fields = xmlFields(seen[0]!)
    expect(fields.sign_type).toBe('MD5')
    expect(fields.sign).toBe(independentSign(fields, 'MD5'))
  })
})

describe('WeChat Pay v2 order query: the answer', () => {
  it('maps trade_state SUCCESS to a paid order, shaped like the pay notification', async () => {
    answerWith(() => signed(paidFields()))
    const { attach: _empty, ...verified } = paidFields()
    expect(await query()).toEqual({
      kind: 'paid',
      notification: {
        channel: 'wechatpay.v2',
        provider: 'wechatpay',
        notificationId: `query:wechatpay.v2:${TRANSACTION_ID}:payment`,
        outTradeNo: OUT_TRADE_NO,
        effect: { kind: 'payment', amount: 100, currency: 'CNY', transactionId: TRANSACTION_ID, paidAt: '2026-11-22T01:59:58Z' },
        raw: verified,
      },
    })
  })

  it('reports REFUND as the payment that happened, under the same id as SUCCESS', async () => {
    answerWith(() => signed(paidFields({ trade_state: 'REFUND', trade_state_desc: '转入退款' })))
    const result = await query()
    expect(result.kind).toBe('refunded')
    expect(result.kind === 'refunded' && result.notification.notificationId).toBe(`query:wechatpay.v2:${TRANSACTION_ID}:payment`)
  })

  it.each(['NOTPAY', 'USERPAYING', 'ACCEPT', 'PAYERROR'])('maps %s to not paid', async (state) => {
    answerWith(() => signed(paidFields({ trade_state: state, transaction_id: '', time_end: '' })))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: state })
  })

  it.each(['CLOSED', 'REVOKED'])('maps %s to a closed order', async (state) => {
    answerWith(() => signed(paidFields({ trade_state: state, transaction_id: '', time_end: '' })))
    const result = await query()
    expect(result.kind).toBe('closed')
    expect(result.kind === 'closed' && result.notification).toMatchObject({
      notificationId: `query:wechatpay.v2:out_trade_no:${OUT_TRADE_NO}:close`,
      effect: { kind: 'close', transactionId: null, closedAt: null, amount: null },
    })
  })

  it('maps a signed result_code=FAIL ORDERNOTEXIST to not paid, and other err_codes to a provider error', async () => {
    const fail = (errCode: string) => ({
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: keys.wechatpay.appid,
      mch_id: keys.wechatpay.mchid,
      nonce_str: 'lJjqKnCW9DaZTbDP',
      result_code: 'FAIL',
      err_code: errCode,
      err_code_des: 'x',
    })
    answerWith(() => signed(fail('ORDERNOTEXIST')))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'ORDERNOTEXIST' })
    answerWith(() => signed(fail('SYSTEMERROR')))
    expect((await failure(query(), 'provider_error')).message).toContain('SYSTEMERROR')
  })

  it('reports an unsigned return_code=FAIL as a provider error with its message', async () => {
    answerWith(() => xml({ return_code: 'FAIL', return_msg: '签名错误' }))
    expect((await failure(query(), 'provider_error')).message).toContain('签名错误')
  })

  it('reports a non-200 status and a missing network', async () => {
    answerWith(() => new HttpResponse('busy', { status: 503 }))
    expect((await failure(query(), 'http_error')).httpStatus).toBe(503)
    answerWith(() => HttpResponse.error())
    await failure(query(), 'network')
  })

  it('goes to the configured API base URL', async () => {
    const base = 'http://localhost:8788'
    const seen = answerWith(() => signed(paidFields()), base)
    expect((await query(merchant({ wechatpay: { apiBaseUrl: base } }))).kind).toBe('paid')
    expect(seen).toHaveLength(1)
  })
})

describe('WeChat Pay v2 order query: forged answers', () => {
  it('refuses an answer signed with another key', async () => {
    answerWith(() => signed(paidFields(), 'HMAC-SHA256', 'a'.repeat(32)))
    const forged = await failure(query(), 'signature_invalid')
    expect(forged.message).not.toContain(KEY)
    expect(forged.message).not.toContain(independentSign(paidFields(), 'HMAC-SHA256'))
  })

  it('refuses an answer changed after signing', async () => {
    answerWith(() => signed(paidFields()).replace('<total_fee><![CDATA[100]]>', '<total_fee><![CDATA[1]]>'))
    await failure(query(), 'signature_invalid')
  })

  it('refuses a return_code=SUCCESS answer without a sign', async () => {
    answerWith(() => xml(paidFields()))
    await failure(query(), 'unsigned_response')
  })

  it('refuses an answer signed with another sign type than the request', async () => {
    answerWith(() => signed(paidFields(), 'MD5'))
    await failure(query(), 'signature_invalid')
  })

  it('refuses a genuine answer about another merchant or another order', async () => {
    answerWith(() => signed(paidFields({ mch_id: '1900000999' })))
    await failure(query(), 'malformed_response')
    answerWith(() => signed(paidFields({ out_trade_no: 'T-other' })))
    await failure(query(), 'malformed_response')
  })

  it('refuses XML with a DOCTYPE before looking at it', async () => {
    answerWith(() => `<!DOCTYPE xml [<!ENTITY x "y">]>${signed(paidFields())}`)
    await failure(query(), 'malformed_response')
  })
})

describe('WeChat Pay v2 order query: configuration', () => {
  it('needs the APIv2 key', async () => {
    const config = merchant({ wechatpay: { apiV2Key: undefined, v2SignTypes: [] } })
    expect(wechatpayV2Query.isConfigured(config)).toBe(false)
    await failure(query(config), 'not_configured')
  })
})
