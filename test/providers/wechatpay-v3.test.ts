import { X509Certificate } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import { toPem } from '../../src/crypto/encoding'
import { cachedSpkiFromPublicKeyText } from '../../src/crypto/x509'
import { NotifyRejection } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import type { WechatpayConfig } from '../../src/providers/wechatpay'
import { verifyNotification } from '../../src/providers/core/pipeline'
import type { NotificationEffect } from '../../src/providers/core/types'
import { redactV3 } from '../../src/providers/wechatpay/redaction'
import { wechatpayV3 } from '../../src/providers/wechatpay/v3-notify'
import { rawNotification, runChannelContract, type RejectCase, type ValidCase } from './contract'

interface FixtureCase {
  description: string
  headers: Record<string, string>
  body: string
  resource: Record<string, unknown> | null
}

type CaseName = keyof typeof fixtures.cases
const cases: Record<CaseName, FixtureCase> = fixtures.cases
const now = fixtures.now
const wx = keys.wechatpay

function raw(name: CaseName) {
  const c = cases[name]
  return rawNotification(c.body, c.headers, now)
}

function envelopeId(name: CaseName): string {
  return (JSON.parse(cases[name].body) as { id: string }).id
}

const merchant: MerchantConfig = {
  id: 'acme',
  forward: { url: 'https://merchant.example/hooks/payments', secret: 'whsec_dGVzdC1zZWNyZXQ=' },
  wechatpay: {
    appid: wx.appid,
    mchid: wx.mchid,
    v2SignTypes: ['MD5'],
    apiV3Key: wx.apiV3Key,
    // Rotation overlap and public-key mode side by side, as during WeChat's migration.
    platformPublicKeys: {
      [wx.platformCertA.serial]: wx.platformCertA.publicKeyPem,
      [wx.platformCertB.serial]: wx.platformCertB.publicKeyPem,
      [wx.publicKeyMode.id]: wx.publicKeyMode.publicKeyPem,
    },
  },
}

function merchantWith(wechatpay: Partial<WechatpayConfig> | undefined): MerchantConfig {
  if (wechatpay === undefined) return { id: merchant.id, forward: merchant.forward }
  return { ...merchant, wechatpay: { ...merchant.wechatpay!, ...wechatpay } }
}

/** Partner mode: sub-merchant A of the fixtures' service provider, whose keys it shares. */
const subMerchantA = merchantWith({ subMchid: fixtures.partner.subMchid, subAppid: fixtures.partner.subAppid })
/** One mchid, two apps. */
const twoApps = merchantWith({ appid: [wx.appid, fixtures.secondAppid] })
/** Certificate C as downloaded from /v3/certificates (never configured). */
const withCertC = merchantWith({ downloadedPlatformCertificates: { [wx.platformCertC.serial]: wx.platformCertC.certificatePem } })

/** Certificates A and C configured as certificates: the merchant's save derives their expiries. */
const expiryOf = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString()
const withCertificatesAC = merchantWith({
  platformPublicKeys: {
    [wx.platformCertA.serial]: wx.platformCertA.certificatePem,
    [wx.platformCertC.serial]: wx.platformCertC.certificatePem,
  },
  platformKeyExpiries: {
    [wx.platformCertA.serial]: expiryOf(wx.platformCertA.certificatePem),
    [wx.platformCertC.serial]: expiryOf(wx.platformCertC.certificatePem),
  },
})
/** The clock of the cases signed a day after certificate A expired. */
const afterExpiryOfA = Number(fixtures.cases.transactionCertAExpired.headers['Wechatpay-Timestamp']) * 1000

const ORDER = 'T20251124001'
const TRANSACTION = '4200002025112400000001'
const payment: NotificationEffect = {
  kind: 'payment',
  amount: 100,
  currency: 'CNY',
  transactionId: TRANSACTION,
  paidAt: '2025-11-24T15:59:58Z',
}

function refund(
  outcome: 'succeeded' | 'failed' | 'closed',
  status: string,
  refundId: string,
  refundedAt: string | null,
): NotificationEffect {
  return {
    kind: 'refund',
    outcome,
    outRefundNo: `R20251124001-${status}`,
    refundId,
    transactionId: TRANSACTION,
    amount: 40,
    cumulativeRefunded: null,
    orderAmount: 100,
    currency: 'CNY',
    refundedAt,
    // The refund proves the payment: WeChat's transaction and the order's total, no payment time.
    payment: { amount: 100, currency: 'CNY', currencyUnstated: true, transactionId: TRANSACTION, paidAt: null },
  }
}

