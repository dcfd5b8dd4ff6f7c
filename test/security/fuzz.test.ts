/**
 * Fuzzing every provider channel with fast-check. Inputs are the signed fixtures (valid and hostile),
 * mutated at the byte level (bit flips, truncation, deletion, insertion, duplication), at the field
 * level (fields removed, added, changed, repeated, reordered, re-encoded) and in their headers (removed,
 * renamed in another case, changed, added), plus purely random bodies and headers. Two properties:
 *
 *   - the adapters never throw anything but a `NotifyRejection`, and each rejection renders as the
 *     channel's own reject reply;
 *   - anything accepted is exactly what a genuine, unmodified notification says (same notification id,
 *     order, effect and fields), or an unsigned WeChat v2 `return_code=FAIL`, which names no order
 *     and changes nothing.
 *
 * The adapters are driven directly (`verifyNotification`) for speed; a smaller share goes through the
 * real Worker, whose reply must be exactly what the adapter's verdict calls for, and after which no
 * order has gained an event. `npm test` runs a few hundred cases per channel; `npm run fuzz` runs the
 * same file with 10,000 per channel (vitest.fuzz.config.ts provides `fuzzRuns`).
 */
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { NotifyRejection, REJECTION_STATUS } from '../../src/providers/core/rejection'
import { parseMerchantInput } from '../../src/merchants/schema'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { defaultRegistry, type Channel } from '../../src/providers'
import { CHANNELS as ALL_CHANNELS } from '../support/providers'
import type { ChannelAdapter, VerifiedNotification } from '../../src/providers/core/types'
import {
  ACCEPT,
  drainOutbox,
  merchantBody,
  notify,
  orderState,
  PROVIDER_OF,
  recordForwarded,
  registerFixtureMerchant,
  type ForwardedCall,
} from './harness'

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExportsInTest: augments vitest's ProvidedContext next to its only reader
  export interface ProvidedContext {
    /** Cases per channel through the adapters; set by vitest.fuzz.config.ts for the long run. */
    fuzzRuns: number
  }
}

const ADAPTER_RUNS = inject('fuzzRuns') ?? 300
/** Through the Worker: slower (HTTP routing, D1, Durable Objects), so a tenth of the adapter runs. */
const WORKER_RUNS = Math.max(40, Math.floor(ADAPTER_RUNS / 10))
const CHANNELS: readonly Channel[] = ALL_CHANNELS
const MERCHANT_ID = 'fuzz'

// --- inputs --------------------------------------------------------------------------------------

interface Input {
  body: Uint8Array<ArrayBuffer>
  headers: [string, string][]
}

const encoder = new TextEncoder()
const utf8 = (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(encoder.encode(text))
const latin1 = (bytes: Uint8Array): string => Array.from(bytes, (b) => String.fromCharCode(b)).join('')
const fromLatin1 = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff)

function corpusOf(channel: Channel): Input[] {
  const cases: Record<string, { body?: string; bodyBase64?: string; headers?: Record<string, string> }> =
    channel === 'wechatpay.v2' ? v2Fixtures.cases : channel === 'wechatpay.v3' ? v3Fixtures.cases : alipayFixtures.cases
  const contentType =
    channel === 'alipay' ? 'application/x-www-form-urlencoded' : channel === 'wechatpay.v2' ? 'text/xml' : 'application/json'
  return Object.values(cases).map((fixture) => ({
    body: fixture.bodyBase64 !== undefined ? fromLatin1(atob(fixture.bodyBase64)) : utf8(fixture.body ?? ''),
    headers: [['content-type', contentType], ...Object.entries(fixture.headers ?? {})],
  }))
}

const CORPUS: Record<Channel, Input[]> = {
  'wechatpay.v2': corpusOf('wechatpay.v2'),
  'wechatpay.v3': corpusOf('wechatpay.v3'),
  alipay: corpusOf('alipay'),
}

