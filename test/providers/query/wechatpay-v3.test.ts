import { createVerify } from 'node:crypto'
import { delay, http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { network } from '../../msw'
import { isUnknownSerial } from '../../../src/providers'
import { wechatpayV3Query } from '../../../src/providers/wechatpay/v3-query'
import { failure, keys, merchant, NOW, NOW_SECONDS, OUT_TRADE_NO, rsaSha256 } from './support'

const { platformCertA, publicKeyMode, merchantApi } = keys.wechatpay
const API = 'https://api.mch.weixin.qq.com'
const QUERY_PATH = `/v3/pay/transactions/out-trade-no/${OUT_TRADE_NO}`
const TRANSACTION_ID = '4200002026112212345678'

function transaction(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: keys.wechatpay.appid,
    mchid: keys.wechatpay.mchid,
    out_trade_no: OUT_TRADE_NO,
    transaction_id: TRANSACTION_ID,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2026-11-22T09:59:58+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    ...fields,
  }
}

interface Signer {
  privateKeyPem: string
  serial: string
}

const PLATFORM: Signer = { privateKeyPem: platformCertA.privateKeyPem, serial: platformCertA.serial }
const PUBLIC_KEY: Signer = { privateKeyPem: publicKeyMode.privateKeyPem, serial: publicKeyMode.id }

/** WeChat's side: `timestamp\nnonce\nbody\n` signed with the platform (or public-key-mode) key. */
function signedAnswer(
  body: string,
  {
    signer = PLATFORM,
    timestamp = NOW_SECONDS,
    status = 200,
    signature,
  }: { signer?: Signer; timestamp?: string; status?: number; signature?: string } = {},
): Response {
  const nonce = 'c5ac7061fccab6bf3e254dcf98995b8c'
  return new HttpResponse(body, {
    status,
    headers: {
      'content-type': 'application/json',
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature': signature ?? rsaSha256(signer.privateKeyPem, `${timestamp}\n${nonce}\n${body}\n`),
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
      'Request-ID': '08F78BB5AF0610D302A8A0F10E2D0F4B',
    },
  })
}

interface SeenRequest {
  url: string
  method: string
  headers: Headers
}

function answerWith(respond: () => Response, base = API): SeenRequest[] {
  const seen: SeenRequest[] = []
  network.use(
    http.get(`${base}/v3/pay/transactions/out-trade-no/:outTradeNo`, ({ request }) => {
      seen.push({ url: request.url, method: request.method, headers: request.headers })
      return respond()
    }),
  )
  return seen
}

function query(config = merchant(), outTradeNo = OUT_TRADE_NO) {
  return wechatpayV3Query.queryOrder(config, outTradeNo, { now: NOW })
}

function authorizationFields(header: string): Record<string, string> {
  expect(header.startsWith('WECHATPAY2-SHA256-RSA2048 ')).toBe(true)
  const fields: Record<string, string> = {}
  for (const match of header.slice('WECHATPAY2-SHA256-RSA2048 '.length).matchAll(/(\w+)="([^"]*)"/g)) fields[match[1]!] = match[2]!
  return fields
}

