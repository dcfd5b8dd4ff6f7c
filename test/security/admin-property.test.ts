/**
 * A property of the whole admin API surface an outsider with the token can reach for orders: any path
 * value and any JSON body gets a 2xx or a 4xx with the error shape, never a 500; and an order the API
 * accepted under a value is always found again under that same value.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { admin, registerMerchant } from './harness'

const M = 'admin-property'
const RUNS = 80

const SPECIALS = [
  '.',
  '..',
  '%',
  '%2F',
  '%00',
  '/',
  '?',
  '#',
  '\\',
  '"',
  "'",
  '|',
  '*',
  ' ',
  '\u0000',
  '\n',
  '\u007f',
  '\u0085',
  '订单',
  '😀',
  '\ud800',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
]

/** Order numbers as an attacker would pick them: any text, the characters that break paths, prototype names, long ones. */
const pathValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.array(fc.constantFrom(...SPECIALS), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
  fc.tuple(fc.constantFrom(...SPECIALS), fc.string({ maxLength: 10 })).map(([a, b]) => `${b}${a}${b}`),
  fc.nat({ max: 200 }).map((n) => 'x'.repeat(n)),
)

const channelName = fc.oneof(
  fc.constantFrom('wechatpay', 'alipay', 'wechatpay.v2', 'wechatpay.v3', 'constructor', '__proto__'),
  fc.string({ maxLength: 12 }),
)
/** Registrations that should succeed whatever the order number: most runs take this branch. */
const validBody = fc.record(
  { amount: fc.integer({ min: 1, max: 1_000_000 }), currency: fc.constant('CNY'), channel: fc.constantFrom('wechatpay.v3', 'alipay') },
  { requiredKeys: ['amount'] },
)
const orderBody = fc.oneof(
  { arbitrary: validBody, weight: 4 },
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      amount: fc.oneof(fc.integer({ min: -10, max: 1_000_000 }), fc.double(), fc.string({ maxLength: 6 }), fc.constant(null)),
      currency: fc.oneof(fc.constantFrom('CNY', 'USD', 'cny', 'toString'), fc.string({ maxLength: 4 })),
      channel: channelName,
      provider: channelName,
      expires_at: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string({ maxLength: 30 }),
      ),
    },
    { requiredKeys: [] },
  ),
)

/**
 * The path segment a client sends for `value`. A lone surrogate has no UTF-8 form: such a value goes out as
 * the three bytes a careless encoder (WTF-8) would write, which the gateway must refuse, not crash on.
 */
function pathSegment(value: string): string {
  let out = ''
  for (const char of value) {
    const unit = char.charCodeAt(0)
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('')
    } else out += encodeURIComponent(char)
  }
  return out
}

async function expectHandled(response: Response, what: string): Promise<unknown> {
  const text = await response.text()
  expect(response.status, `${what} → ${response.status} ${text}`).toBeLessThan(500)
  expect(response.status, what).toBeGreaterThanOrEqual(200)
  const body = JSON.parse(text) as unknown
  if (response.status >= 400) expect(body, what).toEqual({ error: { code: expect.any(String), message: expect.any(String) } })
  return body
}

describe('admin API: any path value, any JSON body', () => {
  beforeAll(async () => {
    await registerMerchant(M)
  })

  it('answers 2xx or a 4xx with the error shape, and GET finds every order PUT accepted', async () => {
    await fc.assert(
      fc.asyncProperty(pathValue, orderBody, fc.boolean(), async (value, body, rawText) => {
        const path = `/admin/merchants/${M}/orders/${pathSegment(value)}`
        const sent = rawText ? `{"amount": 100, "channel": ${JSON.stringify(value)}` : JSON.stringify(body)
        const put = await admin(path, { method: 'PUT', body: sent })
        const created = (await expectHandled(put, `PUT ${JSON.stringify(value)} ${sent}`)) as { out_trade_no?: string }
        const got = await admin(path)
        const view = (await expectHandled(got, `GET ${JSON.stringify(value)}`)) as { out_trade_no?: string }
        if (put.status === 200) {
          expect(created.out_trade_no).toBe(value)
          expect(got.status, `GET after PUT of ${JSON.stringify(value)}`).toBe(200)
          expect(view.out_trade_no).toBe(value)
        }
        const listed = await admin(`/admin/merchants/${M}/notifications?out_trade_no=${pathSegment(value)}`)
        await expectHandled(listed, `notifications?out_trade_no=${JSON.stringify(value)}`)
      }),
      { numRuns: RUNS },
    )
  })
})