function validCase(name: CaseName, effect: NotificationEffect, options: Partial<ValidCase> = {}): ValidCase {
  return {
    name: cases[name].description,
    raw: raw(name),
    expected: { notificationId: envelopeId(name), outTradeNo: ORDER, effect, raw: cases[name].resource! },
    ...options,
  }
}

function rejectCase(name: CaseName, code: RejectCase['code'], options: Partial<RejectCase> = {}): RejectCase {
  return { name: cases[name].description, raw: raw(name), code, ...options }
}

const invalidUtf8Body = rawNotification(
  new Uint8Array([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  cases.transactionCertA.headers,
  now,
)

/** The PHP-escaped body parsed and serialised again: the same JSON value, other bytes. */
const reserialisedBody = rawNotification(
  JSON.stringify(JSON.parse(cases.transactionPhpEscaped.body)),
  cases.transactionPhpEscaped.headers,
  now,
)

runChannelContract({
  adapter: wechatpayV3,
  merchant,
  now,
  valid: [
    validCase('transactionCertA', payment),
    validCase('transactionCertB', payment),
    validCase('transactionPublicKey', payment),
    validCase('transactionPhpEscaped', payment),
    validCase('transactionWithoutSignatureType', payment),
    validCase('transactionPartnerMode', payment, { merchant: subMerchantA }),
    validCase('transactionPartnerMode', payment, {
      name: 'partner mode: a sub-merchant that lists no sub_appid takes any of its apps',
      merchant: merchantWith({ subMchid: fixtures.partner.subMchid }),
    }),
    validCase('refundPartnerMode', refund('succeeded', 'SUCCESS', '503000020251124000000011', '2025-11-24T15:50:00Z'), {
      merchant: subMerchantA,
    }),
    validCase('transactionSecondAppid', payment, { merchant: twoApps }),
    validCase('transactionCertCAfterExpiryOfA', payment, { merchant: withCertificatesAC, now: afterExpiryOfA }),
    validCase('transactionCertAExpired', payment, {
      name: 'a signature under certificate A after its expiry, A configured as a plain public key: no expiry to check',
      now: afterExpiryOfA,
    }),
    validCase('transactionCertA', payment, { name: 'the first of two apps', merchant: twoApps }),
    validCase('transactionCertC', payment, { merchant: withCertC }),
    validCase('boundaryPast300', payment),
    validCase('boundaryFuture300', payment),
    // The header counts whole seconds, and so does the window: a timestamp 300 s old is accepted for all of that
    // second (a provider or test that reads the clock in seconds sees |now − timestamp| = 300).
    validCase('boundaryPast300', payment, { name: 'timestamp 300 s old, 999 ms into the second', now: now + 999 }),
    validCase('transactionCertA', payment, { name: 'a genuine notify 300.999 s after its timestamp', now: now + 300_999 }),
    {
      ...validCase('transactionCertA', payment),
      name: 'platform key configured as the X.509 certificate instead of SPKI',
      merchant: merchantWith({ platformPublicKeys: { [wx.platformCertA.serial]: wx.platformCertA.certificatePem } }),
    },
    validCase('refundSuccess', refund('succeeded', 'SUCCESS', '503000020251124000000011', '2025-11-24T15:50:00Z')),
    validCase('refundAbnormal', refund('failed', 'ABNORMAL', '503000020251124000000012', null)),
    validCase('refundClosed', refund('closed', 'CLOSED', '503000020251124000000013', null)),
    // Notifications about no order: checked against the ids they carry, forwarded as they are.
    {
      name: cases.transferBillFinished.description,
      raw: raw('transferBillFinished'),
      expected: {
        notificationId: envelopeId('transferBillFinished'),
        outTradeNo: '',
        effect: {
          kind: 'other',
          notificationType: 'MCHTRANSFER.BILL.FINISHED',
          subjectId: '1330000071100999991182020050700019480',
          occurredAt: '2025-11-24T16:00:00Z',
        },
        raw: cases.transferBillFinished.resource!,
      },
    },
    {
      name: cases.transferPartnerSubA.description,
      raw: raw('transferPartnerSubA'),
      merchant: subMerchantA,
      expected: {
        outTradeNo: '',
        effect: {
          kind: 'other',
          notificationType: 'MCHTRANSFER.BILL.FINISHED',
          subjectId: '1330000071100999991182020050700019490',
          occurredAt: '2025-11-24T16:00:00Z',
        },
      },
    },
    {
      name: 'a complaint (no merchant id in it) to a sub-merchant',
      raw: raw('complaintCreated'),
      merchant: subMerchantA,
      expected: { outTradeNo: '', effect: expect.objectContaining({ kind: 'other', notificationType: 'COMPLAINT.CREATE' }) },
    },
    // The payment families' events paygate does not map are forwarded too, about the transaction they name.
    ...(['transactionFail', 'unsupportedEvent'] as const).map(
      (name): ValidCase => ({
        name: cases[name].description,
        raw: raw(name),
        expected: {
          notificationId: envelopeId(name),
          outTradeNo: '',
          effect: {
            kind: 'other',
            notificationType: name === 'transactionFail' ? 'TRANSACTION.FAIL' : 'TRANSACTION.REVOKED',
            subjectId: '4200002025112400000001',
            occurredAt: '2025-11-24T16:00:00Z',
          },
          raw: cases[name].resource!,
        },
      }),
    ),
    {
      name: cases.complaintCreated.description,
      raw: raw('complaintCreated'),
      expected: {
        outTradeNo: '',
        effect: {
          kind: 'other',
          notificationType: 'COMPLAINT.CREATE',
          subjectId: '200201820200101080076610000',
          occurredAt: '2025-11-24T16:00:00Z',
        },
      },
    },
  ],
  common: {
    'tampered body': [
      rejectCase('tamperedBody', 'signature_invalid'),
      { name: 'PHP-escaped body re-serialised by a proxy', raw: reserialisedBody, code: 'signature_invalid' },
    ],
    'wrong key': [
      rejectCase('strangerKey', 'signature_invalid'),
      rejectCase('otherApiV3Key', 'decrypt_failed'),
      {
        ...rejectCase('transactionCertB', 'signature_invalid'),
        name: "certificate B's serial mapped to certificate A's key",
        merchant: merchantWith({ platformPublicKeys: { [wx.platformCertB.serial]: wx.platformCertA.publicKeyPem } }),
      },
    ],
    'missing signature': [
      rejectCase('missingTimestamp', 'missing_signature'),
      rejectCase('missingNonce', 'missing_signature'),
      rejectCase('missingSignature', 'missing_signature'),
      rejectCase('missingSerial', 'missing_signature'),
      rejectCase('emptySignature', 'missing_signature'),
    ],
    'algorithm mismatch': [rejectCase('signatureTypeSm2', 'sign_type_not_allowed'), rejectCase('sm4Resource', 'unsupported_event')],
    'wrong merchant identity': [
      rejectCase('wrongMchid', 'merchant_mismatch'),
      rejectCase('wrongAppid', 'merchant_mismatch'),
      rejectCase('transferWrongMchid', 'merchant_mismatch'),
      {
        ...rejectCase('transactionPartnerMode', 'merchant_mismatch'),
        name: 'partner-mode sp_mchid of another merchant',
        merchant: merchantWith({ mchid: '1900000999' }),
      },
      {
        ...rejectCase('transactionPartnerMode', 'merchant_mismatch'),
        name: 'partner → direct: a sub-merchant’s payment to its service provider',
      },
      {
        ...rejectCase('transactionCertA', 'merchant_mismatch'),
        name: 'direct → partner: a direct payment to a sub-merchant',
        merchant: subMerchantA,
      },
      {
        ...rejectCase('transactionPartnerSubB', 'merchant_mismatch'),
        name: 'wrong sub_mchid: sub-merchant B’s payment to A',
        merchant: subMerchantA,
      },
      { ...rejectCase('transactionPartnerWrongSpMchid', 'merchant_mismatch'), merchant: subMerchantA },
      { ...rejectCase('transactionPartnerOtherSubAppid', 'merchant_mismatch'), merchant: subMerchantA },
      { ...rejectCase('transactionSecondAppid', 'merchant_mismatch'), name: 'an app the merchant does not list' },
      // Notifications about no order follow the same rule for the ids they carry: sub-merchants share the service
      // provider's keys, so only the ids say whose a transfer is.
      {
        ...rejectCase('transferPartnerSubB', 'merchant_mismatch'),
        name: 'wrong sub_mchid: sub-merchant B’s transfer to A',
        merchant: subMerchantA,
      },
      {
        ...rejectCase('transferPartnerSubA', 'merchant_mismatch'),
        name: 'partner → direct: a sub-merchant’s transfer to its service provider',
      },
      {
        ...rejectCase('transferBillFinished', 'merchant_mismatch'),
        name: 'direct → partner: a direct transfer to a sub-merchant',
        merchant: subMerchantA,
      },
    ],
    'malformed body': [
      rejectCase('invalidJson', 'malformed_body'),
      rejectCase('missingResource', 'malformed_body'),
      rejectCase('nonIntegerTimestamp', 'malformed_body'),
      rejectCase('fractionalAmount', 'malformed_body'),
      rejectCase('negativeRefund', 'malformed_body'),
      // v2 and Alipay refuse a refund larger than its order the same way (issue 17, item 4).
      rejectCase('refundLargerThanOrder', 'malformed_body'),
      { name: 'body that is not UTF-8', raw: invalidUtf8Body, code: 'malformed_body' },
    ],
  },
  extra: [
    rejectCase('probe', 'signature_probe'),
    rejectCase('probeUnknownSerial', 'signature_probe'),
    rejectCase('unknownSerial', 'unknown_serial'),
    { ...rejectCase('transactionCertC', 'unknown_serial'), name: 'certificate C before it was downloaded' },
    rejectCase('prototypeSerial', 'unknown_serial'),
    rejectCase('transactionCertAExpired', 'certificate_expired', { merchant: withCertificatesAC, now: afterExpiryOfA }),
    {
      ...rejectCase('transactionCertA', 'certificate_expired'),
      name: 'certificate A configured with an expiry already passed (its successor signs by then)',
      merchant: merchantWith({
        platformPublicKeys: { [wx.platformCertA.serial]: wx.platformCertA.certificatePem },
        platformKeyExpiries: { [wx.platformCertA.serial]: new Date(now - 1).toISOString() },
      }),
    },
    {
      ...rejectCase('transactionCertB', 'unknown_serial'),
      name: 'certificate B before the merchant added it (only A configured)',
      merchant: merchantWith({ platformPublicKeys: { [wx.platformCertA.serial]: wx.platformCertA.publicKeyPem } }),
    },
    rejectCase('stalePast301', 'stale_timestamp'),
    rejectCase('staleFuture301', 'stale_timestamp'),
    { ...rejectCase('transactionCertA', 'stale_timestamp'), name: 'a genuine notify replayed 301 s later', now: now + 301_000 },
    { ...rejectCase('transactionCertA', 'stale_timestamp'), name: 'timestamp 300.001 s ahead: 301 whole seconds', now: now - 300_001 },
    { ...rejectCase('boundaryPast300', 'stale_timestamp'), name: 'timestamp 300 s old, one second later', now: now + 1_000 },
    {
      name: 'a signature that is not base64 at all',
      raw: rawNotification(cases.transactionCertA.body, { ...cases.transactionCertA.headers, 'Wechatpay-Signature': 'not base64!' }, now),
      code: 'signature_invalid',
    },
    rejectCase('brokenTag', 'decrypt_failed'),
    rejectCase('ciphertextNotBase64', 'decrypt_failed'),
    rejectCase('tradeStateNotSuccess', 'unsupported_event'),
    rejectCase('combinedForeignSubOrder', 'merchant_mismatch'),
    rejectCase('combinedStrangerKey', 'signature_invalid'),
    { ...rejectCase('combinedPartnerMode', 'merchant_mismatch'), name: 'a combined payment for a sub-merchant, to a direct merchant' },
    { ...rejectCase('combinedPayment', 'merchant_mismatch'), name: 'a direct combined payment, to a sub-merchant', merchant: subMerchantA },
    {
      ...rejectCase('combinedPayment', 'merchant_mismatch'),
      name: 'a combined payment whose combine_appid is not one of the merchant apps',
      merchant: merchantWith({ appid: fixtures.secondAppid }),
    },
    {
      ...rejectCase('transactionCertA', 'channel_not_configured'),
      name: 'merchant without WeChat Pay',
      merchant: merchantWith(undefined),
    },
    {
      ...rejectCase('transactionCertA', 'channel_not_configured'),
      name: 'merchant without an APIv3 key',
      merchant: merchantWith({ apiV3Key: undefined }),
    },
  ],
  async assertAcceptReply(response) {
    expect(response.status).toBe(204)
    expect(await response.text()).toBe('')
  },
  async assertRejectReply(response) {
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as { code: string; message: string }
    expect(Object.keys(body).sort()).toEqual(['code', 'message'])
    expect(body.code).toBe('FAIL')
    expect(body.message.length).toBeGreaterThan(0)
    expect(body.message.length).toBeLessThanOrEqual(64)
  },
})

describe('wechatpay.v3 adapter details', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('normalizes a payment to exactly these fields, raw being the decrypted resource', async () => {
    const notification = await verifyNotification(wechatpayV3, raw('transactionCertA'), merchant, now)
    expect(notification).toEqual({
      channel: 'wechatpay.v3',
      provider: 'wechatpay',
      notificationId: envelopeId('transactionCertA'),
      outTradeNo: ORDER,
      effect: payment,
      raw: cases.transactionCertA.resource,
    })
  })

  it('normalizes a refund to exactly these fields', async () => {
    const notification = await verifyNotification(wechatpayV3, raw('refundSuccess'), merchant, now)
    expect(notification.effect).toEqual(refund('succeeded', 'SUCCESS', '503000020251124000000011', '2025-11-24T15:50:00Z'))
  })

  it('imports a platform key once and reuses it for every later notification', async () => {
    // A key this isolate has never seen: a fresh pair stored under serial A. The fixture is not
    // signed by it, so verification fails, but only after the key was imported.
    const pair = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const spki = new Uint8Array((await crypto.subtle.exportKey('spki', pair.publicKey)) as ArrayBuffer)
    const freshKeyMerchant = merchantWith({ platformPublicKeys: { [wx.platformCertA.serial]: toPem('PUBLIC KEY', spki) } })
    const importKey = vi.spyOn(crypto.subtle, 'importKey')

    for (let i = 0; i < 3; i++) {
      await expect(verifyNotification(wechatpayV3, raw('transactionCertA'), freshKeyMerchant, now)).rejects.toMatchObject({
        code: 'signature_invalid',
      })
    }
    expect(importKey).toHaveBeenCalledTimes(1)
    expect(importKey.mock.calls[0]![0]).toBe('spki')
  })

  it('parses a configured key text once per isolate', () => {
    const first = cachedSpkiFromPublicKeyText(wx.platformCertB.certificatePem)
    expect(cachedSpkiFromPublicKeyText(wx.platformCertB.certificatePem)).toBe(first)
    expect(cachedSpkiFromPublicKeyText(wx.platformCertB.publicKeyPem)).toEqual(first)
  })

  it('does not echo the signature or key material in a reject reply', async () => {
    const error = await verifyNotification(wechatpayV3, raw('strangerKey'), merchant, now).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotifyRejection)
    const text = await wechatpayV3.reject(error as NotifyRejection).text()
    expect(text).not.toContain(cases.strangerKey.headers['Wechatpay-Signature']!.slice(0, 16))
    expect(text).not.toContain(wx.apiV3Key)
  })

  it('rejects a probe without decoding its signature, even when nothing else is configured', async () => {
    const unconfigured = merchantWith(undefined)
    await expect(verifyNotification(wechatpayV3, raw('probeUnknownSerial'), unconfigured, now)).rejects.toMatchObject({
      code: 'signature_probe',
      status: 401,
    })
  })
})

