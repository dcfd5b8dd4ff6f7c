import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromBase64 } from '../../src/crypto/encoding'
import { NotifyRejection, type RejectionCode } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import type { NotificationEffect } from '../../src/providers/core/types'
import { redactV2 } from '../../src/providers/wechatpay/redaction'
import { wechatpayV2 } from '../../src/providers/wechatpay/v2-notify'
import { v2Sign, v2SignAlgorithm, v2SignString, verifyV2Signature } from '../../src/providers/wechatpay/v2-sign'
import { buildXmlReply, readFlatXml } from '../../src/providers/wechatpay/xml'
import fixtures from '../fixtures/wechatpay-v2.json'
import keys from '../fixtures/keys.json'
import { signV2, v2PaymentFields, v2Xml } from '../security/signing'
import { rawNotification, runChannelContract, type RejectCase, type ValidCase } from './contract'

type CaseName = keyof typeof fixtures.cases

const wx = keys.wechatpay
const NOW = fixtures.now

const merchant: MerchantConfig = {
  id: 'acme',
  forward: { url: 'https://merchant.example/hooks/payments', secret: 'whsec_dGVzdC1mb3J3YXJkLXNlY3JldA==' },
  wechatpay: {
    appid: wx.appid,
    mchid: wx.mchid,
    apiV2Key: wx.apiV2Key,
    v2SignTypes: ['MD5', 'HMAC-SHA256'],
    apiV3Key: wx.apiV3Key,
    platformPublicKeys: {},
  },
}
const withWechatpay = (change: Partial<NonNullable<MerchantConfig['wechatpay']>>): MerchantConfig => ({
  ...merchant,
  wechatpay: { ...merchant.wechatpay!, ...change },
})
const hmacOnly = withWechatpay({ v2SignTypes: ['HMAC-SHA256'] })
const md5Only = withWechatpay({ v2SignTypes: ['MD5'] })
const v3Only = withWechatpay({ apiV2Key: undefined, v2SignTypes: [] })
const alipayOnly: MerchantConfig = { id: 'acme', forward: merchant.forward }
/** Partner mode: sub-merchant A of the fixtures' service provider, with the provider's keys. */
const subMerchantA = withWechatpay({ subMchid: fixtures.partner.subMchid, subAppid: fixtures.partner.subAppid })
const twoApps = withWechatpay({ appid: [wx.appid, fixtures.secondAppid] })

function notify(name: CaseName) {
  const fixture: { body?: string; bodyBase64?: string } = fixtures.cases[name]
  const body = fixture.bodyBase64 !== undefined ? fromBase64(fixture.bodyBase64) : fixture.body!
  return rawNotification(body, { 'content-type': 'text/xml' }, NOW)
}

const PAID_AT = '2025-11-24T15:59:58Z'
const TRANSACTION_ID = '4200002025112400000001'

const paid = (amount: number, transactionId = TRANSACTION_ID): NotificationEffect => ({
  kind: 'payment',
  amount,
  currency: 'CNY',
  transactionId,
  paidAt: PAID_AT,
})

const refunded = (
  outcome: 'succeeded' | 'failed' | 'closed',
  outRefundNo: string,
  refundId: string,
  amount: number,
  refundedAt: string | null,
  provesPayment = true,
): NotificationEffect => ({
  kind: 'refund',
  outcome,
  outRefundNo,
  refundId,
  transactionId: TRANSACTION_ID,
  amount,
  cumulativeRefunded: null,
  orderAmount: 100,
  currency: 'CNY',
  refundedAt,
  // total_fee and the transaction prove the payment (not a sub-merchant's); req_info has no payment time.
  payment: provesPayment ? { amount: 100, currency: 'CNY', transactionId: TRANSACTION_ID, paidAt: null } : null,
  ...(provesPayment ? {} : { recipientUnsigned: true as const }),
})

const valid = (name: CaseName, expected: ValidCase['expected'], merchantConfig?: MerchantConfig): ValidCase => ({
  name: `${name} (${fixtures.cases[name].description})`,
  raw: notify(name),
  expected,
  ...(merchantConfig ? { merchant: merchantConfig } : {}),
})

const rejected = (name: CaseName, code: RejectionCode, merchantConfig?: MerchantConfig, note = ''): RejectCase => ({
  name: `${name} (${fixtures.cases[name].description})${note}`,
  raw: notify(name),
  code,
  ...(merchantConfig ? { merchant: merchantConfig } : {}),
})

