import { createVerify } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { network } from '../../msw'
import { alipayQuery, alipayTimestamp } from '../../../src/providers/alipay/query'
import { MalformedAlipayResponse, readAlipayResponse } from '../../../src/providers/alipay/response'
import { failure, keys, merchant, NOW, OUT_TRADE_NO, rsaSha256 } from './support'

const GATEWAY = 'https://openapi.alipay.com/gateway.do'
const TRADE_NO = '2026112222001400001234567890'
const RESPONSE_KEY = 'alipay_trade_query_response'

/** The response object's text as Alipay might write it: Chinese, escapes, and braces inside strings. */
function responseText(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    code: '10000',
    msg: 'Success',
    buyer_logon_id: 'ab***@example.com',
    buyer_pay_amount: '1.00',
    buyer_user_id: '2088102177846880',
    invoice_amount: '1.00',
    out_trade_no: OUT_TRADE_NO,
    point_amount: '0.00',
    receipt_amount: '1.00',
    send_pay_date: '2026-11-22 09:59:58',
    total_amount: '1.00',
    trade_no: TRADE_NO,
    trade_status: 'TRADE_SUCCESS',
    subject: '测试 "订单" {1} \\ 完',
    fund_bill_list: [{ amount: '1.00', fund_channel: 'ALIPAYACCOUNT' }],
    ...fields,
  })
}

/** Alipay's side: `sign` over the exact response text, with the Alipay private key (or another one). */
function signedBody(content: string, { key = keys.alipay.alipayKey.privateKeyPem, signFirst = false } = {}): string {
  const sign = rsaSha256(key, content)
  return signFirst ? `{"sign":"${sign}", "${RESPONSE_KEY}" : ${content}}` : `{"${RESPONSE_KEY}":${content},"sign":"${sign}"}`
}

function answerWith(respond: (form: URLSearchParams) => Response | string, url = GATEWAY): URLSearchParams[] {
  const seen: URLSearchParams[] = []
  network.use(
    http.post(url, async ({ request }) => {
      expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded;charset=utf-8')
      // Bytes, not request.text(): workerd warns when a form body is read as text.
      const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()))
      seen.push(form)
      const answer = respond(form)
      return typeof answer === 'string' ? new HttpResponse(answer, { headers: { 'content-type': 'text/html;charset=utf-8' } }) : answer
    }),
  )
  return seen
}

function query(config = merchant()) {
  return alipayQuery.queryOrder(config, OUT_TRADE_NO, { now: NOW })
}

describe('Alipay order query: the request', () => {
  it('posts alipay.trade.query with the common parameters, RSA2-signed over every parameter but sign', async () => {
    const seen = answerWith(() => signedBody(responseText()))
    await query()
    const form = seen[0]!
    const params = Object.fromEntries(form)
    expect(Object.keys(params).sort()).toEqual([
      'app_id',
      'biz_content',
      'charset',
      'format',
      'method',
      'sign',
      'sign_type',
      'timestamp',
      'version',
    ])
    expect(params).toMatchObject({
      app_id: keys.alipay.appId,
      method: 'alipay.trade.query',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: '2026-11-22 10:00:00',
      version: '1.0',
    })
    expect(JSON.parse(params.biz_content!)).toEqual({ out_trade_no: OUT_TRADE_NO })
    // Alipay's rule, written out here: sign_type included, empty values skipped, sorted, raw values.
    const content = Object.keys(params)
      .filter((name) => name !== 'sign' && params[name] !== '')
      .sort()
      .map((name) => `${name}=${params[name]}`)
      .join('&')
    expect(content).toContain('sign_type=RSA2')
    expect(createVerify('RSA-SHA256').update(content, 'utf8').verify(keys.alipay.appKey.publicKeyPem, params.sign!, 'base64')).toBe(true)
    expect(createVerify('RSA-SHA256').update(content, 'utf8').verify(keys.stranger.publicKeyPem, params.sign!, 'base64')).toBe(false)
  })

  it('formats the timestamp in Beijing time, across the date line', () => {
    expect(alipayTimestamp(Date.parse('2026-12-31T16:30:05Z'))).toBe('2027-01-01 00:30:05')
    expect(alipayTimestamp(Date.parse('2026-11-22T02:00:00.999Z'))).toBe('2026-11-22 10:00:00')
  })

  it('goes to the configured gateway URL', async () => {
    const gateway = 'http://127.0.0.1:8788/gateway.do'
    const seen = answerWith(() => signedBody(responseText()), gateway)
    expect((await query(merchant({ alipay: { gatewayUrl: gateway } }))).kind).toBe('paid')
    expect(seen).toHaveLength(1)
  })
})

