/// <reference types="vite/client" />
// Checks the APIv3 adapter against signed notifies from the official SDKs' test suites, read at test
// time from the shared reference folder (protocols.md §7). Nothing from them is copied into the
// project: without the folder this suite is skipped.
import { describe, expect, it } from 'vitest'
import type { RejectionCode } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { wechatpayV3 } from '../../src/providers/wechatpay/v3-notify'
import { readSignedMessage, verifySignedMessage } from '../../src/providers/wechatpay/v3-signature'
import { rawNotification } from '../providers/contract'

interface SignedNotify {
  name?: string
  expect?: 'valid' | 'invalid'
  headers: Record<string, string>
  raw_body: string
  expected_plaintext?: string
}

interface PublicKeyModeFile {
  wechatpay_public_key_id: string
  wechatpay_public_key_pem: string
  apiv3_key: string
  vectors: SignedNotify[]
}

interface WechatpayGoFile extends SignedNotify {
  apiv3_key: string
  platform_certificate_pem: string
}

interface YansongdaFile extends SignedNotify {
  apiv3_key: string
  verify_key_pem: string
}

const files = import.meta.glob<unknown>('../../../shared/reference/vectors/wechat_v3_notify_*.json', {
  eager: true,
  import: 'default',
})

function vectorFile<T>(suffix: string): T | undefined {
  const entry = Object.entries(files).find(([path]) => path.endsWith(suffix))
  return entry?.[1] as T | undefined
}

const publicKeyMode = vectorFile<PublicKeyModeFile>('wechat_v3_notify_pubkey_DERIVED.json')
const wechatpayGo = vectorFile<WechatpayGoFile>('wechat_v3_notify_wechatpay_go.json')
const yansongda = vectorFile<YansongdaFile>('wechat_v3_notify_yansongda.json')

function signedAt(vector: SignedNotify): number {
  return Number(vector.headers['Wechatpay-Timestamp']) * 1000
}

function raw(vector: SignedNotify, body = vector.raw_body) {
  return rawNotification(body, vector.headers, signedAt(vector))
}

function merchantFor(plaintext: Record<string, unknown>, apiV3Key: string, platformPublicKeys: Record<string, string>): MerchantConfig {
  return {
    id: 'reference',
    forward: { url: 'https://merchant.example/hooks', secret: 'whsec_cmVmZXJlbmNl' },
    wechatpay: {
      appid: String(plaintext.appid ?? 'wx-unused'),
      mchid: String(plaintext.mchid),
      v2SignTypes: ['MD5'],
      apiV3Key,
      platformPublicKeys,
    },
  }
}

async function rejectionCode(promise: Promise<unknown>): Promise<RejectionCode | 'accepted'> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    return (error as { code: RejectionCode }).code
  }
}

/** The adapter's verdict on a vector (optionally with another body or clock). */
function verdict(vector: SignedNotify, merchant: MerchantConfig, options: { body?: string; now?: number } = {}) {
  const now = options.now ?? signedAt(vector)
  return rejectionCode(verifyNotification(wechatpayV3, raw(vector, options.body), merchant, now))
}

/** What a v3 vector's `expected_plaintext` holds, as far as these assertions read it. */
interface DecryptedResource {
  out_trade_no: string
  transaction_id: string
  success_time: string
  out_refund_no?: string
  refund_id?: string
  amount: { total: number; currency: string; refund?: number }
  [field: string]: unknown
}

function isoOf(rfc3339: unknown): string {
  return new Date(String(rfc3339)).toISOString().replace('.000Z', 'Z')
}

describe.skipIf(publicKeyMode === undefined)('reference: PUB_KEY_ID mode notifies (derived from SDK test keys)', () => {
  // Collected even when skipped: nothing here may assume the files exist.
  const vectors = publicKeyMode?.vectors ?? []
  const merchant = () => {
    const file = publicKeyMode!
    const payment = JSON.parse(vectors.find((v) => v.expect === 'valid')!.expected_plaintext!) as Record<string, unknown>
    return merchantFor(payment, file.apiv3_key, { [file.wechatpay_public_key_id]: file.wechatpay_public_key_pem })
  }

  for (const vector of vectors.filter((v) => v.expect === 'valid')) {
    it(`accepts ${vector.name} and reports the decrypted fields`, async () => {
      const plaintext = JSON.parse(vector.expected_plaintext!) as DecryptedResource
      const notification = await verifyNotification(wechatpayV3, raw(vector), merchant(), signedAt(vector))
      expect(notification.raw).toEqual(plaintext)
      expect(notification.notificationId).toBe((JSON.parse(vector.raw_body) as { id: string }).id)
      expect(notification.outTradeNo).toBe(plaintext.out_trade_no)
      if (notification.effect.kind === 'payment') {
        expect(notification.effect).toEqual({
          kind: 'payment',
          amount: plaintext.amount.total,
          currency: plaintext.amount.currency,
          transactionId: plaintext.transaction_id,
          paidAt: isoOf(plaintext.success_time),
        })
      } else {
        expect(notification.effect).toEqual({
          kind: 'refund',
          outcome: 'succeeded',
          outRefundNo: plaintext.out_refund_no,
          refundId: plaintext.refund_id,
          transactionId: plaintext.transaction_id,
          amount: plaintext.amount.refund,
          cumulativeRefunded: null,
          orderAmount: plaintext.amount.total,
          currency: 'CNY',
          refundedAt: isoOf(plaintext.success_time),
          payment: {
            amount: plaintext.amount.total,
            currency: 'CNY',
            currencyUnstated: true,
            transactionId: plaintext.transaction_id,
            paidAt: null,
          },
        })
      }
    })
  }

  for (const vector of vectors.filter((v) => v.expect === 'invalid')) {
    const probe = vector.headers['Wechatpay-Signature']!.startsWith('WECHATPAY/SIGNTEST/')
    const expected = probe ? 'signature_probe' : 'signature_invalid'
    it(`rejects ${vector.name} with ${expected}`, async () => {
      expect(await verdict(vector, merchant())).toBe(expected)
    })
  }
})