runChannelContract({
  adapter: wechatpayV2,
  merchant,
  now: NOW,
  valid: [
    valid('md5WithSignType', { outTradeNo: 'T20251124001', effect: paid(100), raw: { sign_type: 'MD5', total_fee: '100' } }),
    valid('md5WithoutSignType', { outTradeNo: 'T20251124002', effect: paid(100) }),
    valid('hmacWithoutSignType', { outTradeNo: 'T20251124003', effect: paid(100) }),
    valid('hmacWithSignType', { outTradeNo: 'T20251124004', effect: paid(100), raw: { sign_type: 'HMAC-SHA256' } }),
    valid('hmacWithSignType', { outTradeNo: 'T20251124004', effect: paid(100) }, hmacOnly),
    valid('leadingZeroAndBigInts', {
      outTradeNo: '00712345678901234567890',
      effect: paid(1, '4200000000000000000000000001'),
      raw: { out_trade_no: '00712345678901234567890', attach: '18446744073709551617', transaction_id: '4200000000000000000000000001' },
    }),
    valid('emptyField', { outTradeNo: 'T20251124006', effect: paid(100) }),
    valid('coupons', {
      outTradeNo: 'T20251124007',
      effect: paid(1000),
      raw: { cash_fee: '970', coupon_count: '2', coupon_fee_1: '20', coupon_type_1: 'NO_CASH', settlement_total_fee: '980' },
    }),
    valid('wechatLayout', { outTradeNo: 'T20251124008', effect: paid(100), raw: { attach: ' a<b & c>d ' } }),
    valid('pluginCdata', { outTradeNo: 'T20251124009', effect: paid(100), raw: { attach: '{"k":"<&>"}' } }),
    valid('resultFail', {
      outTradeNo: 'T20251124010',
      effect: { kind: 'none', reason: 'result_code=FAIL' },
      raw: { err_code: 'NOTENOUGH', err_code_des: '余额不足' },
    }),
    valid('returnFail', {
      outTradeNo: '',
      effect: { kind: 'none', reason: 'return_code=FAIL' },
      raw: { return_code: 'FAIL', return_msg: '签名失败' },
    }),
    valid('returnFailWithIdentity', { outTradeNo: '', effect: { kind: 'none', reason: 'return_code=FAIL' } }),
    valid('refundSuccess', {
      outTradeNo: 'T20251124001',
      effect: refunded('succeeded', 'R20251124001', '50300002025112400000001', 40, '2025-11-24T15:50:00Z'),
      raw: { appid: wx.appid, mch_id: wx.mchid, refund_status: 'SUCCESS', refund_recv_accout: '支付用户零钱' },
    }),
    valid('refundChange', { outTradeNo: 'T20251124001', effect: refunded('failed', 'R20251124002', '50300002025112400000002', 40, null) }),
    valid('refundClosed', { outTradeNo: 'T20251124001', effect: refunded('closed', 'R20251124003', '50300002025112400000003', 40, null) }),
    valid(
      'partnerPayment',
      {
        outTradeNo: 'T20251124001',
        effect: paid(100),
        raw: { sub_mch_id: fixtures.partner.subMchid, sub_appid: fixtures.partner.subAppid },
      },
      subMerchantA,
    ),
    valid(
      'partnerRefund',
      {
        outTradeNo: 'T20251124001',
        // A sub-merchant's refund proves no payment: its envelope, which names the sub-merchant, is unsigned.
        effect: refunded('succeeded', 'R20251124020', '50300002025112400000020', 10, '2025-11-24T15:50:00Z', false),
        raw: { mch_id: wx.mchid, sub_mch_id: fixtures.partner.subMchid, sub_appid: fixtures.partner.subAppid },
      },
      subMerchantA,
    ),
    valid('secondAppidPayment', { outTradeNo: 'T20251124050', effect: paid(100) }, twoApps),
    valid('refundPluginLayout', {
      outTradeNo: 'T20251124001',
      effect: refunded('succeeded', 'R20251124004', '50300002025112400000004', 30, '2025-11-24T15:51:00Z'),
    }),
  ],
  common: {
    'tampered body': [
      rejected('tamperedAmount', 'signature_invalid'),
      rejected('tamperedOrder', 'signature_invalid'),
      rejected('addedField', 'signature_invalid'),
    ],
    'wrong key': [
      rejected('otherKeyMd5', 'signature_invalid'),
      rejected('otherKeyHmac', 'signature_invalid'),
      rejected('apiV3KeyUsed', 'signature_invalid'),
      rejected('refundOtherKey', 'decrypt_failed'),
    ],
    'missing signature': [rejected('signRemoved', 'missing_signature'), rejected('signEmpty', 'missing_signature')],
    'algorithm mismatch': [
      rejected('md5WithSignType', 'sign_type_not_allowed', hmacOnly, ' for an HMAC-only merchant'),
      rejected('md5WithoutSignType', 'sign_type_not_allowed', hmacOnly, ' for an HMAC-only merchant (inferred MD5)'),
      rejected('hmacWithoutSignType', 'sign_type_not_allowed', md5Only, ' for an MD5-only merchant (inferred HMAC)'),
      rejected('signTypeSha1', 'sign_type_not_allowed'),
      rejected('declaredHmacSignedMd5', 'signature_invalid'),
      rejected('signOddLength', 'signature_invalid'),
      rejected('signLowercase', 'signature_invalid'),
    ],
    'wrong merchant identity': [
      rejected('wrongAppid', 'merchant_mismatch'),
      rejected('wrongMchid', 'merchant_mismatch'),
      rejected('missingMchid', 'merchant_mismatch'),
      rejected('refundWrongMchid', 'merchant_mismatch'),
      rejected('returnFailForeign', 'merchant_mismatch'),
      rejected(
        'md5WithSignType',
        'merchant_mismatch',
        withWechatpay({ appid: 'wx1111111111111111' }),
        ' for a merchant with another appid',
      ),
      rejected('partnerPayment', 'merchant_mismatch', merchant, ' (partner → direct)'),
      rejected('partnerRefund', 'merchant_mismatch', merchant, ' (partner → direct)'),
      rejected('md5WithSignType', 'merchant_mismatch', subMerchantA, ' (direct → a sub-merchant)'),
      rejected('refundSuccess', 'merchant_mismatch', subMerchantA, ' (direct → a sub-merchant)'),
      rejected('partnerPaymentSubB', 'merchant_mismatch', subMerchantA, ' (wrong sub_mch_id: B’s payment to A)'),
      rejected('secondAppidPayment', 'merchant_mismatch', merchant, ' (an app the merchant does not list)'),
    ],
    'malformed body': [
      rejected('gbkBody', 'malformed_body'),
      rejected('unclosedTag', 'malformed_body'),
      rejected('repeatedField', 'malformed_body'),
      rejected('nestedField', 'malformed_body'),
      rejected('wrongRoot', 'malformed_body'),
      rejected('undeclaredEntity', 'malformed_body'),
      rejected('notXml', 'malformed_body'),
      rejected('noReturnCode', 'malformed_body'),
      rejected('emptyBody', 'malformed_body'),
      rejected('fractionalTotalFee', 'malformed_body'),
      rejected('badTimeEnd', 'malformed_body'),
      rejected('refundNotBase64', 'malformed_body'),
      rejected('refundWithSign', 'malformed_body'),
      rejected('refundExceedsTotal', 'malformed_body'),
    ],
  },
  extra: [
    rejected('xxeExternalEntity', 'xml_entities'),
    rejected('billionLaughs', 'xml_entities'),
    rejected('lowercaseDoctype', 'xml_entities'),
    rejected('entityWithoutDoctype', 'xml_entities'),
    rejected('unknownResultCode', 'unsupported_event'),
    rejected('refundUnknownStatus', 'unsupported_event'),
    rejected('md5WithSignType', 'channel_not_configured', v3Only, ' for a merchant without an APIv2 key'),
    rejected('refundSuccess', 'channel_not_configured', alipayOnly, ' for a merchant without WeChat Pay'),
    rejected('returnFail', 'channel_not_configured', alipayOnly, ' for a merchant without WeChat Pay'),
  ],
  async assertAcceptReply(response) {
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/xml')
    expect(await response.text()).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>')
  },
  async assertRejectReply(response) {
    expect(response.headers.get('content-type')).toBe('text/xml')
    const reply = readFlatXml(await response.text(), 'xml')
    expect(Object.keys(reply)).toEqual(['return_code', 'return_msg'])
    expect(reply.return_code).toBe('FAIL')
    expect(reply.return_msg).toMatch(/\S/)
    expect(reply.return_msg!.length).toBeLessThanOrEqual(128)
  },
})