describe('Alipay order query: the answer', () => {
  it('maps TRADE_SUCCESS to a paid order, shaped like the trade notification', async () => {
    const content = responseText()
    answerWith(() => signedBody(content))
    expect(await query()).toEqual({
      kind: 'paid',
      notification: {
        channel: 'alipay',
        provider: 'alipay',
        notificationId: `query:alipay:${TRADE_NO}:payment`,
        outTradeNo: OUT_TRADE_NO,
        effect: { kind: 'payment', amount: 100, currency: 'CNY', transactionId: TRADE_NO, paidAt: '2026-11-22T01:59:58Z' },
        raw: JSON.parse(content),
      },
    })
  })

  it('verifies the response object wherever sign stands in the document', async () => {
    answerWith(() => signedBody(responseText(), { signFirst: true }))
    expect((await query()).kind).toBe('paid')
  })

  it('reports TRADE_FINISHED as the same payment as TRADE_SUCCESS', async () => {
    answerWith(() => signedBody(responseText({ trade_status: 'TRADE_FINISHED' })))
    const result = await query()
    expect(result.kind === 'paid' && result.notification.notificationId).toBe(`query:alipay:${TRADE_NO}:payment`)
  })

  it('maps WAIT_BUYER_PAY to not paid', async () => {
    answerWith(() => signedBody(responseText({ trade_status: 'WAIT_BUYER_PAY', send_pay_date: undefined })))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'WAIT_BUYER_PAY' })
  })

  it('maps an unpaid TRADE_CLOSED to closed, and a paid-then-refunded one to the payment', async () => {
    answerWith(() => signedBody(responseText({ trade_status: 'TRADE_CLOSED', send_pay_date: undefined })))
    const closed = await query()
    expect(closed.kind).toBe('closed')
    expect(closed.kind === 'closed' && closed.notification).toMatchObject({
      notificationId: `query:alipay:${TRADE_NO}:close`,
      effect: { kind: 'close', transactionId: TRADE_NO, closedAt: null },
    })

    answerWith(() => signedBody(responseText({ trade_status: 'TRADE_CLOSED' })))
    const refunded = await query()
    expect(refunded.kind).toBe('refunded')
    expect(refunded.kind === 'refunded' && refunded.notification.effect).toMatchObject({ kind: 'payment', amount: 100 })
  })

  it('maps 40004 ACQ.TRADE_NOT_EXIST to not paid, and other failures to a provider error', async () => {
    const notExist = JSON.stringify({ code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在' })
    answerWith(() => signedBody(notExist))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'ACQ.TRADE_NOT_EXIST' })

    const systemError = JSON.stringify({ code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error' })
    answerWith(() => signedBody(systemError))
    expect((await failure(query(), 'provider_error')).message).toBe('Alipay answered code 20000 isp.unknow-error')
  })

  it('reads an unsigned error_response (our request refused) as a provider error', async () => {
    answerWith(() =>
      JSON.stringify({
        error_response: { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: '验签出错' },
      }),
    )
    expect((await failure(query(), 'provider_error')).message).toContain('isv.invalid-signature')
  })

  it('reports a non-200 status and a missing network', async () => {
    answerWith(() => new HttpResponse('busy', { status: 502 }))
    expect((await failure(query(), 'http_error')).httpStatus).toBe(502)
    answerWith(() => HttpResponse.error())
    await failure(query(), 'network')
  })
})