describe('WeChat Pay v3 order query: the request', () => {
  it('is a GET of the out-trade-no resource, signed with the merchant API key and verifiable with node:crypto', async () => {
    const seen = answerWith(() => signedAnswer(JSON.stringify(transaction())))
    await query()
    expect(seen).toHaveLength(1)
    const request = seen[0]!
    const url = new URL(request.url)
    expect(request.method).toBe('GET')
    expect(url.origin).toBe(API)
    expect(`${url.pathname}${url.search}`).toBe(`${QUERY_PATH}?mchid=${keys.wechatpay.mchid}`)
    expect(request.headers.get('accept')).toBe('application/json')
    expect(request.headers.get('user-agent')).toMatch(/^paygate\//)

    const auth = authorizationFields(request.headers.get('authorization') ?? '')
    expect(Object.keys(auth).sort()).toEqual(['mchid', 'nonce_str', 'serial_no', 'signature', 'timestamp'])
    expect(auth.mchid).toBe(keys.wechatpay.mchid)
    expect(auth.serial_no).toBe(merchantApi.serial)
    expect(auth.timestamp).toBe(NOW_SECONDS)
    expect(auth.nonce_str).toMatch(/^[0-9A-F]{32}$/)
    const message = `GET\n${url.pathname}${url.search}\n${auth.timestamp}\n${auth.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(merchantApi.publicKeyPem, auth.signature!, 'base64')).toBe(true)
    // Not by some other key: the signature is the merchant's.
    expect(createVerify('RSA-SHA256').update(message).verify(keys.stranger.publicKeyPem, auth.signature!, 'base64')).toBe(false)
  })

  it('uses a fresh nonce for every request', async () => {
    const seen = answerWith(() => signedAnswer(JSON.stringify(transaction())))
    await query()
    await query()
    const nonces = seen.map((request) => authorizationFields(request.headers.get('authorization') ?? '').nonce_str)
    expect(new Set(nonces).size).toBe(2)
  })

  it('signs the order number exactly as the URL carries it, percent-escapes included', async () => {
    const outTradeNo = 'T|2026*11'
    const seen = answerWith(() => signedAnswer(JSON.stringify(transaction({ out_trade_no: outTradeNo }))))
    expect((await query(merchant(), outTradeNo)).kind).toBe('paid')
    const url = new URL(seen[0]!.url)
    expect(url.pathname).toBe('/v3/pay/transactions/out-trade-no/T%7C2026*11')
    const auth = authorizationFields(seen[0]!.headers.get('authorization') ?? '')
    const message = `GET\n${url.pathname}${url.search}\n${auth.timestamp}\n${auth.nonce_str}\n\n`
    expect(createVerify('RSA-SHA256').update(message).verify(merchantApi.publicKeyPem, auth.signature!, 'base64')).toBe(true)
  })

  it('names the PUB_KEY_ID in Wechatpay-Serial in public-key mode, and nothing with platform certificates only', async () => {
    const publicKeyMerchant = merchant({
      wechatpay: {
        platformPublicKeys: {
          [platformCertA.serial]: platformCertA.publicKeyPem,
          [publicKeyMode.id]: publicKeyMode.publicKeyPem,
        },
      },
    })
    const seen = answerWith(() => signedAnswer(JSON.stringify(transaction()), { signer: PUBLIC_KEY }))
    expect((await query(publicKeyMerchant)).kind).toBe('paid')
    expect(seen[0]!.headers.get('wechatpay-serial')).toBe(publicKeyMode.id)

    const certOnly = answerWith(() => signedAnswer(JSON.stringify(transaction())))
    await query()
    expect(certOnly[0]!.headers.get('wechatpay-serial')).toBeNull()
  })

  it('goes to the configured API base URL (a local stand-in)', async () => {
    const base = 'http://127.0.0.1:8788/wechatpay'
    const seen = answerWith(() => signedAnswer(JSON.stringify(transaction())), base)
    expect((await query(merchant({ wechatpay: { apiBaseUrl: base } }))).kind).toBe('paid')
    expect(seen[0]!.url.startsWith(`${base}/v3/pay/transactions/out-trade-no/`)).toBe(true)
  })
})

describe('WeChat Pay v3 order query: the answer', () => {
  it('maps SUCCESS to a paid order, shaped like the TRANSACTION.SUCCESS notification', async () => {
    answerWith(() => signedAnswer(JSON.stringify(transaction())))
    const result = await query()
    expect(result).toEqual({
      kind: 'paid',
      notification: {
        channel: 'wechatpay.v3',
        provider: 'wechatpay',
        notificationId: `query:wechatpay.v3:${TRANSACTION_ID}:payment`,
        outTradeNo: OUT_TRADE_NO,
        effect: { kind: 'payment', amount: 100, currency: 'CNY', transactionId: TRANSACTION_ID, paidAt: '2026-11-22T01:59:58Z' },
        raw: transaction(),
      },
    })
  })

  it('verifies an answer signed with the WeChat Pay public key (public-key mode)', async () => {
    answerWith(() => signedAnswer(JSON.stringify(transaction()), { signer: PUBLIC_KEY }))
    const config = merchant({ wechatpay: { platformPublicKeys: { [publicKeyMode.id]: publicKeyMode.publicKeyPem } } })
    expect((await query(config)).kind).toBe('paid')
  })

  it('verifies the raw bytes, so escapes a re-serialisation would drop still verify', async () => {
    const body = JSON.stringify(transaction({ attach: 'a/b' })).replace('a/b', 'a\\/b')
    answerWith(() => signedAnswer(body))
    const result = await query()
    expect(result.kind).toBe('paid')
    expect(result.kind === 'paid' && result.notification.raw.attach).toBe('a/b')
  })

  it('reports REFUND as the payment that happened, under the same id as SUCCESS', async () => {
    answerWith(() => signedAnswer(JSON.stringify(transaction({ trade_state: 'REFUND', trade_state_desc: '转入退款' }))))
    const result = await query()
    expect(result.kind).toBe('refunded')
    expect(result.kind === 'refunded' && result.notification).toMatchObject({
      notificationId: `query:wechatpay.v3:${TRANSACTION_ID}:payment`,
      effect: { kind: 'payment', amount: 100, transactionId: TRANSACTION_ID },
    })
  })

  it.each(['NOTPAY', 'USERPAYING', 'ACCEPT', 'PAYERROR'])('maps %s to not paid', async (state) => {
    const { transaction_id: _none, success_time: _never, ...unpaid } = transaction({ trade_state: state })
    answerWith(() => signedAnswer(JSON.stringify(unpaid)))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: state })
  })

  it.each(['CLOSED', 'REVOKED'])('maps %s to a closed order, named by the order number when WeChat gave no transaction', async (state) => {
    const { transaction_id: _none, success_time: _never, ...closed } = transaction({ trade_state: state })
    answerWith(() => signedAnswer(JSON.stringify(closed)))
    expect(await query()).toEqual({
      kind: 'closed',
      notification: {
        channel: 'wechatpay.v3',
        provider: 'wechatpay',
        notificationId: `query:wechatpay.v3:out_trade_no:${OUT_TRADE_NO}:close`,
        outTradeNo: OUT_TRADE_NO,
        effect: { kind: 'close', transactionId: null, closedAt: null, amount: null },
        raw: closed,
      },
    })
  })

  it('maps a signed 404 ORDER_NOT_EXIST, and an unsigned one, to not paid', async () => {
    const notFound = JSON.stringify({ code: 'ORDER_NOT_EXIST', message: '订单不存在' })
    answerWith(() => signedAnswer(notFound, { status: 404 }))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'ORDER_NOT_EXIST' })
    answerWith(() => HttpResponse.json({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }, { status: 404 }))
    expect(await query()).toEqual({ kind: 'not_paid', providerStatus: 'ORDER_NOT_EXIST' })
  })

  it('refuses a 404 whose signature does not verify', async () => {
    const notFound = JSON.stringify({ code: 'ORDER_NOT_EXIST', message: '订单不存在' })
    answerWith(() => signedAnswer(notFound, { status: 404, signer: { ...PLATFORM, privateKeyPem: keys.stranger.privateKeyPem } }))
    await failure(query(), 'signature_invalid')
  })

  it('reports other error answers with their code and status', async () => {
    answerWith(() => HttpResponse.json({ code: 'SIGN_ERROR', message: '签名错误' }, { status: 401 }))
    const refused = await failure(query(), 'provider_error')
    expect(refused.httpStatus).toBe(401)
    expect(refused.message).toContain('SIGN_ERROR')

    answerWith(() => new HttpResponse('<html>bad gateway</html>', { status: 502 }))
    expect((await failure(query(), 'http_error')).httpStatus).toBe(502)
  })

  it('does not follow a redirect with the signed request', async () => {
    answerWith(() => new HttpResponse(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }))
    expect((await failure(query(), 'http_error')).httpStatus).toBe(302)
  })

  it('reports a network failure', async () => {
    answerWith(() => HttpResponse.error())
    await failure(query(), 'network')
  })

  it('gives up on an answer that does not come within the timeout', async () => {
    network.use(
      http.get(`${API}/v3/pay/transactions/out-trade-no/:outTradeNo`, async () => {
        await delay(500)
        return signedAnswer(JSON.stringify(transaction()))
      }),
    )
    const late = await failure(wechatpayV3Query.queryOrder(merchant(), OUT_TRADE_NO, { now: NOW, timeoutMs: 20 }), 'network')
    expect(late.message).toBe('no answer within 20 ms')
  })

  it('uses the fetch it is given', async () => {
    const urls: string[] = []
    const result = await wechatpayV3Query.queryOrder(merchant(), OUT_TRADE_NO, {
      now: NOW,
      fetch: async (input) => {
        urls.push(String(input))
        return signedAnswer(JSON.stringify(transaction()))
      },
    })
    expect(result.kind).toBe('paid')
    expect(urls).toEqual([`${API}${QUERY_PATH}?mchid=${keys.wechatpay.mchid}`])
  })
})

describe('WeChat Pay v3 order query: forged answers', () => {
  const body = JSON.stringify(transaction())

  it('refuses a 2xx answer without signature headers', async () => {
    answerWith(() => HttpResponse.json(transaction()))
    await failure(query(), 'unsigned_response')
  })

  it('refuses an answer signed with another key under the platform serial', async () => {
    answerWith(() => signedAnswer(body, { signer: { ...PLATFORM, privateKeyPem: keys.stranger.privateKeyPem } }))
    // A known serial: no key download would help.
    expect(isUnknownSerial(await failure(query(), 'signature_invalid'))).toBe(false)
  })

  it('refuses an answer with one byte changed after signing', async () => {
    answerWith(() => {
      const genuine = signedAnswer(body)
      return new HttpResponse(body.replace('"total":100', '"total":900'), { status: 200, headers: genuine.headers })
    })
    await failure(query(), 'signature_invalid')
  })

  it('refuses a WECHATPAY/SIGNTEST/ probe signature', async () => {
    answerWith(() => signedAnswer(body, { signature: 'WECHATPAY/SIGNTEST/3KohWth+pyegTiSlh3R2rCGvhwIUhk5RXoYbUq4r1vB' }))
    const probe = await failure(query(), 'signature_invalid')
    expect(probe.message).not.toContain('3KohWth')
  })

  it('refuses an answer signed under a serial the merchant does not have, as one a key download may help', async () => {
    answerWith(() =>
      signedAnswer(body, {
        signer: { privateKeyPem: keys.wechatpay.platformCertB.privateKeyPem, serial: keys.wechatpay.platformCertB.serial },
      }),
    )
    const refused = await failure(query(), 'signature_invalid')
    expect({ rejection: refused.rejection, unknownSerial: isUnknownSerial(refused) }).toEqual({
      rejection: 'unknown_serial',
      unknownSerial: true,
    })
  })

  it('refuses an answer whose timestamp is more than 300 s from now', async () => {
    answerWith(() => signedAnswer(body, { timestamp: String(NOW / 1000 - 301) }))
    await failure(query(), 'signature_invalid')
  })

  it('refuses a genuine answer about another merchant or another order', async () => {
    answerWith(() => signedAnswer(JSON.stringify(transaction({ mchid: '1900000999' }))))
    await failure(query(), 'malformed_response')
    answerWith(() => signedAnswer(JSON.stringify(transaction({ out_trade_no: 'T-other' }))))
    await failure(query(), 'malformed_response')
  })

  it('refuses a signed answer that is not a Transaction', async () => {
    answerWith(() => signedAnswer('not json'))
    await failure(query(), 'malformed_response')
    answerWith(() => signedAnswer(JSON.stringify(transaction({ trade_state: 'SOMETHING_NEW' }))))
    await failure(query(), 'malformed_response')
  })
})

describe('WeChat Pay v3 order query: configuration', () => {
  it('needs the merchant API private key and serial, and says so without sending anything', async () => {
    const config = merchant({ wechatpay: { merchantPrivateKey: undefined, merchantSerial: undefined } })
    expect(wechatpayV3Query.isConfigured(config)).toBe(false)
    expect(wechatpayV3Query.isConfigured(merchant())).toBe(true)
    await failure(query(config), 'not_configured')
  })

  it('refuses order numbers that cannot be queried', async () => {
    await expect(query(merchant(), '')).rejects.toThrow(RangeError)
    await expect(query(merchant(), '..')).rejects.toThrow(RangeError)
    await expect(query(merchant(), 'T 1')).rejects.toThrow(RangeError)
  })
})
