/// <reference types="vite/client" />
/**
 * Checks the Alipay adapter against the research vectors in /work/shared/reference/vectors (real
 * notifies from alipay-sdk-nodejs-all and yansongda/pay, and GBK/UTF-8 bodies derived from public
 * test keys). They are read where they lie, never copied into the project; without them this
 * suite is skipped.
 */
import { describe, expect, it } from 'vitest'
import type { MerchantConfig } from '../../src/merchants/types'
import { alipayNotify as alipay } from '../../src/providers/alipay/notify'
import { alipaySignContent } from '../../src/providers/alipay/sign-content'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { rawNotification } from '../providers/contract'

interface PublishedVector {
  name: string
  params: Record<string, string>
  exclude: string[]
  algo: 'RSA2' | 'RSA'
  public_key_bare_b64?: string
  public_key_pem?: string
  certificate_pem?: string
}

interface DerivedVector {
  charset: string
  raw_body: string
  expected_sign_content_hex: string
  params_decoded: Record<string, string>
}

interface VectorFile {
  vectors: (PublishedVector | DerivedVector)[]
  public_key_pem?: string
}

const files = import.meta.glob<VectorFile>('../../../shared/reference/vectors/alipay_notify_*.json', {
  eager: true,
  import: 'default',
})
const published = Object.entries(files).find(([path]) => path.endsWith('alipay_notify_published.json'))?.[1]
const derived = Object.entries(files).find(([path]) => path.endsWith('alipay_notify_gbk_utf8_DERIVED.json'))?.[1]

const NOW = Date.parse('2026-11-22T10:00:00Z')

function merchantFor(params: Record<string, string>, alipayPublicKey: string, signType: 'RSA2' | 'RSA' = 'RSA2'): MerchantConfig {
  return {
    id: 'reference',
    forward: { url: 'https://merchant.example/hooks', secret: 'whsec_cmVmZXJlbmNl' },
    alipay: { appId: params.app_id!, sellerId: params.seller_id ?? '', alipayPublicKey, signType },
  }
}

/** A UTF-8 form body for published vectors, which come as decoded parameters. */
function utf8FormBody(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`)
    .join('&')
}

/** Published vectors carry Alipay's key as bare base64, PEM, or inside its certificate. */
function keyOf(v: PublishedVector): string {
  return v.public_key_bare_b64 ?? v.public_key_pem ?? v.certificate_pem!
}

/** Runs the whole adapter over a published vector's parameters. */
function verifyPublished(v: PublishedVector, params = v.params) {
  return verifyNotification(alipay, rawNotification(utf8FormBody(params)), merchantFor(v.params, keyOf(v)), NOW)
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

describe.skipIf(published === undefined)('alipay adapter against published notifies (alipay-sdk, yansongda/pay)', () => {
  const vectors = (published?.vectors ?? []) as PublishedVector[]
  const byName = (prefix: string) => vectors.find((v) => v.name.startsWith(prefix))!

  it('accepts the real trade_status_sync notify (V1 content, bare base64 key) as a 0.10 yuan payment', async () => {
    const v = byName('trade_status_sync (sign content')
    const notification = await verifyPublished(v)
    expect(notification).toMatchObject({
      notificationId: v.params.notify_id,
      outTradeNo: v.params.out_trade_no,
      effect: { kind: 'payment', amount: 10, currency: 'CNY', transactionId: v.params.trade_no, paidAt: '2019-08-15T07:56:24Z' },
      raw: { subject: v.params.subject },
    })
  })

  it('verifies the servicemarket notify over V2 content (sign_type kept), then forwards it as a provider notification', async () => {
    const v = byName('servicemarket_order_notify')
    const merchant = merchantFor(v.params, keyOf(v))
    const verified = await alipay.verify(alipay.parse(rawNotification(utf8FormBody(v.params))), merchant.alipay, NOW)
    expect(verified.signContent).toBe('v2')
    const notification = await alipay.normalize(verified, merchant.alipay)
    expect(notification).toMatchObject({
      notificationId: v.params.notify_id,
      outTradeNo: '',
      effect: { kind: 'other', notificationType: 'servicemarket_order_notify' },
    })
  })

  it("accepts the certificate-mode notify whose subject has a '+' (key taken from the certificate)", async () => {
    const v = byName('trade_status_sync with "+"')
    const notification = await verifyPublished(v)
    expect(notification).toMatchObject({
      outTradeNo: v.params.out_trade_no,
      effect: { kind: 'payment', amount: 1, transactionId: v.params.trade_no, paidAt: '2023-12-21T08:26:43Z' },
      raw: { subject: 'yansongda+测试 - 1' },
    })
  })

  it('refuses each published notify after one changed character', async () => {
    for (const v of vectors) {
      const params = { ...v.params, notify_time: v.params.notify_time!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }
      await expect(verifyPublished(v, params), v.name).rejects.toMatchObject({ code: 'signature_invalid' })
    }
  })
})

describe.skipIf(derived === undefined)('alipay adapter against derived GBK and UTF-8 raw bodies', () => {
  const vectors = (derived?.vectors ?? []) as DerivedVector[]
  const publicKey = derived?.public_key_pem ?? ''

  for (const [index, v] of vectors.entries()) {
    const label = `${v.charset}${v.params_decoded.voucher_detail_list === '' ? ' with an empty field' : ''} (#${index})`

    it(`builds the expected sign-content bytes: ${label}`, () => {
      const wire = alipay.parse(rawNotification(v.raw_body))
      expect(toHex(alipaySignContent(wire.fields, 'v1'))).toBe(v.expected_sign_content_hex)
    })

    it(`verifies over the received bytes and decodes afterwards: ${label}`, async () => {
      const params = v.params_decoded
      const notification = await verifyNotification(alipay, rawNotification(v.raw_body), merchantFor(params, publicKey), NOW)
      const { sign: _sign, ...rawExpected } = params
      expect(notification).toMatchObject({
        notificationId: params.notify_id,
        outTradeNo: params.out_trade_no,
        effect: { kind: 'payment', amount: 8888, transactionId: params.trade_no, paidAt: '2024-01-01T04:00:04Z' },
      })
      expect(notification.raw).toEqual(rawExpected)
    })
  }

  it('refuses the GBK body relabelled utf-8 (the signature covers the charset field)', async () => {
    const v = vectors.find((x) => x.charset === 'GBK')!
    const relabelled = v.raw_body.replace('charset=GBK', 'charset=utf-8')
    await expect(
      verifyNotification(alipay, rawNotification(relabelled), merchantFor(v.params_decoded, publicKey), NOW),
    ).rejects.toMatchObject({ code: 'signature_invalid' })
  })
})
