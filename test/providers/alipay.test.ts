import { describe, expect, it } from 'vitest'
import fixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { NotifyRejection } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import { alipayNotify as alipay } from '../../src/providers/alipay/notify'
import { redactAlipay } from '../../src/providers/alipay/redaction'
import { alipaySignContent, isBlank } from '../../src/providers/alipay/sign-content'
import { parseFormBytes } from '../../src/providers/core/form'
import { alipayForm, alipayPaymentParams, signAlipay } from '../security/signing'
import { rawNotification, runChannelContract, type RejectCase } from './contract'

type CaseName = keyof typeof fixtures.cases

const NOW = Date.parse('2026-11-22T10:00:00Z')
const FORM_HEADERS = {
  // What Alipay really sends: a malformed Content-Type the adapter must not rely on.
  'content-type': 'application/x-www-form-urlencoded; text/html; charset=UTF-8',
}

function notify(name: CaseName) {
  const fixture: { body?: string; bodyBase64?: string } = fixtures.cases[name]
  const body = fixture.body ?? Uint8Array.from(atob(fixture.bodyBase64!), (c) => c.charCodeAt(0))
  return rawNotification(body, FORM_HEADERS, NOW)
}

const merchant: MerchantConfig = {
  id: 'acme',
  forward: { url: 'https://merchant.example/hooks/payments', secret: 'whsec_dGVzdC1mb3J3YXJkLXNlY3JldA==' },
  alipay: {
    appId: keys.alipay.appId,
    sellerId: keys.alipay.sellerId,
    alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
    signType: 'RSA2',
  },
}
// Alipay hands out its public key as bare base64 SPKI, without PEM armour.
const bareKeyMerchant: MerchantConfig = {
  ...merchant,
  alipay: { ...merchant.alipay!, alipayPublicKey: keys.alipay.alipayKey.publicKeyPem.replace(/-----[^-]+-----|\s/g, '') },
}
const rsaMerchant: MerchantConfig = { ...merchant, alipay: { ...merchant.alipay!, signType: 'RSA' } }
const withAlipay = (change: Partial<NonNullable<MerchantConfig['alipay']>>): MerchantConfig => ({
  ...merchant,
  alipay: { ...merchant.alipay!, ...change },
})
/** One seller, two apps. */
const twoApps = withAlipay({ appId: [keys.alipay.appId, fixtures.secondAppId] })
/** A third-party (ISV) app acting for the merchant app that authorized it. */
const isvMerchant = withAlipay({ authAppId: fixtures.isv.authAppId, appAuthToken: '202611BB0000000000000000000000000000' })
/** Certificate mode: Alipay's key comes from its public-key certificate. */
const { alipayPublicKey: _publicKey, ...publicKeyless } = merchant.alipay!
const certModeMerchant: MerchantConfig = {
  ...merchant,
  alipay: {
    ...publicKeyless,
    appId: fixtures.certMode.appId,
    sellerId: fixtures.certMode.sellerId,
    alipayPublicCert: keys.alipay.certMode.alipayCert.certificatePem,
  },
}
const wechatOnlyMerchant: MerchantConfig = { id: 'acme', forward: merchant.forward }

const TRADE_NO = '2026112222001400000000000001'
const PAID_8888 = {
  kind: 'payment',
  amount: 8888,
  currency: 'CNY',
  transactionId: TRADE_NO,
  paidAt: '2026-11-22T09:59:58Z',
} as const

const reject = (name: CaseName, code: RejectCase['code'], extra: Partial<RejectCase> = {}): RejectCase => ({
  name: `${fixtures.cases[name].description} (${name})`,
  raw: notify(name),
  code,
  ...extra,
})