describe('wechatpay.v3 bodies kept once rejected', () => {
  const { headers, body } = cases.transactionCertA
  const signature = headers['Wechatpay-Signature']!

  it('keeps the signing headers and the body as received, the signature cut short', () => {
    const kept = redactV3(rawNotification(body, { ...headers, 'Request-ID': 'req-1', Authorization: 'secret' }))
    expect(kept.body).toBe(body)
    expect(kept.headers).toEqual({
      'wechatpay-timestamp': headers['Wechatpay-Timestamp'],
      'wechatpay-nonce': headers['Wechatpay-Nonce'],
      'wechatpay-serial': headers['Wechatpay-Serial'],
      'wechatpay-signature-type': headers['Wechatpay-Signature-Type'],
      'request-id': 'req-1',
      'wechatpay-signature': `${signature.slice(0, 8)}…`,
    })
  })

  it('cuts short a copy of the signature in another kept header or in the body', () => {
    const copied = body.replace('"summary":"', `"summary":"${signature}`)
    const kept = redactV3(rawNotification(copied, { ...headers, 'Request-ID': signature, 'Wechatpay-Nonce': `n${signature}` }))
    expect(JSON.stringify(kept)).not.toContain(signature)
    expect(kept.headers['request-id']).toBe(`${signature.slice(0, 8)}…`)
    expect(kept.body).toBe(body.replace('"summary":"', `"summary":"${signature.slice(0, 8)}…`))
  })
})

