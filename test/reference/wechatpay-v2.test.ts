/// <reference types="vite/client" />
// Checks the v2 adapter against the research reference vectors (official SDK test material and vectors
// derived from public test keys), read from /work/shared at test time and never copied into the project.
// Skipped where that folder is absent (a fresh checkout, CI).
import { describe, expect, it } from 'vitest'
import { fromBase64, toHex, utf8 } from '../../src/crypto/encoding'
import { aesEcbDecrypt } from '../../src/crypto/aes-ecb'
import { md5 } from '../../src/crypto/primitives'
import { NotifyRejection, type RejectionCode } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { wechatpayV2 } from '../../src/providers/wechatpay/v2-notify'
import { v2Sign, v2SignAlgorithm, v2SignString, verifyV2Signature } from '../../src/providers/wechatpay/v2-sign'
import { readFlatXml } from '../../src/providers/wechatpay/xml'
import { rawNotification } from '../providers/contract'

interface SignVector {
  key: string
  params: Record<string, string>
  stringSignTemp: string
  md5: string
  hmac_sha256: string
}

interface PayNotifyVectors {
  key: string
  vectors: Array<{ name: string; raw_xml: string; expect: 'valid' | 'invalid'; algo?: 'MD5' | 'HMAC-SHA256' }>
  ack_success: string
}

interface RefundNotifyVector {
  api_key: string
  aes_key_ascii: string
  raw_xml: string
  expected_plaintext: string
  published_ecb_vector: { plaintext: string; key: string; ciphertext_b64: string }
}

const files: Record<string, unknown> = import.meta.glob('../../../shared/reference/vectors/wechat_v2_*.json', {
  eager: true,
  import: 'default',
})

function vector<T>(name: string): T {
  const entry = Object.entries(files).find(([path]) => path.endsWith(`/${name}`))
  if (!entry) throw new Error(`reference vector ${name} not found`)
  return entry[1] as T
}

const NOW = Date.UTC(2025, 10, 24, 16)

/** A merchant for a vector: its key, and the appid/mch_id the vector itself names. */
function merchantFor(apiV2Key: string, body: string): MerchantConfig {
  const envelope = readFlatXml(body, 'xml')
  return {
    id: 'reference',
    forward: { url: 'https://merchant.example/hooks', secret: 'whsec_cmVmZXJlbmNl' },
    wechatpay: { appid: envelope.appid!, mchid: envelope.mch_id!, apiV2Key, v2SignTypes: ['MD5', 'HMAC-SHA256'], platformPublicKeys: {} },
  }
}