/** Field names worth trying: the ones each channel signs or routes on, and prototype names. */
const FIELD_NAMES = [
  'sign',
  'sign_type',
  'return_code',
  'result_code',
  'out_trade_no',
  'total_fee',
  'cash_fee',
  'appid',
  'mch_id',
  'req_info',
  'total_amount',
  'trade_status',
  'notify_type',
  'notify_id',
  'charset',
  'app_id',
  'seller_id',
  'refund_fee',
  'id',
  'event_type',
  'resource',
  'ciphertext',
  'algorithm',
  'nonce',
  'associated_data',
  '__proto__',
  'constructor',
  'toString',
  'x',
]
const INTERESTING_VALUES = [
  '',
  '0',
  '1',
  '-1',
  '100',
  '1.00',
  '0.01',
  '88.88',
  '9'.repeat(30),
  'SUCCESS',
  'FAIL',
  'TRADE_SUCCESS',
  'MD5',
  'HMAC-SHA256',
  'RSA',
  'RSA2',
  'gbk',
  'big5',
  'T20251124001',
  '&amp;',
  '&lt;',
  '&#0;',
  '&nbsp;',
  '<![CDATA[x]]>',
  ']]>',
  '<x/>',
  '%00',
  '%',
  '%E',
  '+',
  ' ',
  '\t',
  '%20',
  '\u0000',
  '\uFFFF',
  '😀',
  '__proto__',
  '{}',
  '[]',
  'null',
  'x'.repeat(2000),
]
const BLANK_VALUES = ['', ' ', '+', '%20', '%09', '\t', '<![CDATA[]]>', '<![CDATA[ ]]>', '""', '" "']
const HEADER_NAMES = [
  'Wechatpay-Timestamp',
  'Wechatpay-Nonce',
  'Wechatpay-Signature',
  'Wechatpay-Serial',
  'Wechatpay-Signature-Type',
  'content-type',
  'x-forwarded-for',
]
const HEADER_VALUES = [
  '',
  '0',
  '1764000000',
  '1764000300',
  '1763999699',
  '-1',
  '1e9',
  'WECHATPAY2-SHA256-RSA2048',
  'WECHATPAY2-SM2-WITH-SM3',
  'WECHATPAY/SIGNTEST/x',
  'constructor',
  '__proto__',
  'PUB_KEY_ID_0119000001092025112500000000000001',
  '3BCC86AE71787A7B72B4C53E6F1115DE9BA745FE',
  '429b47c280735f72dbc2025dca353a68dee8974b',
  'text/xml; charset=gbk',
]

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))
const printableText = fc.array(printable, { maxLength: 24 }).map((chars) => chars.join(''))
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INTERESTING_VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: printableText },
)
const headerValue = fc.oneof(fc.constantFrom(...HEADER_VALUES), printableText)

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'insertText'; at: number; text: string }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'removeField'; index: number }
  | { op: 'addField'; index: number; name: string; value: string }
  | { op: 'setField'; index: number; value: string }
  | { op: 'repeatField'; index: number }
  | { op: 'swapFields'; a: number; b: number }
  | { op: 'reencode'; index: number }
  | { op: 'removeHeader'; index: number }
  | { op: 'recaseHeader'; index: number; upper: boolean }
  | { op: 'setHeader'; name: string; value: string }
  | { op: 'editHeader'; index: number; at: number; text: string; truncate: boolean }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ op: fc.constant('insertText' as const), at: fc.nat(), text: fieldValue }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('removeField' as const), index: fc.nat() }),
  fc.record({
    op: fc.constant('addField' as const),
    index: fc.nat(),
    name: fc.oneof(fc.constantFrom(...FIELD_NAMES), printableText),
    value: fieldValue,
  }),
  fc.record({ op: fc.constant('setField' as const), index: fc.nat(), value: fieldValue }),
  // Blank fields are left out of every sign content: adding one must change nothing that is accepted.
  fc.record({
    op: fc.constant('addField' as const),
    index: fc.nat(),
    name: fc.constantFrom(...FIELD_NAMES),
    value: fc.constantFrom(...BLANK_VALUES),
  }),
  fc.record({ op: fc.constant('repeatField' as const), index: fc.nat() }),
  fc.record({ op: fc.constant('swapFields' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('reencode' as const), index: fc.nat() }),
  fc.record({ op: fc.constant('removeHeader' as const), index: fc.nat() }),
  fc.record({ op: fc.constant('recaseHeader' as const), index: fc.nat(), upper: fc.boolean() }),
  fc.record({ op: fc.constant('setHeader' as const), name: fc.constantFrom(...HEADER_NAMES), value: headerValue }),
  fc.record({ op: fc.constant('editHeader' as const), index: fc.nat(), at: fc.nat(), text: printableText, truncate: fc.boolean() }),
)