// The spec-literal sign string of md5WithSignType (protocols.md §1.3 steps 1–2), written out by hand.
const MD5_WITH_SIGN_TYPE_STRING_A = [
  `appid=${wx.appid}`,
  'bank_type=OTHERS',
  'cash_fee=100',
  'fee_type=CNY',
  'is_subscribe=N',
  `mch_id=${wx.mchid}`,
  'nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM0001',
  'openid=oPaygateTestOpenid0000000001',
  'out_trade_no=T20251124001',
  'result_code=SUCCESS',
  'return_code=SUCCESS',
  'sign_type=MD5',
  'time_end=20251124235958',
  'total_fee=100',
  'trade_type=JSAPI',
  `transaction_id=${TRANSACTION_ID}`,
].join('&')

async function normalized(name: CaseName, merchantConfig = merchant) {
  return verifyNotification(wechatpayV2, notify(name), merchantConfig, NOW)
}

async function rejectionCode(run: () => Promise<unknown>): Promise<RejectionCode> {
  try {
    await run()
  } catch (error) {
    if (error instanceof NotifyRejection) return error.code
    throw error
  }
  throw new Error('expected a rejection')
}

describe('WeChat Pay v2 notification identity and forwarded fields', () => {
  it('derives the dedupe key from the signed fields without the key suffix', async () => {
    const notification = await normalized('md5WithSignType')
    const digest = createHash('sha256').update(MD5_WITH_SIGN_TYPE_STRING_A, 'utf8').digest('hex')
    expect(notification.notificationId).toBe(`v2:${digest}`)
  })

  it('gives a re-sent notify the same dedupe key and different notifies different ones', async () => {
    const names: CaseName[] = [
      'md5WithSignType',
      'md5WithoutSignType',
      'hmacWithSignType',
      'resultFail',
      'returnFail',
      'refundSuccess',
      'refundChange',
    ]
    const ids = await Promise.all(names.map(async (name) => (await normalized(name)).notificationId))
    expect(new Set(ids).size).toBe(names.length)
    expect((await normalized('refundSuccess')).notificationId).toBe(ids[5])
  })

  it('keys a refund notify by its decrypted content, not by the envelope nonce', async () => {
    const first = await normalized('refundSuccess')
    const body = fixtures.cases.refundSuccess.body.replace(
      /<nonce_str><!\[CDATA\[[^\]]*\]\]><\/nonce_str>/,
      '<nonce_str><![CDATA[other]]></nonce_str>',
    )
    const resent = await verifyNotification(wechatpayV2, rawNotification(body, {}, NOW), merchant, NOW)
    expect(resent.notificationId).toBe(first.notificationId)
  })

  it('forwards exactly the signed fields of a payment: no sign, no empty fields', async () => {
    const notification = await normalized('emptyField')
    const signedFieldNames = MD5_WITH_SIGN_TYPE_STRING_A.split('&').map((pair) => pair.split('=')[0])
    expect(Object.keys(notification.raw).sort()).toEqual(signedFieldNames)
  })

  it('forwards the decrypted refund with the envelope ids, never req_info, sign or a key', async () => {
    const notification = await normalized('refundSuccess')
    expect(notification.raw).toEqual({
      appid: wx.appid,
      mch_id: wx.mchid,
      out_refund_no: 'R20251124001',
      out_trade_no: 'T20251124001',
      refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
      refund_fee: '40',
      refund_id: '50300002025112400000001',
      refund_recv_accout: '支付用户零钱',
      refund_request_source: 'API',
      refund_status: 'SUCCESS',
      settlement_refund_fee: '40',
      settlement_total_fee: '100',
      success_time: '2025-11-24 23:50:00',
      total_fee: '100',
      transaction_id: TRANSACTION_ID,
    })
  })

  it('reads an empty element in an unsigned envelope as absent, as the sign rules do', async () => {
    // A direct merchant's refund or FAIL with `<sub_mch_id/>` and `<sub_appid></sub_appid>` names no sub-merchant.
    const withEmptyPartnerIds = (body: string) => body.replace('</xml>', '<sub_mch_id/><sub_appid><![CDATA[]]></sub_appid></xml>')
    for (const name of ['refundSuccess', 'returnFailWithIdentity'] as CaseName[]) {
      const plain = await normalized(name)
      const fixture: { body?: string; bodyBase64?: string } = fixtures.cases[name]
      const body = withEmptyPartnerIds(fixture.body!)
      const withEmpty = await verifyNotification(wechatpayV2, rawNotification(body, {}, NOW), merchant, NOW)
      expect(withEmpty.effect).toEqual(plain.effect)
      expect(withEmpty.raw).toEqual(plain.raw)
    }
    // A partner's refund still needs its sub-merchant named: an empty one is refused.
    const emptied = fixtures.cases.partnerRefund.body!.replace(/<sub_mch_id>.*?<\/sub_mch_id>/, '<sub_mch_id/>')
    expect(emptied).not.toBe(fixtures.cases.partnerRefund.body)
    expect(await rejectionCode(() => verifyNotification(wechatpayV2, rawNotification(emptied, {}, NOW), subMerchantA, NOW))).toBe(
      'merchant_mismatch',
    )
  })

  it('never forwards a key or a sign in any accepted notification', async () => {
    for (const name of ['md5WithSignType', 'hmacWithoutSignType', 'refundSuccess', 'returnFailWithIdentity'] as CaseName[]) {
      const text = JSON.stringify((await normalized(name)).raw)
      expect(text).not.toContain(wx.apiV2Key)
      expect(text).not.toContain('"sign"')
      expect(text).not.toContain('req_info')
    }
  })

  it('verifies a payment without sign_type by the length of its sign', async () => {
    const md5 = wechatpayV2.parse(notify('md5WithoutSignType'))
    const hmac = wechatpayV2.parse(notify('hmacWithoutSignType'))
    expect(md5.kind).toBe('payment')
    expect(v2SignAlgorithm(md5.fields)).toBe('MD5')
    expect(v2SignAlgorithm(hmac.fields)).toBe('HMAC-SHA256')
  })

  it('tells an unsigned FAIL message apart before any key is used', () => {
    expect(wechatpayV2.parse(notify('returnFail')).kind).toBe('fail')
    expect(wechatpayV2.parse(notify('refundSuccess')).kind).toBe('refund')
    expect(wechatpayV2.parse(notify('resultFail')).kind).toBe('payment')
  })
})