/** A copy of the test merchant that a test may change (configs in production are frozen and replaced). */
function ownMerchant(): MerchantConfig {
  return { ...merchant, wechatpay: { ...merchant.wechatpay! } }
}

describe('the APIv3 key bytes kept with a merchant config', () => {
  it('decrypts every notification of a config with the key it holds, again and again', async () => {
    const config = ownMerchant()
    for (let i = 0; i < 3; i++) {
      const notification = await verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, now)
      expect(notification.effect.kind).toBe('payment')
    }
  })

  it('follows a key changed on the same config object instead of reusing the old bytes', async () => {
    const config = ownMerchant()
    await verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, now)
    config.wechatpay!.apiV3Key = fixtures.otherApiV3Key
    const rotated = await verifyNotification(wechatpayV3, raw('otherApiV3Key'), config, now)
    expect(rotated.notificationId).toBe((JSON.parse(fixtures.cases.otherApiV3Key.body) as { id: string }).id)
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, now)).rejects.toMatchObject({
      code: 'decrypt_failed',
    })
  })

  it('keeps two merchants with different keys apart', async () => {
    const a = ownMerchant()
    const b = ownMerchant()
    b.wechatpay!.apiV3Key = fixtures.otherApiV3Key
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), a, now)).resolves.toBeDefined()
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), b, now)).rejects.toMatchObject({ code: 'decrypt_failed' })
    await expect(verifyNotification(wechatpayV3, raw('otherApiV3Key'), b, now)).resolves.toBeDefined()
    await expect(verifyNotification(wechatpayV3, raw('otherApiV3Key'), a, now)).rejects.toMatchObject({ code: 'decrypt_failed' })
  })
})