/** The text of one field as written in the XML, read with a regex so the check does not lean on our reader. */
function fieldText(body: string, name: string): string {
  const match = new RegExp(`<${name}>(?:<!\\[CDATA\\[(.*?)\\]\\]>|([^<]*))</${name}>`, 's').exec(body)
  if (!match) throw new Error(`no <${name}> in the vector`)
  return match[1] ?? match[2]!
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

describe.skipIf(Object.keys(files).length === 0)('WeChat Pay v2 against the reference vectors', () => {
  it('finds all three v2 vector files', () => {
    expect(
      Object.keys(files)
        .map((path) => path.split('/').pop())
        .sort(),
    ).toEqual(['wechat_v2_pay_notify_DERIVED.json', 'wechat_v2_refund_notify_DERIVED.json', 'wechat_v2_sign_official.json'])
  })

  it('reproduces the official signing vector through the sign-string builder and the verifier', async () => {
    const official = vector<SignVector>('wechat_v2_sign_official.json')
    const signString = v2SignString(official.params)
    expect(`${signString}&key=${official.key}`).toBe(official.stringSignTemp)
    expect(await v2Sign(signString, official.key, 'MD5')).toBe(official.md5)
    expect(await v2Sign(signString, official.key, 'HMAC-SHA256')).toBe(official.hmac_sha256)
    const both = ['MD5', 'HMAC-SHA256'] as const
    expect(await verifyV2Signature({ ...official.params, sign: official.md5 }, official.key, both)).toBe('MD5')
    expect(await verifyV2Signature({ ...official.params, sign: official.hmac_sha256 }, official.key, both)).toBe('HMAC-SHA256')
  })

  it('accepts every valid pay notify with the expected algorithm and exact string values', async () => {
    const { key, vectors } = vector<PayNotifyVectors>('wechat_v2_pay_notify_DERIVED.json')
    const valid = vectors.filter((v) => v.expect === 'valid')
    expect(valid.length).toBeGreaterThanOrEqual(3)
    for (const v of valid) {
      const raw = rawNotification(v.raw_xml, {}, NOW)
      expect(v2SignAlgorithm(readFlatXml(v.raw_xml, 'xml')), v.name).toBe(v.algo)
      const notification = await verifyNotification(wechatpayV2, raw, merchantFor(key, v.raw_xml), NOW)
      expect(notification.outTradeNo, v.name).toBe(fieldText(v.raw_xml, 'out_trade_no'))
      expect(notification.effect, v.name).toMatchObject({
        kind: 'payment',
        amount: Number(fieldText(v.raw_xml, 'total_fee')),
        transactionId: fieldText(v.raw_xml, 'transaction_id'),
      })
      // Empty fields are not signed and not forwarded; coupon fields are both.
      expect(notification.raw, v.name).not.toHaveProperty('device_info')
      expect(notification.raw, v.name).toHaveProperty('coupon_type_0', fieldText(v.raw_xml, 'coupon_type_0'))
    }
  })

  it('rejects every tampered pay notify as an invalid signature', async () => {
    const { key, vectors } = vector<PayNotifyVectors>('wechat_v2_pay_notify_DERIVED.json')
    const invalid = vectors.filter((v) => v.expect === 'invalid')
    expect(invalid.length).toBeGreaterThanOrEqual(1)
    for (const v of invalid) {
      const raw = rawNotification(v.raw_xml, {}, NOW)
      expect(await rejectionCode(() => verifyNotification(wechatpayV2, raw, merchantFor(key, v.raw_xml), NOW)), v.name).toBe(
        'signature_invalid',
      )
    }
  })

  it('answers with the reference success acknowledgement', async () => {
    const { ack_success } = vector<PayNotifyVectors>('wechat_v2_pay_notify_DERIVED.json')
    expect(await wechatpayV2.accept().text()).toBe(ack_success)
  })

  it('derives the req_info AES key and decrypts the published ECB vector', async () => {
    const refund = vector<RefundNotifyVector>('wechat_v2_refund_notify_DERIVED.json')
    expect(toHex(await md5(utf8(refund.api_key)))).toBe(refund.aes_key_ascii)
    const ecb = refund.published_ecb_vector
    expect(new TextDecoder().decode(aesEcbDecrypt(utf8(ecb.key), fromBase64(ecb.ciphertext_b64)))).toBe(ecb.plaintext)
  })

  it('decrypts the refund notify to exactly the expected plaintext fields', async () => {
    const refund = vector<RefundNotifyVector>('wechat_v2_refund_notify_DERIVED.json')
    const expected = readFlatXml(refund.expected_plaintext, 'root')
    const notification = await verifyNotification(
      wechatpayV2,
      rawNotification(refund.raw_xml, {}, NOW),
      merchantFor(refund.api_key, refund.raw_xml),
      NOW,
    )
    expect(notification.outTradeNo).toBe(fieldText(refund.expected_plaintext, 'out_trade_no'))
    expect(notification.effect).toMatchObject({
      kind: 'refund',
      outcome: 'succeeded',
      outRefundNo: fieldText(refund.expected_plaintext, 'out_refund_no'),
      refundId: fieldText(refund.expected_plaintext, 'refund_id'),
      amount: Number(fieldText(refund.expected_plaintext, 'refund_fee')),
      orderAmount: Number(fieldText(refund.expected_plaintext, 'total_fee')),
    })
    expect(notification.raw).toMatchObject(expected)
    expect(notification.raw).not.toHaveProperty('req_info')
  })

  it('refuses the refund notify under another APIv2 key as undecryptable', async () => {
    const refund = vector<RefundNotifyVector>('wechat_v2_refund_notify_DERIVED.json')
    const otherKey = vector<PayNotifyVectors>('wechat_v2_pay_notify_DERIVED.json').key
    const raw = rawNotification(refund.raw_xml, {}, NOW)
    expect(await rejectionCode(() => verifyNotification(wechatpayV2, raw, merchantFor(otherKey, refund.raw_xml), NOW))).toBe(
      'decrypt_failed',
    )
  })
})