describe('WeChat Pay v2 bodies kept once rejected', () => {
  const fields = v2PaymentFields({ outTradeNo: 'KEPT-SIGN', amount: 100 })
  const sign = signV2(fields, wx.apiV2Key, 'MD5')
  const body = v2Xml({ ...fields, sign })
  const signElement = `<sign><![CDATA[${sign}]]></sign>`
  const withSign = (element: string) => body.replace(signElement, element)
  const kept = (text: string) => redactV2(rawNotification(text, { 'content-type': 'text/xml' })).body

  it('cuts the sign short and keeps every other field as received', () => {
    expect(kept(body)).toBe(withSign(`<sign><![CDATA[${sign.slice(0, 8)}…]]></sign>`))
  })

  // Each reads as the same sign to the parser; the redaction once matched only `<sign>` then the value.
  it.each([
    ['a comment before the CDATA', `<sign><!-- --><![CDATA[${sign}]]></sign>`],
    ['a space in the tags', `<sign ><![CDATA[${sign}]]></sign >`],
    ['an attribute holding </sign>', `<sign a="</sign>">${sign}</sign>`],
    ['the CDATA in two sections', `<sign><![CDATA[${sign.slice(0, 16)}]]><![CDATA[${sign.slice(16)}]]></sign>`],
    ['pieces of four between comments', `<sign>${sign.match(/.{4}/g)!.join('<!---->')}</sign>`],
    ['a comment holding </sign>', `<sign><!--</sign>-->${sign.slice(0, 16)}<?pi?>${sign.slice(16)}</sign>`],
    ['character references', `<sign>${[...sign].map((c) => `&#${c.charCodeAt(0)};`).join('')}</sign>`],
  ])('keeps no full sign written with %s', (_form, element) => {
    const text = withSign(element)
    expect(readFlatXml(text, 'xml').sign).toBe(sign)
    const redacted = kept(text)
    // Nothing past the prefix shown: a sign's last characters kept in a piece of their own are as bad.
    expect(redacted).not.toContain(sign.slice(-8))
    expect(redacted).toContain(`${sign.slice(0, 8)}…`)
    expect(redacted).toContain('<out_trade_no><![CDATA[KEPT-SIGN]]></out_trade_no>')
  })

  it('cuts a copy of the sign outside its element, and a sign in a body the parser refuses', () => {
    expect(kept(body.replace('</xml>', `<!-- ${sign} --></xml>`))).not.toContain(sign)
    // No </xml>: refused as malformed, so the sign is found by its element alone, closed or not.
    const unclosed = withSign(`<sign><!-- --><![CDATA[${sign}]]></sign>`).replace('</xml>', '')
    expect(() => readFlatXml(unclosed, 'xml')).toThrow(NotifyRejection)
    expect(kept(unclosed)).not.toContain(sign)
    expect(kept(body.replace(`${signElement}`, `<sign><!---->${sign}`).replace('</xml>', ''))).not.toContain(sign)
  })

  it('keeps as received a body with no sign to cut, and reads a hostile one in one pass', () => {
    const unsigned = withSign('<sign/><!-- <sign>not read</sign> -->')
    expect(kept(unsigned)).toBe(unsigned)
    const hostile = `<xml>${'<sign <sign> </sign '.repeat(20_000)}`
    const started = Date.now()
    // Refused by the parser, and no `</sign>`: cut from the first `<sign` to the end, its text shown 8 characters long.
    expect(kept(hostile)).toBe('<xml><sign> </sign …')
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})

describe('WeChat Pay v2 replies', () => {
  it('escapes ]]> in a reject message so the reply stays one CDATA value', async () => {
    const reply = wechatpayV2.reject(new NotifyRejection('malformed_body', 'bad ]]> value'))
    expect(reply.status).toBe(400)
    const text = await reply.text()
    expect(text).toBe(
      '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[bad ]]]]><![CDATA[> value]]></return_msg></xml>',
    )
    expect(readFlatXml(text, 'xml').return_msg).toBe('bad ]]> value')
  })

  it('carries the rejection status: 500 for an undecryptable refund so WeChat retries', async () => {
    const code = await rejectionCode(() => normalized('refundOtherKey'))
    const reply = wechatpayV2.reject(new NotifyRejection(code, 'x'))
    expect(reply.status).toBe(500)
  })
})

// protocols.md §1.3: WeChat's published example (chapter=4_3), asserted by WxJava's SignUtilsTest.
const OFFICIAL = {
  key: '192006250b4c09247ec02edce69f6a2d',
  params: { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' },
  stringA: 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
  md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
  hmac: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
}

describe("WeChat Pay's published APIv2 signing example", () => {
  it('builds the published stringA', () => {
    expect(v2SignString(OFFICIAL.params)).toBe(OFFICIAL.stringA)
  })

  it('computes the published MD5 and HMAC-SHA256 signs', async () => {
    expect(await v2Sign(OFFICIAL.stringA, OFFICIAL.key, 'MD5')).toBe(OFFICIAL.md5)
    expect(await v2Sign(OFFICIAL.stringA, OFFICIAL.key, 'HMAC-SHA256')).toBe(OFFICIAL.hmac)
  })

  it('verifies both published signs, inferring the algorithm from their length', async () => {
    const both = ['MD5', 'HMAC-SHA256'] as const
    expect(await verifyV2Signature({ ...OFFICIAL.params, sign: OFFICIAL.md5 }, OFFICIAL.key, both)).toBe('MD5')
    expect(await verifyV2Signature({ ...OFFICIAL.params, sign: OFFICIAL.hmac }, OFFICIAL.key, both)).toBe('HMAC-SHA256')
  })

  it('refuses the published signs under another key, a flipped digit, or a disallowed algorithm', async () => {
    const both = ['MD5', 'HMAC-SHA256'] as const
    const flipped = `${OFFICIAL.md5.slice(0, -1)}8`
    expect(
      await rejectionCode(() => verifyV2Signature({ ...OFFICIAL.params, sign: OFFICIAL.md5 }, `${OFFICIAL.key.slice(0, -1)}e`, both)),
    ).toBe('signature_invalid')
    expect(await rejectionCode(() => verifyV2Signature({ ...OFFICIAL.params, sign: flipped }, OFFICIAL.key, both))).toBe(
      'signature_invalid',
    )
    expect(await rejectionCode(() => verifyV2Signature({ ...OFFICIAL.params, sign: OFFICIAL.hmac }, OFFICIAL.key, ['MD5']))).toBe(
      'sign_type_not_allowed',
    )
  })
})

/**
 * protocols.md §1.3, literally: (1) every field except `sign`, dropping empty values; (2) sort the keys
 * by ASCII code, ascending; join `key=value` pairs with `&`. Written independently of the adapter.
 */
function specStringA(params: Record<string, string>): string {
  const kept: Array<[string, string]> = []
  for (const key of Object.keys(params)) {
    const value = params[key]!
    if (key === 'sign' || value.length === 0) continue
    kept.push([key, value])
  }
  kept.sort(([a], [b]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i)
    }
    return a.length - b.length
  })
  let stringA = ''
  kept.forEach(([key, value], index) => {
    stringA += `${index === 0 ? '' : '&'}${key}=${value}`
  })
  return stringA
}

const fieldName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/)
const fieldValue = fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 24 }))
const fieldEntries = fc.uniqueArray(fc.tuple(fieldName, fieldValue), { selector: ([name]) => name, maxLength: 12 })
const shuffledEntries = fieldEntries.chain((entries) =>
  fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })),
)