describe.skipIf(wechatpayGo === undefined)('reference: wechatpay-go notify (certificate serial, 16-byte APIv3 key)', () => {
  const setup = () => {
    const vector = wechatpayGo!
    const plaintext = JSON.parse(vector.expected_plaintext!) as DecryptedResource
    const keysBySerial = { [vector.headers['Wechatpay-Serial']!]: vector.platform_certificate_pem }
    return { vector, plaintext, keysBySerial, merchant: merchantFor(plaintext, vector.apiv3_key, keysBySerial) }
  }

  it('verifies the signature with the platform certificate named by the serial', async () => {
    const { vector, merchant } = setup()
    await expect(verifySignedMessage(readSignedMessage(raw(vector)), merchant.wechatpay, signedAt(vector))).resolves.toBeUndefined()
  })

  it('decrypts the resource (AES-128-GCM) and forwards its PAYSCORE event as a provider notification', async () => {
    const { vector, plaintext, keysBySerial, merchant } = setup()
    const notification = await verifyNotification(wechatpayV3, raw(vector), merchant, signedAt(vector))
    expect(notification).toMatchObject({
      notificationId: '3119dfba-e649-5eec-ab1e-3412bc4d2e17',
      outTradeNo: '',
      effect: { kind: 'other', notificationType: 'PAYSCORE.USER_OPEN_SERVICE', subjectId: null, occurredAt: '2021-06-24T08:37:26Z' },
      raw: plaintext,
    })
    // The verdict above needs the plaintext: another key cannot open it, another mchid does not match it.
    const wrongKey = merchantFor(plaintext, [...vector.apiv3_key].reverse().join(''), keysBySerial)
    expect(await verdict(vector, wrongKey)).toBe('decrypt_failed')
    const otherMchid = merchantFor({ ...plaintext, mchid: `${String(plaintext.mchid)}9` }, vector.apiv3_key, keysBySerial)
    expect(await verdict(vector, otherMchid)).toBe('merchant_mismatch')
  })

  it('rejects the same notify with one byte of the body changed', async () => {
    const { vector, merchant } = setup()
    const altered = vector.raw_body.replace('"summary":"', '"summary":" ')
    expect(altered).not.toBe(vector.raw_body)
    expect(await verdict(vector, merchant, { body: altered })).toBe('signature_invalid')
  })

  it('rejects it 301 s after it was signed', async () => {
    const { vector, merchant } = setup()
    expect(await verdict(vector, merchant, { now: signedAt(vector) + 301_000 })).toBe('stale_timestamp')
  })
})

describe.skipIf(yansongda === undefined)('reference: yansongda/pay notify with PHP-escaped slashes', () => {
  const setup = () => {
    const vector = yansongda!
    const keysBySerial = { [vector.headers['Wechatpay-Serial']!]: vector.verify_key_pem }
    return { vector, merchant: merchantFor({ mchid: 'unused' }, vector.apiv3_key, keysBySerial) }
  }

  it('verifies over the received bytes', async () => {
    const { vector, merchant } = setup()
    await expect(verifySignedMessage(readSignedMessage(raw(vector)), merchant.wechatpay, signedAt(vector))).resolves.toBeUndefined()
  })

  it('fails over the same JSON re-serialised', async () => {
    const { vector, merchant } = setup()
    const reserialised = JSON.stringify(JSON.parse(vector.raw_body))
    expect(reserialised).not.toBe(vector.raw_body)
    const signed = readSignedMessage(raw(vector, reserialised))
    expect(await rejectionCode(verifySignedMessage(signed, merchant.wechatpay, signedAt(vector)))).toBe('signature_invalid')
  })

  it('is not a notification envelope (no id or event_type), so the adapter refuses it as malformed', () => {
    const { vector } = setup()
    expect(() => wechatpayV3.parse(raw(vector))).toThrow(expect.objectContaining({ code: 'malformed_body' }))
  })
})