runChannelContract({
  adapter: alipay,
  merchant,
  now: NOW,
  valid: [
    {
      name: 'TRADE_SUCCESS in utf-8, PEM public key',
      raw: notify('tradeSuccessUtf8'),
      expected: {
        notificationId: '2026112200222175958000000000000001',
        outTradeNo: 'T20261122-0001',
        effect: PAID_8888,
        raw: { subject: '测试商品', total_amount: '88.88', sign_type: 'RSA2', trade_status: 'TRADE_SUCCESS' },
      },
    },
    {
      name: 'TRADE_SUCCESS in GBK, verified over GBK bytes, bare base64 public key',
      raw: notify('tradeSuccessGbk'),
      merchant: bareKeyMerchant,
      expected: {
        notificationId: '2026112200222175958000000000000002',
        outTradeNo: 'T20261122-0002',
        effect: { ...PAID_8888, transactionId: '2026112222001400000000000002' },
        raw: { charset: 'GBK', subject: '中文商品 A+B', body: '中文 描述&符号=等号' },
      },
    },
    {
      name: 'TRADE_SUCCESS with charset=gb2312',
      raw: notify('tradeSuccessGb2312'),
      expected: {
        outTradeNo: 'T20261122-0012',
        effect: { ...PAID_8888, transactionId: '2026112222001400000000000012' },
        raw: { charset: 'gb2312', subject: '简体中文商品' },
      },
    },
    {
      name: 'TRADE_SUCCESS with charset=gb18030 and a four-byte character',
      raw: notify('tradeSuccessGb18030'),
      expected: {
        outTradeNo: 'T20261122-0013',
        effect: { ...PAID_8888, transactionId: '2026112222001400000000000013' },
        raw: { charset: 'gb18030', subject: '商品𠀀号' },
      },
    },
    {
      name: "a sign containing '+' sent as %2B, and a '+' in the subject",
      raw: notify('signWithPlus'),
      expected: { outTradeNo: 'T20261122-0003', effect: PAID_8888, raw: { subject: 'A+B 套餐' } },
    },
    {
      name: 'passback_params that was percent-encoded by the merchant is decoded exactly once',
      raw: notify('passbackParams'),
      expected: {
        outTradeNo: 'T20261122-0004',
        effect: PAID_8888,
        raw: { passback_params: 'merchantBizType%3d3C%26merchantBizNo%3d2016010101111' },
      },
    },
    {
      name: 'empty-valued fields are left out of the sign content but kept in raw',
      raw: notify('emptyField'),
      expected: { outTradeNo: 'T20261122-0005', effect: PAID_8888, raw: { voucher_detail_list: '', body: '' } },
    },
    {
      name: 'TRADE_FINISHED reports the same payment, not a second one',
      raw: notify('tradeFinished'),
      expected: {
        notificationId: '2027022200222180000000000000000006',
        outTradeNo: 'T20261122-0001',
        effect: PAID_8888,
        raw: { trade_status: 'TRADE_FINISHED' },
      },
    },
    {
      name: 'partial refund: TRADE_SUCCESS with a cumulative refund_fee',
      raw: notify('partialRefund'),
      expected: {
        outTradeNo: 'T20261122-0001',
        effect: {
          kind: 'refund',
          outcome: 'succeeded',
          outRefundNo: 'R20261123-0001',
          refundId: null,
          transactionId: TRADE_NO,
          amount: null,
          cumulativeRefunded: 3000,
          orderAmount: 8888,
          currency: 'CNY',
          refundedAt: '2026-11-23T02:00:00.123Z',
          // total_amount with gmt_payment: the trade's payment, proven by the refund.
          payment: { amount: 8888, currency: 'CNY', transactionId: TRADE_NO, paidAt: '2026-11-22T09:59:58Z' },
        },
      },
    },
    {
      name: 'full refund: TRADE_CLOSED with refund_fee',
      raw: notify('fullRefund'),
      expected: {
        outTradeNo: 'T20261122-0001',
        effect: {
          kind: 'refund',
          outcome: 'succeeded',
          outRefundNo: 'R20261124-0002',
          refundId: null,
          transactionId: TRADE_NO,
          amount: null,
          cumulativeRefunded: 8888,
          orderAmount: 8888,
          currency: 'CNY',
          refundedAt: '2026-11-24T01:30:00Z',
          payment: { amount: 8888, currency: 'CNY', transactionId: TRADE_NO, paidAt: '2026-11-22T09:59:58Z' },
        },
      },
    },
    {
      name: 'TRADE_CLOSED without refund_fee closes the unpaid trade',
      raw: notify('tradeClosedUnpaid'),
      expected: {
        outTradeNo: 'T20261122-0009',
        effect: { kind: 'close', transactionId: '2026112222001400000000000009', closedAt: '2026-11-22T10:29:40Z', amount: 8888 },
      },
    },
    {
      name: 'TRADE_CLOSED with refund_fee=0.00 closes the unpaid trade: nothing was refunded',
      raw: notify('tradeClosedUnpaidZeroRefund'),
      expected: {
        outTradeNo: 'T20261122-0023',
        effect: { kind: 'close', transactionId: '2026112222001400000000000023', closedAt: '2026-11-22T10:29:40Z', amount: 8888 },
      },
    },
    {
      name: 'TRADE_SUCCESS with refund_fee=0.00 is the payment, not a refund',
      raw: notify('tradeSuccessZeroRefund'),
      expected: { outTradeNo: 'T20261122-0024', effect: { ...PAID_8888, transactionId: '2026112222001400000000000024' } },
    },
    {
      name: 'WAIT_BUYER_PAY is authentic and changes nothing',
      raw: notify('waitBuyerPay'),
      expected: { outTradeNo: 'T20261122-0010', effect: { kind: 'none', reason: expect.any(String) } },
    },
    {
      name: 'the second app of a merchant that lists two',
      raw: notify('secondApp'),
      merchant: twoApps,
      expected: { outTradeNo: 'T20261122-0020', effect: { ...PAID_8888 }, raw: { app_id: fixtures.secondAppId } },
    },
    {
      name: 'any seller when the merchant names none',
      raw: notify('wrongSellerId'),
      merchant: withAlipay({ sellerId: undefined }),
      expected: { outTradeNo: 'T20261122-0001', effect: PAID_8888, raw: { seller_id: '2088000000000999' } },
    },
    {
      name: 'a third-party (ISV) notify for the authorizing app the merchant lists',
      raw: notify('isvPayment'),
      merchant: isvMerchant,
      expected: { outTradeNo: 'T20261122-0021', effect: PAID_8888, raw: { auth_app_id: fixtures.isv.authAppId } },
    },
    {
      name: "certificate mode: verified with the key of Alipay's public-key certificate",
      raw: notify('certModePayment'),
      merchant: certModeMerchant,
      expected: { outTradeNo: 'T20261122-0030', effect: PAID_8888 },
    },
    {
      name: 'RSA (SHA1withRSA) for a merchant configured for RSA',
      raw: notify('rsaSha1'),
      merchant: rsaMerchant,
      expected: { outTradeNo: 'T20261122-0011', effect: PAID_8888, raw: { sign_type: 'RSA' } },
    },
    {
      name: 'a JPY trade (no minor unit): total_amount 1000.00 is 1000 yen',
      raw: notify('crossBorderPaymentJpy'),
      expected: {
        outTradeNo: 'T20261122-0050',
        effect: { ...PAID_8888, amount: 1000, currency: 'JPY', transactionId: '2026112222001400000000000050' },
        raw: { total_amount: '1000.00', trans_currency: 'JPY' },
      },
    },
    {
      name: 'a refund of a JPY trade: refund_fee 300.00 and total_amount 1000.00 are 300 and 1000 yen',
      raw: notify('crossBorderRefundJpy'),
      expected: {
        outTradeNo: 'T20261122-0052',
        effect: {
          kind: 'refund',
          outcome: 'succeeded',
          outRefundNo: 'R20261122-0052-1',
          refundId: null,
          transactionId: '2026112222001400000000000052',
          amount: null,
          cumulativeRefunded: 300,
          orderAmount: 1000,
          currency: 'JPY',
          refundedAt: '2026-11-22T10:10:00Z',
          payment: { amount: 1000, currency: 'JPY', transactionId: '2026112222001400000000000052', paidAt: '2026-11-22T09:59:58Z' },
        },
      },
    },
  ],
  common: {
    'tampered body': reject('tamperedAmount', 'signature_invalid'),
    'wrong key': reject('strangerKey', 'signature_invalid'),
    'missing signature': [reject('signMissing', 'missing_signature'), reject('signEmpty', 'missing_signature')],
    'algorithm mismatch': [
      reject('rsaForRsa2Merchant', 'sign_type_not_allowed'),
      reject('rsa2RelabeledRsa', 'sign_type_not_allowed'),
      reject('signTypeMissing', 'sign_type_not_allowed'),
    ],
    'wrong merchant identity': [
      reject('wrongAppId', 'merchant_mismatch'),
      reject('wrongSellerId', 'merchant_mismatch'),
      reject('secondApp', 'merchant_mismatch', { name: 'an app the merchant does not list' }),
      reject('isvOtherAuthApp', 'merchant_mismatch', {
        name: 'wrong auth_app_id: an ISV notify for another authorizing app',
        merchant: isvMerchant,
      }),
      reject('isvPayment', 'merchant_mismatch', { name: 'an ISV notify (auth_app_id ≠ app_id) to a merchant that is no ISV' }),
      reject('nonTradeOtherAuthApp', 'merchant_mismatch', {
        name: 'a non-trade notify on another app’s authority (auth_app_id ≠ app_id) to a merchant that is no ISV',
      }),
      reject('nonTradeOtherAuthApp', 'merchant_mismatch', {
        name: 'a non-trade notify for an authorizing app the ISV merchant does not list',
        merchant: isvMerchant,
      }),
      reject('tradeSuccessUtf8', 'merchant_mismatch', {
        name: 'an ISV merchant refuses its own app’s direct notify',
        merchant: isvMerchant,
      }),
    ],
    'malformed body': [
      reject('malformedPercent', 'malformed_body'),
      reject('duplicateKey', 'malformed_body'),
      reject('gbkLabelledUtf8', 'malformed_body'),
      reject('unknownCharset', 'malformed_body'),
      reject('badAmount', 'malformed_body'),
    ],
  },
  extra: [
    reject('certModeOtherCert', 'signature_invalid', { merchant: certModeMerchant }),
    reject('tradeSuccessUtf8', 'signature_invalid', {
      name: 'certificate mode: a notify signed with the public key of public-key mode',
      merchant: certModeMerchant,
    }),
    reject('rsa2RelabeledRsa', 'signature_invalid', {
      name: 'an RSA2 signature relabelled RSA, sent to a merchant that does use RSA',
      merchant: rsaMerchant,
    }),
    reject('rsa2SignedV2ForTrade', 'signature_invalid'),
    reject('unescapedPlusInSign', 'signature_invalid'),
    reject('unknownTradeStatus', 'unsupported_event'),
    reject('refundExceedsTotal', 'malformed_body'),
    reject('missingNotifyId', 'malformed_body'),
    reject('crossBorderPaymentJpyFraction', 'malformed_body'),
    reject('tradeSuccessUtf8', 'channel_not_configured', {
      name: 'a merchant without an alipay configuration',
      merchant: wechatOnlyMerchant,
    }),
    reject('tradeSuccessUtf8', 'signature_invalid', {
      name: "a merchant whose configured key is not Alipay's",
      merchant: { ...merchant, alipay: { ...merchant.alipay!, alipayPublicKey: keys.stranger.publicKeyPem } },
    }),
    { name: 'an empty body', raw: rawNotification('', FORM_HEADERS, NOW), code: 'malformed_body' },
    {
      name: 'a field name that is not ASCII',
      raw: rawNotification('%E4%B8%AD=1&sign=x', FORM_HEADERS, NOW),
      code: 'malformed_body',
    },
  ],
  async assertAcceptReply(response) {
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain')
    expect(await response.text()).toBe('success')
  },
  async assertRejectReply(response) {
    expect(await response.text()).toBe('failure')
  },
})