describe('Alipay order query: forged answers', () => {
  it('refuses an answer signed with another key', async () => {
    answerWith(() => signedBody(responseText(), { key: keys.stranger.privateKeyPem }))
    await failure(query(), 'signature_invalid')
  })

  it('refuses an answer with one byte changed after signing', async () => {
    answerWith(() => signedBody(responseText()).replace('"total_amount":"1.00"', '"total_amount":"9.00"'))
    await failure(query(), 'signature_invalid')
  })

  it('refuses a success answer without a sign', async () => {
    answerWith(() => `{"${RESPONSE_KEY}":${responseText()}}`)
    await failure(query(), 'unsigned_response')
  })

  it('refuses a signed answer whose error code claims "not paid" but does not verify', async () => {
    const notExist = JSON.stringify({ code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST' })
    answerWith(() => signedBody(notExist, { key: keys.stranger.privateKeyPem }))
    await failure(query(), 'signature_invalid')
  })

  it('refuses a sign made over re-serialised JSON instead of the text sent', async () => {
    const spaced = responseText().replaceAll('","', '", "')
    answerWith(
      () => `{"${RESPONSE_KEY}":${spaced},"sign":"${rsaSha256(keys.alipay.alipayKey.privateKeyPem, JSON.stringify(JSON.parse(spaced)))}"}`,
    )
    await failure(query(), 'signature_invalid')
  })

  it('refuses an answer naming the response twice', async () => {
    const genuine = signedBody(responseText())
    answerWith(() => genuine.replace(/^\{/, `{"${RESPONSE_KEY}":${responseText({ trade_status: 'WAIT_BUYER_PAY' })},`))
    await failure(query(), 'malformed_response')
  })

  it('refuses a genuine answer about another order', async () => {
    answerWith(() => signedBody(responseText({ out_trade_no: 'T-other' })))
    await failure(query(), 'malformed_response')
  })

  it('refuses answers that are not an OpenAPI document', async () => {
    answerWith(() => '<html>maintenance</html>')
    await failure(query(), 'malformed_response')
    answerWith(() => JSON.stringify({ other_response: { code: '10000' }, sign: 'x' }))
    await failure(query(), 'malformed_response')
  })
})

describe('Alipay order query: configuration', () => {
  it('needs the app private key', async () => {
    const config = merchant({ alipay: { appPrivateKey: undefined } })
    expect(alipayQuery.isConfigured(config)).toBe(false)
    await failure(query(config), 'not_configured')
  })
})

describe('Alipay response sign content', () => {
  it('is the exact text of the response member, braces and quotes inside strings included', () => {
    const content = `{"code":"10000","a":"}\\"{","b":{"c":[1,{"d":"]}"}]},"e":null}`
    const body = `{ "${RESPONSE_KEY}" :\n ${content} , "sign":"abc=" }`
    const response = readAlipayResponse(body, RESPONSE_KEY)
    expect(response.content).toBe(content)
    expect(response.sign).toBe('abc=')
    expect(response.fields).toEqual(JSON.parse(content))
  })

  it('matches the member name exactly, not as a substring elsewhere', () => {
    const content = `{"code":"10000"}`
    const body = `{"note":"${RESPONSE_KEY}","${RESPONSE_KEY}":${content},"sign":"abc="}`
    expect(readAlipayResponse(body, RESPONSE_KEY).content).toBe(content)
  })

  it('falls back to error_response, and refuses documents without either', () => {
    expect(readAlipayResponse(`{"error_response":{"code":"40002"}}`, RESPONSE_KEY)).toMatchObject({ key: 'error_response', sign: null })
    expect(() => readAlipayResponse(`{"x":1}`, RESPONSE_KEY)).toThrow(MalformedAlipayResponse)
    expect(() => readAlipayResponse(`[1]`, RESPONSE_KEY)).toThrow(MalformedAlipayResponse)
    expect(() => readAlipayResponse(`{"${RESPONSE_KEY}":"text"}`, RESPONSE_KEY)).toThrow(MalformedAlipayResponse)
  })
})