describe('the v2 sign-string builder', () => {
  it('equals the spec-literal construction', () => {
    fc.assert(
      fc.property(fieldEntries, (entries) => {
        const fields = Object.fromEntries(entries)
        expect(v2SignString(fields)).toBe(specStringA(fields))
      }),
    )
  })

  it('does not depend on the order the fields arrived in', () => {
    fc.assert(
      fc.property(shuffledEntries, ([entries, shuffled]) => {
        expect(v2SignString(Object.fromEntries(shuffled))).toBe(v2SignString(Object.fromEntries(entries)))
      }),
    )
  })

  it('leaves out empty values and sign, whatever sign holds', () => {
    fc.assert(
      fc.property(fieldEntries, fieldName, fc.string({ maxLength: 64 }), (entries, emptyName, sign) => {
        const fields = Object.fromEntries(entries.filter(([name]) => name !== 'sign' && name !== emptyName))
        expect(v2SignString({ ...fields, [emptyName]: '', sign })).toBe(v2SignString(fields))
      }),
    )
  })

  it('includes sign_type when present', () => {
    fc.assert(
      fc.property(fieldEntries, fc.constantFrom('MD5', 'HMAC-SHA256'), (entries, signType) => {
        const fields = Object.fromEntries(entries.filter(([name]) => name !== 'sign_type'))
        expect(v2SignString({ ...fields, sign_type: signType }).split('&')).toContain(`sign_type=${signType}`)
      }),
    )
  })

  it("signs like node:crypto's MD5 and HMAC-SHA256 over stringA&key=", async () => {
    await fc.assert(
      fc.asyncProperty(fieldEntries, fc.string({ minLength: 32, maxLength: 32 }), async (entries, key) => {
        const stringSignTemp = `${specStringA(Object.fromEntries(entries))}&key=${key}`
        const signString = v2SignString(Object.fromEntries(entries))
        expect(await v2Sign(signString, key, 'MD5')).toBe(createHash('md5').update(stringSignTemp, 'utf8').digest('hex').toUpperCase())
        expect(await v2Sign(signString, key, 'HMAC-SHA256')).toBe(
          createHmac('sha256', key).update(stringSignTemp, 'utf8').digest('hex').toUpperCase(),
        )
      }),
      { numRuns: 50 },
    )
  })
})

