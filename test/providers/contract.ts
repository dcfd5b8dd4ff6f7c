/**
 * @module The contract every channel adapter passes (after stripe-node's shared crypto-provider
 * suite): valid fixtures normalize to the expected notification; each hostile variant is refused
 * with its specific rejection code and the channel's reject reply.
 */
import { describe, expect, it } from 'vitest'
import { NotifyRejection, REJECTION_STATUS, type RejectionCode } from '../../src/providers/core/rejection'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import type { ChannelAdapter, RawNotification, VerifiedNotification } from '../../src/providers/core/types'

export interface ValidCase {
  name: string
  raw: RawNotification
  /** Compared with `toMatchObject`, so `raw` may be left out or partial. */
  expected: Partial<VerifiedNotification> & Pick<VerifiedNotification, 'outTradeNo' | 'effect'>
  merchant?: MerchantConfig
  now?: number
}

export interface RejectCase {
  name: string
  raw: RawNotification
  code: RejectionCode
  merchant?: MerchantConfig
  now?: number
}

/** The hostile inputs every channel must cover; channels add their own on top (`extra`). */
export type CommonRejection =
  | 'tampered body'
  | 'wrong key'
  | 'missing signature'
  | 'algorithm mismatch'
  | 'wrong merchant identity'
  | 'malformed body'

export interface ChannelKit {
  adapter: ChannelAdapter
  merchant: MerchantConfig
  /** The clock the fixtures were signed for (ms since epoch). */
  now: number
  valid: ValidCase[]
  common: Record<CommonRejection, RejectCase | RejectCase[]>
  extra: RejectCase[]
  /** Checks the body of the channel's accept and reject replies (contract.md). */
  assertAcceptReply(response: Response): Promise<void>
  assertRejectReply(response: Response): Promise<void>
}

/** Codes of refusals before a signature verified (or a payload decrypted): they never name an order. */
const BEFORE_VERIFICATION: readonly RejectionCode[] = [
  'missing_signature',
  'signature_invalid',
  'signature_probe',
  'sign_type_not_allowed',
  'stale_timestamp',
  'unknown_serial',
  'certificate_expired',
  'xml_entities',
  'decrypt_failed',
]

async function rejectionOf(promise: Promise<unknown>): Promise<NotifyRejection> {
  try {
    await promise
  } catch (error) {
    if (error instanceof NotifyRejection) return error
    throw new Error(`expected a NotifyRejection, got ${String(error)}`)
  }
  throw new Error('expected a rejection, but the notification was accepted')
}

export function runChannelContract(kit: ChannelKit): void {
  const { adapter } = kit

  describe(`${adapter.channel} adapter contract`, () => {
    for (const c of kit.valid) {
      it(`accepts and normalizes: ${c.name}`, async () => {
        const notification = await verifyNotification(adapter, c.raw, c.merchant ?? kit.merchant, c.now ?? kit.now)
        expect(notification.channel).toBe(adapter.channel)
        expect(notification.provider).toBe(adapter.provider)
        expect(notification.notificationId).toMatch(/\S/)
        expect(notification).toMatchObject(c.expected)
      })
    }

    const rejections = [
      ...Object.entries(kit.common).flatMap(([kind, cases]) =>
        (Array.isArray(cases) ? cases : [cases]).map((c) => ({ ...c, name: `${kind}: ${c.name}` })),
      ),
      ...kit.extra,
    ]
    for (const c of rejections) {
      it(`rejects with ${c.code}: ${c.name}`, async () => {
        const error = await rejectionOf(verifyNotification(adapter, c.raw, c.merchant ?? kit.merchant, c.now ?? kit.now))
        expect(error.code).toBe(c.code)
        expect(error.status).toBe(REJECTION_STATUS[c.code])
        // Refused before its signature verified: whatever order it names is the sender's, never recorded.
        if (BEFORE_VERIFICATION.includes(c.code)) expect(error.outTradeNo).toBeNull()
        const reply = adapter.reject(error)
        expect(reply.status).toBe(error.status)
        await kit.assertRejectReply(reply)
      })
    }

    it('replies to an accepted notification as the provider expects', async () => {
      await kit.assertAcceptReply(adapter.accept())
    })
  })
}

export function rawNotification(body: string | Uint8Array, headers: Record<string, string> = {}, receivedAt = Date.now()): RawNotification {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body)
  return { body: bytes as Uint8Array<ArrayBuffer>, headers: new Headers(headers), receivedAt }
}