describe('alipay adapter details', () => {
  it('verifies trade notifies over the content without sign_type (V1)', async () => {
    const verified = await alipay.verify(alipay.parse(notify('tradeSuccessUtf8')), merchant.alipay, NOW)
    expect(verified.signContent).toBe('v1')
  })

  it('verifies a non-trade notify over the content that keeps sign_type (V2), then forwards it as a provider notification', async () => {
    const verified = await alipay.verify(alipay.parse(notify('nonTradeV2')), merchant.alipay, NOW)
    expect(verified.signContent).toBe('v2')
    const notification = await alipay.normalize(verified, merchant.alipay)
    expect(notification).toMatchObject({
      notificationId: '2026112200222175958000000000000012',
      outTradeNo: '',
      effect: {
        kind: 'other',
        notificationType: 'servicemarket_order_notify',
        subjectId: '2026112200000018079639',
        occurredAt: '2026-11-22T09:59:59Z',
      },
      raw: { title: '服务市场订单', commodity_order_id: '2026112200000018079639', sign_type: 'RSA2' },
    })
    expect(notification.raw).not.toHaveProperty('sign')
  })

  it('an ISV merchant takes a non-trade notify that names no authorizing app: fields it does not carry are not required', async () => {
    const verified = await alipay.verify(alipay.parse(notify('nonTradeV2')), isvMerchant.alipay, NOW)
    expect((await alipay.normalize(verified, isvMerchant.alipay)).effect).toMatchObject({ kind: 'other' })
  })

  it('a non-trade notify that names no app_id is checked by its auth_app_id alone: the merchant’s own app, not another', async () => {
    const own = await alipay.verify(alipay.parse(notify('nonTradeOwnAuthAppOnly')), merchant.alipay, NOW)
    expect((await alipay.normalize(own, merchant.alipay)).effect).toMatchObject({ kind: 'other' })
    const foreign = await alipay.verify(alipay.parse(notify('nonTradeForeignAuthAppOnly')), merchant.alipay, NOW)
    await expect(alipay.normalize(foreign, merchant.alipay)).rejects.toMatchObject({ code: 'merchant_mismatch' })
  })

  it('forwards every decoded field but the signature', async () => {
    const wire = alipay.parse(notify('tradeSuccessUtf8'))
    const notification = await alipay.normalize(await alipay.verify(wire, merchant.alipay, NOW), merchant.alipay)
    expect(Object.keys(notification.raw).sort()).toEqual([...wire.fields.keys()].filter((k) => k !== 'sign').sort())
    expect(JSON.stringify(notification.raw)).not.toContain(fixtureSign('tradeSuccessUtf8'))
  })

  it('builds the sign content from the GBK bytes as received, not from re-encoded text', () => {
    const wire = alipay.parse(notify('tradeSuccessGbk'))
    expect(wire.charset).toBe('gbk')
    const content = alipaySignContent(wire.fields, 'v1')
    const gbkSubject = [0xd6, 0xd0, 0xce, 0xc4, 0xc9, 0xcc, 0xc6, 0xb7] // 中文商品 in GBK
    expect(indexOfBytes(content, gbkSubject)).toBeGreaterThan(-1)
    const text = new TextDecoder('gbk').decode(content)
    expect(text).toContain('&subject=中文商品 A+B&')
    expect(text).not.toMatch(/(^|&)(sign|sign_type)=/)
  })

  it('skips empty values in the sign content and keeps sign_type only in V2', () => {
    const fields = parseFormBytes(new TextEncoder().encode('b=2&a=1&empty=&sign_type=RSA2&sign=abc'))
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
    expect(text(alipaySignContent(fields, 'v1'))).toBe('a=1&b=2')
    expect(text(alipaySignContent(fields, 'v2'))).toBe('a=1&b=2&sign_type=RSA2')
  })

  it('takes an added field of only whitespace for unsent: it is not signed, so it names no refund and is not forwarded', async () => {
    const genuine = fixtures.cases.refundWithoutOutBizNo.body
    const tampered = rawNotification(`${genuine}&out_biz_no=%20%20&refund_reason=%E3%80%80`, FORM_HEADERS, NOW)
    const notification = await alipay.normalize(await alipay.verify(alipay.parse(tampered), merchant.alipay, NOW), merchant.alipay)
    const original = await alipay.normalize(
      await alipay.verify(alipay.parse(notify('refundWithoutOutBizNo')), merchant.alipay, NOW),
      merchant.alipay,
    )
    expect(notification.effect).toEqual(original.effect)
    expect(notification.raw).toEqual(original.raw)
    expect(notification.raw).not.toHaveProperty('out_biz_no')
  })

  it('tells blank from text at the first byte without missing any whitespace Java knows, in UTF-8 and the GB charsets', () => {
    // Every character Java's Character.isWhitespace accepts beyond ASCII: Zs, Zl, Zp but the no-break spaces.
    const javaWhitespace = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code)).filter(
      (c) => c.charCodeAt(0) >= 0x80 && /[\p{Zs}\p{Zl}\p{Zp}]/u.test(c) && !'\u00a0\u2007\u202f'.includes(c),
    )
    expect(javaWhitespace).toHaveLength(15)
    for (const c of javaWhitespace) expect(isBlank(new TextEncoder().encode(c), 'utf-8'), c.charCodeAt(0).toString(16)).toBe(true)
    expect(isBlank(Uint8Array.of(0xa1, 0xa1), 'gbk')).toBe(true)
    // Every two-byte GB sequence, and every four-byte one of the BMP (leads 81–84), judged as its decoded text is.
    const gb = new TextDecoder('gb18030')
    const blank = (text: string) => text.length > 0 && [...text].every((c) => javaWhitespace.includes(c))
    let whitespaceSequences = 0
    const check = (bytes: Uint8Array) => {
      const expected = blank(gb.decode(bytes))
      if (expected) whitespaceSequences += 1
      expect(isBlank(bytes, 'gb18030'), Array.from(bytes, (b) => b.toString(16)).join(' ')).toBe(expected)
    }
    for (let lead = 0x81; lead <= 0xfe; lead++) for (let trail = 0x40; trail <= 0xfe; trail++) check(Uint8Array.of(lead, trail))
    for (let b1 = 0x81; b1 <= 0x84; b1++)
      for (let b2 = 0x30; b2 <= 0x39; b2++)
        for (let b3 = 0x81; b3 <= 0xfe; b3++) for (let b4 = 0x30; b4 <= 0x39; b4++) check(Uint8Array.of(b1, b2, b3, b4))
    // U+3000 twice (A1 A1, and A3 A0 as WHATWG decodes it) and the fourteen others in four bytes.
    expect(whitespaceSequences).toBe(16)
    expect(isBlank(new TextEncoder().encode('中文商品'), 'utf-8')).toBe(false)
  })

  it('skips values of only whitespace as the Java SDK does (StringUtils.isEmpty), and keeps no-break spaces and padded text', () => {
    const form = 'a=1&blank=%20&tabs=%09%0D%0A&ideographic=%E3%80%80&nbsp=%C2%A0&padded=%20x%20&b=2'
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
    expect(text(alipaySignContent(parseFormBytes(new TextEncoder().encode(form)), 'v1'))).toBe('a=1&b=2&nbsp=\u00a0&padded= x ')
    // GBK: the ideographic space is A1 A1.
    const gbk = parseFormBytes(new TextEncoder().encode('a=1&ideographic=%A1%A1&b=2'))
    expect(text(alipaySignContent(gbk, 'v1', 'gbk'))).toBe('a=1&b=2')
  })

  it('rejects a failure with the rejection status and the body failure', async () => {
    const reply = alipay.reject(new NotifyRejection('signature_invalid', 'x'))
    expect(reply.status).toBe(401)
    expect(await reply.text()).toBe('failure')
  })
})