describe('wechatpay.v3 combined payments (合单支付)', () => {
  const paidAt = '2025-11-24T15:59:58Z'
  const subOrderPayment = (n: number) => ({
    outTradeNo: `TC2025112400${n}`,
    effect: { kind: 'payment', amount: 100 * n, currency: 'CNY', transactionId: `420000202511240000010${n}`, paidAt },
  })

  async function subOrdersOf(name: CaseName, config: MerchantConfig) {
    const notification = await verifyNotification(wechatpayV3, raw(name), config, now)
    expect(notification).toMatchObject({ notificationId: envelopeId(name), outTradeNo: '', effect: { kind: 'combined' } })
    return notification.effect.kind === 'combined' ? notification.effect.subOrders : []
  }

  it('makes each sub-order a payment of its own order: its amount, transaction, time and dedupe id', async () => {
    const subOrders = await subOrdersOf('combinedPayment', merchant)
    const id = envelopeId('combinedPayment')
    expect(subOrders.map(({ notificationId, outTradeNo, effect }) => ({ notificationId, outTradeNo, effect }))).toEqual([
      { notificationId: `${id}:TC20251124001`, ...subOrderPayment(1) },
      { notificationId: `${id}:TC20251124002`, ...subOrderPayment(2) },
    ])
    // raw: the combine's fields, then the sub-order's own; never the other sub-orders.
    const [first] = subOrders
    expect(first!.raw).toMatchObject({ combine_mchid: wx.mchid, combine_appid: wx.appid, combine_out_trade_no: 'TC20251124000' })
    expect(first!.raw).toMatchObject({ mchid: wx.mchid, out_trade_no: 'TC20251124001', amount: { total_amount: 100 } })
    expect(first!.raw).not.toHaveProperty('sub_orders')
  })

  it('takes a partner-mode combined payment for the sub-merchant its sub-orders name', async () => {
    const subOrders = await subOrdersOf('combinedPartnerMode', subMerchantA)
    expect(subOrders.map(({ outTradeNo, effect }) => ({ outTradeNo, effect }))).toEqual([subOrderPayment(1), subOrderPayment(2)])
  })

  it('names the foreign sub-order in its refusal', async () => {
    await expect(verifyNotification(wechatpayV3, raw('combinedForeignSubOrder'), merchant, now)).rejects.toMatchObject({
      code: 'merchant_mismatch',
      message: 'sub_orders.mchid does not belong to this merchant',
    })
  })
})
