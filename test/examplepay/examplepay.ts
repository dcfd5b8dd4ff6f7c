/**
 * @module "examplepay", a provider that exists only in the tests: JSON notifications signed with
 * HMAC-SHA256 (hex, in `X-Examplepay-Signature`) under a per-merchant secret. Written against the
 * public provider interface (`src/providers`), it proves that a provider is one descriptor: nothing
 * under src/ names it.
 */
import * as z from 'zod'
import { fail, objectAt, stringAt, strictObject } from '../../src/lib/validation'
import {
  defineProvider,
  refuse,
  type ChannelAdapter,
  type NotifyRejection,
  type RawNotification,
  type VerifiedNotification,
} from '../../src/providers'

export interface ExamplepayConfig {
  merchantNo: string
  /** The HMAC key; a secret, so sealed at rest and never shown. */
  signingSecret: string
}

interface ExamplepayWire {
  body: Uint8Array<ArrayBuffer>
  signature: string
  fields: Record<string, unknown>
}

const SIGNATURE_HEADER = 'x-examplepay-signature'

function text(fields: Record<string, unknown>, name: string): string {
  const value = fields[name]
  return typeof value === 'string' && value !== '' ? value : refuse('malformed_body', `${name} is missing`)
}

async function hmacHex(secret: string, body: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, body))
  return new TextEncoder().encode([...mac].map((b) => b.toString(16).padStart(2, '0')).join(''))
}

function configOf(config: ExamplepayConfig | undefined): ExamplepayConfig {
  return config ?? refuse('channel_not_configured', 'examplepay is not configured for this merchant')
}

export const examplepayNotify: ChannelAdapter<ExamplepayConfig, ExamplepayWire, ExamplepayWire, 'examplepay'> = {
  channel: 'examplepay',
  provider: 'examplepay',
  path: 'examplepay',

  parse(raw: RawNotification): ExamplepayWire {
    const signature = raw.headers.get(SIGNATURE_HEADER)
    if (signature === null || signature === '') refuse('missing_signature', 'no X-Examplepay-Signature')
    let fields: unknown
    try {
      fields = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw.body))
    } catch {
      return refuse('malformed_body', 'body is not UTF-8 JSON')
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) refuse('malformed_body', 'body is not a JSON object')
    return { body: raw.body, signature, fields: fields as Record<string, unknown> }
  },

  async verify(wire, section) {
    const config = configOf(section)
    const expected = await hmacHex(config.signingSecret, wire.body)
    const given = new TextEncoder().encode(wire.signature.toLowerCase())
    if (given.byteLength !== expected.byteLength || !crypto.subtle.timingSafeEqual(given, expected)) {
      refuse('signature_invalid', 'examplepay signature does not verify')
    }
    return wire
  },

  async normalize(wire, section): Promise<VerifiedNotification> {
    const config = configOf(section)
    const { fields } = wire
    if (text(fields, 'merchant_no') !== config.merchantNo) refuse('merchant_mismatch', 'merchant_no does not belong to this merchant')
    if (text(fields, 'status') !== 'PAID') refuse('unsupported_event', 'only PAID is supported')
    const amount = fields.amount
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) refuse('malformed_body', 'amount is not fen')
    return {
      channel: 'examplepay',
      provider: 'examplepay',
      notificationId: text(fields, 'id'),
      outTradeNo: text(fields, 'out_trade_no'),
      effect: { kind: 'payment', amount, currency: 'CNY', transactionId: text(fields, 'transaction_id'), paidAt: text(fields, 'paid_at') },
      raw: fields,
    }
  },

  accept: () => Response.json({ ok: true }),
  reject: (error: NotifyRejection) => Response.json({ ok: false, reason: error.code }, { status: error.status }),
}

export const examplepay = defineProvider({
  provider: 'examplepay',
  channels: [examplepayNotify],
  config: {
    schema: strictObject({ merchantNo: z.string(), signingSecret: z.string() }),
    async parse(value): Promise<ExamplepayConfig> {
      const section = objectAt(value, 'examplepay', ['merchantNo', 'signingSecret'])
      const merchantNo = stringAt(section.merchantNo, 'examplepay.merchantNo')
      const signingSecret = stringAt(section.signingSecret, 'examplepay.signingSecret')
      if (signingSecret.length < 16) fail('examplepay.signingSecret', 'must be at least 16 characters')
      return { merchantNo, signingSecret }
    },
    secretFields: ['signingSecret'],
    publicView: (config) => ({ merchantNo: config.merchantNo }),
    inputView: (config) => ({ ...config }),
  },
  queries: [],
})