describe('Alipay bodies kept once rejected', () => {
  const params = alipayPaymentParams({ outTradeNo: 'KEPT-SIGN', amount: 100 })
  const sign = signAlipay(params)
  const encoded = encodeURIComponent(sign)
  const kept = (body: string) => redactAlipay(rawNotification(body, FORM_HEADERS)).body

  // The parser percent-decodes names: each of these is the field `sign` to it, not only the bare name.
  it.each(['sign', 'si%67n', '%73%69%67%6E', '%73ign'])('cuts short the value of a sign named %s', (name) => {
    const body = alipayForm({ ...params, sign }).replace('sign=', `${name}=`)
    expect(new TextDecoder().decode(parseFormBytes(new TextEncoder().encode(body)).get('sign'))).toBe(sign)
    const redacted = kept(body)
    expect(redacted).not.toContain(encoded)
    expect(redacted).toContain(`&${name}=${encoded.slice(0, 8)}…`)
    expect(redacted).toContain('out_trade_no=KEPT-SIGN')
  })

  it('cuts short a whole copy of the sign in another field, as sent, decoded or encoded', () => {
    const loosely = encoded.replace(/%2F/g, '/')
    const cut = `${sign.slice(0, 8)}…`
    for (const [copy, shown] of [
      [encoded, cut],
      [loosely, cut],
      [`note%20${encoded}%20end`, `note ${cut} end`],
    ]) {
      const redacted = kept(`${alipayForm({ ...params, sign })}&body=${copy}`)
      const fields = parseFormBytes(new TextEncoder().encode(redacted))
      expect(redacted, copy).not.toContain(encoded)
      expect(redacted, copy).not.toContain(loosely)
      expect(new TextDecoder().decode(fields.get('body')), copy).toBe(shown)
      expect(new TextDecoder().decode(fields.get('out_trade_no'))).toBe('KEPT-SIGN')
    }
  })

  it('keeps other fields, sign_type and a malformed name as sent', () => {
    const body = 'sign_type=RSA2&%73ig%zz=abcdefghijkl&a=1'
    expect(kept(body)).toBe(body)
  })
})