function xmlRejection(text: string, root: 'xml' | 'root' = 'xml'): RejectionCode | 'accepted' {
  try {
    readFlatXml(text, root)
    return 'accepted'
  } catch (error) {
    if (error instanceof NotifyRejection) return error.code
    throw error
  }
}

describe('the flat XML reader', () => {
  it('keeps "007" and long integers as the exact strings sent', () => {
    expect(
      readFlatXml(
        '<xml><out_trade_no>007</out_trade_no><total_fee>0100</total_fee><id>123456789012345678901234567890</id><e>1e3</e></xml>',
        'xml',
      ),
    ).toEqual({
      out_trade_no: '007',
      total_fee: '0100',
      id: '123456789012345678901234567890',
      e: '1e3',
    })
  })

  it('keeps CDATA verbatim, < and & and entity-like text included', () => {
    expect(readFlatXml('<xml><attach><![CDATA[a<b&c>d &amp; &lt;]]></attach></xml>', 'xml')).toEqual({ attach: 'a<b&c>d &amp; &lt;' })
  })

  it('does not trim whitespace inside values', () => {
    expect(readFlatXml('<xml><a> x </a><b><![CDATA[ y\n]]></b><c>\t</c></xml>', 'xml')).toEqual({ a: ' x ', b: ' y\n', c: '\t' })
  })

  it('reads empty and self-closing fields as empty strings', () => {
    expect(readFlatXml('<xml><a></a><b/><c><![CDATA[]]></c></xml>', 'xml')).toEqual({ a: '', b: '', c: '' })
  })

  it('decodes the five predefined entities and character references in text, nothing else', () => {
    expect(readFlatXml('<xml><a>&lt;&gt;&amp;&apos;&quot;&#38;&#x4e2d;</a></xml>', 'xml')).toEqual({ a: `<>&'"&中` })
    expect(xmlRejection('<xml><a>&nbsp;</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>&#0;</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>&#xD800;</a></xml>')).toBe('malformed_body')
  })

  it('ignores whitespace between fields, the XML declaration, comments and attributes', () => {
    const text = '<?xml version="1.0" encoding="UTF-8"?>\n<root>\n  <a>1</a>\n  <!-- note -->\n  <b id="x">2</b>\n</root>\n'
    expect(readFlatXml(text, 'root')).toEqual({ a: '1', b: '2' })
  })

  it('keeps field names exact, JavaScript built-in names included', () => {
    expect(readFlatXml('<xml><toString>1</toString><hasOwnProperty>2</hasOwnProperty></xml>', 'xml')).toEqual({
      toString: '1',
      hasOwnProperty: '2',
    })
    expect(xmlRejection('<xml><__proto__>1</__proto__></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><constructor>1</constructor></xml>')).toBe('malformed_body')
  })

  it('rejects any DOCTYPE or ENTITY declaration before parsing, in any case', () => {
    expect(xmlRejection('<!DOCTYPE xml><xml><a>1</a></xml>')).toBe('xml_entities')
    expect(xmlRejection('<!doctype xml><xml><a>1</a></xml>')).toBe('xml_entities')
    expect(xmlRejection('<xml><a>1</a><!EnTiTy x "y"></xml>')).toBe('xml_entities')
    expect(xmlRejection('<xml><a><![CDATA[<!DOCTYPE]]></a></xml>')).toBe('xml_entities')
    expect(xmlRejection('<!DOCTYPE root [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><a>&x;</a></root>', 'root')).toBe('xml_entities')
  })

  it('rejects repeated fields, nested elements, text beside fields and a wrong or second root', () => {
    expect(xmlRejection('<xml><a>1</a><a>1</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a><b>1</b></a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml>text<a>1</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><![CDATA[x]]><a>1</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<root><a>1</a></root>', 'xml')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>1</a></xml>', 'root')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>1</a></xml><xml><a>2</a></xml>')).toBe('malformed_body')
  })

  it('rejects XML that is not well-formed or holds forbidden characters', () => {
    expect(xmlRejection('<xml><a>1</b></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>1</a>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>1 & 2</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>\u0001</a></xml>')).toBe('malformed_body')
    expect(xmlRejection('<xml><a>1</a></xml>trailing')).toBe('malformed_body')
    expect(xmlRejection('')).toBe('malformed_body')
  })

  it('reads back whatever the reply builder writes, ]]> and markup included', () => {
    const xmlChar = fc.oneof(
      fc.constantFrom('<', '>', '&', ']', ']]>', '<![CDATA[', ' ', '\t', '\n', '&amp;', '007', '中'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    )
    const value = fc.string({ unit: xmlChar, maxLength: 16 })
    const name = fieldName.filter((candidate) => !['constructor', 'prototype'].includes(candidate))
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([key]) => key, minLength: 1, maxLength: 8 }), (entries) => {
        const fields = Object.fromEntries(entries)
        expect(readFlatXml(buildXmlReply(fields), 'xml')).toEqual(fields)
      }),
    )
  })
})