/** A flat view of a body's fields, rebuilt after a field-level mutation; null when the body has none. */
interface FieldView {
  fields: [string, string][]
  build(fields: [string, string][]): string
  reencode(value: string): string
}

function fieldView(channel: Channel, text: string): FieldView | null {
  switch (channel) {
    case 'wechatpay.v2': {
      const root = /^\s*<(xml|root)>([\s\S]*)<\/\1>\s*$/.exec(text)
      if (root === null) return null
      const fields = [...root[2]!.matchAll(/<([^<>/\s]+)>([\s\S]*?)<\/\1>/g)].map((m): [string, string] => [m[1]!, m[2]!])
      return {
        fields,
        build: (next) => `<${root[1]}>${next.map(([name, value]) => `<${name}>${value}</${name}>`).join('\n')}</${root[1]}>`,
        // CDATA and plain text carry the same value: the signature must not care which one was used.
        reencode: (value) => (value.startsWith('<![CDATA[') ? value.slice(9, -3) : `<![CDATA[${value}]]>`),
      }
    }
    case 'alipay': {
      const fields = text.split('&').map((pair): [string, string] => {
        const at = pair.indexOf('=')
        return at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
      })
      return {
        fields,
        build: (next) => next.map(([name, value]) => `${name}=${value}`).join('&'),
        // The same bytes, every one percent-encoded: what is signed is the decoded value.
        reencode: (value) => Array.from(value, (c) => (c === '%' ? c : `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join(''),
      }
    }
    case 'wechatpay.v3': {
      let envelope: unknown
      try {
        envelope = JSON.parse(new TextDecoder().decode(fromLatin1(text)))
      } catch {
        return null
      }
      if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return null
      const object = envelope as Record<string, unknown>
      const resource = typeof object.resource === 'object' && object.resource !== null ? (object.resource as Record<string, unknown>) : {}
      const fields: [string, string][] = [
        ...Object.entries(object)
          .filter(([name]) => name !== 'resource')
          .map(([name, value]): [string, string] => [name, JSON.stringify(value)]),
        ...Object.entries(resource).map(([name, value]): [string, string] => [`resource.${name}`, JSON.stringify(value)]),
      ]
      return {
        fields,
        build: (next) => {
          const rebuilt: Record<string, unknown> = {}
          const nested: Record<string, unknown> = {}
          for (const [name, value] of next) {
            let parsed: unknown
            try {
              parsed = JSON.parse(value)
            } catch {
              parsed = value
            }
            if (name.startsWith('resource.')) nested[name.slice(9)] = parsed
            else rebuilt[name] = parsed
          }
          if (Object.keys(nested).length > 0) rebuilt.resource = nested
          return latin1(utf8(JSON.stringify(rebuilt)))
        },
        reencode: (value) => value,
      }
    }
  }
}

function clampIndex(index: number, length: number): number {
  return length === 0 ? 0 : index % length
}

function mutate(channel: Channel, input: Input, m: Mutation): Input {
  const bytes = input.body
  const at = (n: number, extra = 0) => clampIndex(n, bytes.length + extra)
  const withBody = (body: Uint8Array): Input => ({ ...input, body: Uint8Array.from(body) })
  switch (m.op) {
    case 'flip': {
      if (bytes.length === 0) return input
      const body = Uint8Array.from(bytes)
      body[at(m.at)]! ^= 1 << m.bit
      return withBody(body)
    }
    case 'truncate':
      return withBody(bytes.subarray(0, at(m.at)))
    case 'delete': {
      const from = at(m.at)
      return withBody(new Uint8Array([...bytes.subarray(0, from), ...bytes.subarray(from + m.length)]))
    }
    case 'insert':
    case 'insertText': {
      const from = at(m.at, 1)
      const inserted = m.op === 'insert' ? m.bytes : utf8(m.text)
      return withBody(new Uint8Array([...bytes.subarray(0, from), ...inserted, ...bytes.subarray(from)]))
    }
    case 'duplicate': {
      const from = at(m.at)
      const slice = bytes.subarray(from, from + m.length)
      return withBody(new Uint8Array([...bytes.subarray(0, from), ...slice, ...bytes.subarray(from)]))
    }
    case 'removeField':
    case 'addField':
    case 'setField':
    case 'repeatField':
    case 'swapFields':
    case 'reencode': {
      const view = fieldView(channel, latin1(bytes))
      if (view === null) return input
      const fields = [...view.fields]
      const i = clampIndex('index' in m ? m.index : m.a, fields.length)
      if (m.op === 'addField') {
        fields.splice(clampIndex(m.index, fields.length + 1), 0, [m.name, latin1(utf8(m.value))])
      } else if (fields.length === 0) {
        return input
      } else if (m.op === 'removeField') {
        fields.splice(i, 1)
      } else if (m.op === 'setField') {
        fields[i] = [fields[i]![0], channel === 'wechatpay.v3' ? JSON.stringify(m.value) : latin1(utf8(m.value))]
      } else if (m.op === 'repeatField') {
        fields.splice(i, 0, fields[i]!)
      } else if (m.op === 'swapFields') {
        const j = clampIndex(m.b, fields.length)
        ;[fields[i], fields[j]] = [fields[j]!, fields[i]!]
      } else {
        fields[i] = [fields[i]![0], view.reencode(fields[i]![1])]
      }
      return withBody(fromLatin1(view.build(fields)))
    }
    case 'removeHeader': {
      const headers = [...input.headers]
      headers.splice(clampIndex(m.index, headers.length), 1)
      return { ...input, headers }
    }
    case 'recaseHeader': {
      if (input.headers.length === 0) return input
      const headers = [...input.headers]
      const i = clampIndex(m.index, headers.length)
      const [name, value] = headers[i]!
      headers[i] = [m.upper ? name.toUpperCase() : name.toLowerCase(), value]
      return { ...input, headers }
    }
    case 'setHeader': {
      const headers = input.headers.filter(([name]) => name.toLowerCase() !== m.name.toLowerCase())
      return { ...input, headers: [...headers, [m.name, m.value]] }
    }
    case 'editHeader': {
      if (input.headers.length === 0) return input
      const headers = [...input.headers]
      const i = clampIndex(m.index, headers.length)
      const [name, value] = headers[i]!
      const cut = clampIndex(m.at, value.length + 1)
      headers[i] = [name, m.truncate ? value.slice(0, cut) : `${value.slice(0, cut)}${m.text}${value.slice(cut)}`]
      return { ...input, headers }
    }
  }
}

const randomInput: fc.Arbitrary<Input> = fc
  .record({
    body: fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      fc.string({ maxLength: 512 }).map((text) => utf8(text)),
      fc
        .array(fc.tuple(fc.constantFrom(...FIELD_NAMES), fieldValue), { maxLength: 12 })
        .map((pairs) => utf8(pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
      fc
        .array(fc.tuple(fc.constantFrom(...FIELD_NAMES), fieldValue), { maxLength: 12 })
        .map((pairs) => utf8(`<xml>${pairs.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</xml>`)),
      fc.json({ maxDepth: 3 }).map((json) => utf8(json)),
    ),
    headers: fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 6 }),
  })
  .map(({ body, headers }) => ({ body: Uint8Array.from(body), headers }))

/**
 * Mostly mutations of genuine notifications (the inputs closest to being accepted), then of any
 * fixture, then random inputs, and the fixtures unmodified.
 */
function inputs(channel: Channel): fc.Arbitrary<Input> {
  const corpus = fc.constantFrom(...CORPUS[channel])
  const mutated = (base: fc.Arbitrary<Input>) =>
    fc
      .tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([input, ms]) => ms.reduce((next, m) => mutate(channel, next, m), input))
  return fc.oneof(
    { weight: 10, arbitrary: mutated(fc.constantFrom(...genuineInputs[channel])) },
    { weight: 6, arbitrary: mutated(corpus) },
    { weight: 3, arbitrary: randomInput },
    { weight: 1, arbitrary: corpus },
  )
}

// --- the oracle: what the adapter says about an input -----------------------------------------------

type Verdict = { kind: 'accepted'; notification: VerifiedNotification } | { kind: 'rejected'; error: NotifyRejection }

let merchant: MerchantConfig

function clockFor(channel: Channel): number {
  return channel === 'wechatpay.v3' ? v3Fixtures.now : Date.now()
}

function headersOf(input: Input): Headers {
  return new Headers(input.headers)
}

async function verdictOf(channel: Channel, input: Input): Promise<Verdict> {
  const now = clockFor(channel)
  try {
    const adapter: ChannelAdapter = defaultRegistry.channel(channel)!
    const notification = await verifyNotification(adapter, { body: input.body, headers: headersOf(input), receivedAt: now }, merchant, now)
    return { kind: 'accepted', notification }
  } catch (error) {
    // Anything else escaping an adapter is the bug this file looks for.
    if (error instanceof NotifyRejection) return { kind: 'rejected', error }
    throw error
  }
}

/** What an accepted notification says, independent of field order, encoding and empty fields. */
function meaning(notification: VerifiedNotification): string {
  const nonEmpty = Object.fromEntries(Object.entries(notification.raw).filter(([, value]) => value !== ''))
  return canonicalJson({
    channel: notification.channel,
    id: notification.notificationId,
    order: notification.outTradeNo,
    effect: notification.effect,
    raw: nonEmpty,
  })
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'undefined'
}

/** An unsigned v2 `return_code=FAIL`: accepted by contract, names no order, changes nothing. */
function isUnsignedNoOp(notification: VerifiedNotification): boolean {
  return notification.channel === 'wechatpay.v2' && notification.outTradeNo === '' && notification.effect.kind === 'none'
}

/** The meaning of every genuine fixture: the only things an accepted input may say. */
const genuine: Record<Channel, Set<string>> = { 'wechatpay.v2': new Set(), 'wechatpay.v3': new Set(), alipay: new Set() }
/** The genuine, order-bound fixtures, sent once through the Worker before its fuzz run. */
const genuineInputs: Record<Channel, Input[]> = { 'wechatpay.v2': [], 'wechatpay.v3': [], alipay: [] }

function expectRejectReply(channel: Channel, error: NotifyRejection, response: Response, body: string): void {
  expect(response.status).toBe(REJECTION_STATUS[error.code])
  switch (channel) {
    case 'wechatpay.v2':
      expect(body).toMatch(
        /^<xml><return_code><!\[CDATA\[FAIL\]\]><\/return_code><return_msg><!\[CDATA\[[^\]]{1,200}\]\]><\/return_msg><\/xml>$/,
      )
      break
    case 'wechatpay.v3': {
      const parsed = JSON.parse(body) as { code: string; message: string }
      expect(Object.keys(parsed)).toEqual(['code', 'message'])
      expect(parsed.code).toBe('FAIL')
      expect(parsed.message.length).toBeGreaterThan(0)
      expect(parsed.message.length).toBeLessThanOrEqual(64)
      break
    }
    case 'alipay':
      expect(body).toBe('failure')
  }
}

/**
 * Each fixture with its unsigned labels put right. What a provider's key covers is the provider's word
 * even when a fixture dresses it up as hostile with something the key does not cover, and a fuzzer
 * that strips that dressing has found nothing:
 *   - WeChat v2 refunds are authenticated by `req_info` decrypting under the APIv2 key alone; the
 *     envelope (a stray `sign`, another mch_id) is unsigned. Here: the same `req_info` in a plain
 *     envelope that names the merchant.
 *   - WeChat v3 `Wechatpay-Signature-Type` is a label outside the signed message (absent means RSA).
 *   - Alipay `sign_type` is left out of the trade sign content; it must name the merchant's algorithm.
 */
function withLabelsPutRight(channel: Channel, input: Input): Input[] {
  switch (channel) {
    case 'wechatpay.v2': {
      const reqInfo = /<req_info>(?:<!\[CDATA\[)?([A-Za-z0-9+/=]+)/.exec(latin1(input.body))?.[1]
      if (reqInfo === undefined) return []
      const body = `<xml><return_code>SUCCESS</return_code><appid>${merchant.wechatpay!.appid}</appid><mch_id>${merchant.wechatpay!.mchid}</mch_id><req_info>${reqInfo}</req_info></xml>`
      return [{ body: utf8(body), headers: input.headers }]
    }
    case 'wechatpay.v3':
      return [{ body: input.body, headers: input.headers.filter(([name]) => name.toLowerCase() !== 'wechatpay-signature-type') }]
    case 'alipay': {
      const pairs = latin1(input.body)
        .split('&')
        .filter((pair) => !pair.startsWith('sign_type='))
      return [{ body: fromLatin1([...pairs, `sign_type=${merchant.alipay!.signType}`].join('&')), headers: input.headers }]
    }
  }
}

beforeAll(async () => {
  merchant = { id: MERCHANT_ID, ...(await parseMerchantInput(merchantBody(MERCHANT_ID), { allowLoopback: false })) }
  for (const channel of CHANNELS) {
    for (const input of [...CORPUS[channel], ...CORPUS[channel].flatMap((fixture) => withLabelsPutRight(channel, fixture))]) {
      const verdict = await verdictOf(channel, input)
      if (verdict.kind !== 'accepted') continue
      genuine[channel].add(meaning(verdict.notification))
      if (!isUnsignedNoOp(verdict.notification)) genuineInputs[channel].push(input)
    }
  }
})

afterEach(() => vi.useRealTimers())

describe('fuzzing the channel adapters', () => {
  it('the fixtures include genuine notifications for every channel, so acceptance is reachable', () => {
    for (const channel of CHANNELS) expect(genuine[channel].size).toBeGreaterThanOrEqual(5)
  })

  for (const channel of CHANNELS) {
    it(`${channel}: ${ADAPTER_RUNS} mutated and random inputs never crash the adapter and are accepted only when genuine`, async () => {
      const adapter = defaultRegistry.channel(channel)!
      const seen = { accepted: 0, rejected: 0 }
      await fc.assert(
        fc.asyncProperty(inputs(channel), async (input) => {
          const verdict = await verdictOf(channel, input)
          if (verdict.kind === 'accepted') {
            seen.accepted += 1
            if (!isUnsignedNoOp(verdict.notification)) expect(genuine[channel]).toContain(meaning(verdict.notification))
            return
          }
          seen.rejected += 1
          expect(Object.keys(REJECTION_STATUS)).toContain(verdict.error.code)
          const reply = adapter.reject(verdict.error)
          expectRejectReply(channel, verdict.error, reply, await reply.text())
        }),
        { numRuns: ADAPTER_RUNS },
      )
      // Both outcomes were exercised, or the property said little.
      expect(seen.accepted).toBeGreaterThan(0)
      expect(seen.rejected).toBeGreaterThan(seen.accepted)
    })
  }
})

describe('fuzzing through the Worker', () => {
  const forwarded: ForwardedCall[] = []

  for (const channel of CHANNELS) {
    it(`${channel}: ${WORKER_RUNS} mutated and random notifications get the reply the adapter calls for, and no order gains an event`, async () => {
      recordForwarded(forwarded)
      if (channel === 'wechatpay.v3') {
        vi.useFakeTimers({ toFake: ['Date'] })
        vi.setSystemTime(v3Fixtures.now)
      }
      const merchantId = `${MERCHANT_ID}-${channel.replace('.', '')}`
      await registerFixtureMerchant(merchantId)
      const provider = PROVIDER_OF[channel]

      // The genuine notifications first: afterwards every acceptance can only be a duplicate.
      const orders = new Set<string>()
      for (const input of genuineInputs[channel]) {
        const response = await notify(channel, merchantId, { body: input.body, headers: Object.fromEntries(input.headers) })
        expect(response.status).toBe(ACCEPT[channel].status)
        const verdict = await verdictOf(channel, input)
        if (verdict.kind === 'accepted') orders.add(verdict.notification.outTradeNo)
      }
      const before = new Map<string, unknown>()
      for (const order of orders) {
        await drainOutbox(merchantId, provider, order)
        before.set(order, await orderState(merchantId, provider, order))
      }
      const forwardedBefore = forwarded.length

      await fc.assert(
        fc.asyncProperty(inputs(channel), async (input) => {
          const verdict = await verdictOf(channel, input)
          const response = await notify(channel, merchantId, { body: input.body, headers: Object.fromEntries(headersOf(input)) })
          const body = await response.text()
          if (verdict.kind === 'accepted') {
            expect({ status: response.status, body }).toEqual(ACCEPT[channel])
          } else {
            expect({ status: response.status, body }).toEqual({
              status: REJECTION_STATUS[verdict.error.code],
              body: await defaultRegistry.channel(channel)!.reject(verdict.error).text(),
            })
          }
        }),
        { numRuns: WORKER_RUNS },
      )

      for (const order of orders) {
        await drainOutbox(merchantId, provider, order)
        expect(await orderState(merchantId, provider, order)).toEqual(before.get(order))
      }
      expect(forwarded.slice(forwardedBefore).filter((call) => call.merchantId === merchantId)).toEqual([])
    })
  }
})