describe('form body parsing', () => {
  const parse = (body: string) => {
    const fields = parseFormBytes(new TextEncoder().encode(body))
    return Object.fromEntries([...fields].map(([k, v]) => [k, Array.from(v)]))
  }
  const bytes = (text: string) => Array.from(new TextEncoder().encode(text))

  it("decodes '+' as a space and %2B as a plus, once", () => {
    expect(parse('a=x+y%2Bz&b=%253d')).toEqual({ a: bytes('x y+z'), b: bytes('%3d') })
  })

  it('decodes percent escapes to raw bytes, in either case of hex digit', () => {
    expect(parse('a=%d6%D0&b=%E4%b8%ad')).toEqual({ a: [0xd6, 0xd0], b: [0xe4, 0xb8, 0xad] })
  })

  it('splits each pair on its first equals sign only', () => {
    expect(parse('a=b=c')).toEqual({ a: bytes('b=c') })
  })

  it('skips empty pairs and gives a name without = an empty value', () => {
    expect(parse('&a=1&&flag&')).toEqual({ a: bytes('1'), flag: [] })
  })

  it.each(['a=%', 'a=%4', 'a=%G1', 'a=%%41', 'a=1&b=%e'])('refuses the malformed escape in %s', (body) => {
    expect(() => parse(body)).toThrow(expect.objectContaining({ code: 'malformed_body' }))
  })

  it('refuses a repeated field name, a missing name and a non-ASCII name', () => {
    for (const body of ['a=1&a=1', '=1', '%FF=1', 'a%20b=1']) {
      expect(() => parse(body), body).toThrow(expect.objectContaining({ code: 'malformed_body' }))
    }
  })
})

function fixtureSign(name: CaseName): string {
  const sign = alipay.parse(notify(name)).fields.get('sign')!
  return new TextDecoder().decode(sign)
}

function indexOfBytes(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