describe('WeChat Pay v2 combined payments (合单支付)', () => {
  const subOrderPayment = (n: number) => ({
    outTradeNo: `TC2025112410${n}`,
    effect: {
      kind: 'payment',
      amount: 100 * n,
      currency: 'CNY',
      transactionId: `420000202511240000011${n}`,
      paidAt: '2025-11-24T15:59:58Z',
    },
  })

  it('makes each listed sub-order a payment of its own order, keyed by the digest of the signed fields and its order', async () => {
    const notification = await normalized('combinedPayment')
    expect(notification).toMatchObject({ notificationId: expect.stringMatching(/^v2:[0-9a-f]{64}$/), outTradeNo: '' })
    const subOrders = notification.effect.kind === 'combined' ? notification.effect.subOrders : []
    expect(subOrders.map(({ notificationId, outTradeNo, effect }) => ({ notificationId, outTradeNo, effect }))).toEqual([
      { notificationId: `${notification.notificationId}:TC20251124101`, ...subOrderPayment(1) },
      { notificationId: `${notification.notificationId}:TC20251124102`, ...subOrderPayment(2) },
    ])
    // raw: the signed combine fields and the sub-order's own, as text like every v2 field; not the whole list.
    expect(subOrders[1]!.raw).toMatchObject({ combine_mch_id: wx.mchid, combine_out_trade_no: 'TC20251124100', total_fee: '200' })
    expect(subOrders[1]!.raw).not.toHaveProperty('sub_order_list')
  })

  it('reads a combined notify written the way WeChat writes it (every value in CDATA)', async () => {
    const notification = await normalized('combinedWechatLayout')
    expect(notification.effect).toMatchObject({ kind: 'combined', subOrders: [subOrderPayment(3)] })
  })

  it('refuses a combined notify with a foreign sub-order, or one altered after signing', async () => {
    expect(await rejectionCode(() => normalized('combinedForeignSubOrder'))).toBe('merchant_mismatch')
    expect(await rejectionCode(() => normalized('combinedTampered'))).toBe('signature_invalid')
    expect(await rejectionCode(() => normalized('combinedPayment', withWechatpay({ mchid: '1900000999' })))).toBe('merchant_mismatch')
  })
})
