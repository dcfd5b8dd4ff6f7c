/**
 * @module What `npm run simulate` sends, through the real gateway in workerd: the notifications are built by
 * scripts/lib/build-notification.mjs in test/simulate/global-setup.mjs (Node) on every run, so the tool cannot rot.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { http, HttpResponse, passthrough } from 'msw'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import type { OrderEvent } from '../../src/order/events'
import { orderStub } from '../../src/order/order-key'
import { subjectStub } from '../../src/order/subject-key'
import type { Channel, Provider } from '../../src/providers'
import packageJson from '../../package.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { alipayRefundQueryAnswers } from '../support/refunds'
import { withOwnIds } from '../support/gateway'

interface Built {
  channel: Channel
  event: 'payment' | 'refund' | 'close' | 'transfer' | 'combined'
  path: string
  headers: Record<string, string>
  body: string
  expect: 'accept' | 'reject'
  hostile: string[]
  description: string
  order: {
    outTradeNo: string
    transactionId?: string
    amount: number
    total?: number
    refundedAfter?: number
    outRefundNo?: string
    /** combined: the orders it pays. */
    subOrders?: { outTradeNo: string; transactionId: string; amount: number }[]
  }
}

interface ChannelFlow {
  provider: Provider
  payment: Built
  partialRefund: Built
  fullRefund: Built
  duplicated: Built
  close: Built | null
  transfer: Built | null
  combined: Built | null
  signers: Built[]
  hostile: Built[]
}

/** What simulate records of an order it paid (.demo/simulator-state.json), which the provider stand-in answers from. */
interface RecordedOrder {
  channel: Channel
  outTradeNo: string
  combineOutTradeNo?: string
  merchantId?: string
  subMchid?: string
  totalFen: number
  transactionId: string
}

interface Simulated {
  signedAt: number
  /** simulate's state once the wechatpay.v3 combined payments (direct and --partner) were accepted. */
  recorded: { orders: Record<string, RecordedOrder> }
  merchant: Record<string, unknown>
  subMerchant: Record<string, unknown>
  partner: Record<'wechatpay.v2' | 'wechatpay.v3', { payment: Built; refund: Built; combined: Built }>
  apps: Built[]
  setupRefusals: { channel: Channel; variant: string; message: string }[]
  forward: { url: string; secret: string }
  channels: Record<Channel, ChannelFlow>
  outOfOrder: { payment: Built; refundA: Built; refundB: Built }
  refusals: { channel: Channel; event: string; variant: string | null; message: string }[]
  readme: {
    lines: string[]
    scripts: string[]
    simulate: { command: string; expect: 'accept' | 'reject' | 'sync' | null; error: string | null }[]
  }
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExportsInTest: augments vitest's ProvidedContext next to its only reader
  export interface ProvidedContext {
    simulated: Simulated
  }
}

const simulated = inject('simulated')
const MERCHANT_ID = 'simulated'
/** The demo sub-merchant (`--partner`), as simulated-notifications.mjs names it. */
const SUB_MERCHANT_ID = 'simulated-sub'
const ADMIN_TOKEN = 'test-admin-token-32-characters-long'
const CHANNELS = Object.keys(simulated.channels) as Channel[]

interface Forwarded {
  webhookId: string
  /** Order events; a provider.notification has no out_trade_no, so no order's filter picks it. */
  event: OrderEvent
}

const forwarded: Forwarded[] = []
const webhook = new Webhook(simulated.forward.secret)

function send(built: Built): Promise<Response> {
  return exports.default.fetch(`https://gw.test${built.path}`, { method: 'POST', headers: built.headers, body: built.body })
}

function admin(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${ADMIN_TOKEN}`)
  return exports.default.fetch(`https://gw.test${path}`, { ...init, headers })
}

/** The channel's accept reply, per contract.md. */
async function expectAccepted(channel: Channel, response: Response): Promise<void> {
  const body = await response.text()
  if (channel === 'wechatpay.v2') {
    expect(response.status).toBe(200)
    expect(body).toMatch(/<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>|<return_code>SUCCESS<\/return_code>/)
  } else if (channel === 'wechatpay.v3') {
    expect([200, 204]).toContain(response.status)
  } else {
    expect({ status: response.status, body }).toEqual({ status: 200, body: 'success' })
  }
}

/** The channel's reject reply, per contract.md. */
async function expectRejected(channel: Channel, response: Response): Promise<void> {
  const body = await response.text()
  expect(response.status).toBeGreaterThanOrEqual(400)
  if (channel === 'wechatpay.v2') expect(body).toMatch(/<return_code><!\[CDATA\[FAIL\]\]><\/return_code>|<return_code>FAIL<\/return_code>/)
  else if (channel === 'wechatpay.v3') expect(JSON.parse(body)).toMatchObject({ code: 'FAIL', message: expect.any(String) })
  else expect(body).toBe('failure')
}

/** Runs the order's outbox now (it also runs by itself) and waits until `count` events for it reached the merchant. */
async function forwardedFor(provider: Provider, outTradeNo: string, count: number, merchantId = MERCHANT_ID): Promise<Forwarded[]> {
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
  return vi.waitFor(
    () => {
      const events = forwarded.filter((f) => f.event.data.out_trade_no === outTradeNo)
      expect(events).toHaveLength(count)
      return events
    },
    { timeout: 3_000 },
  )
}

beforeAll(async () => {
  // The notifications were signed in globalSetup: the gateway sees them at that moment (WeChat v3 allows ±300 s).
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(simulated.signedAt)
  const response = await admin(`/admin/merchants/${MERCHANT_ID}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(simulated.merchant),
  })
  expect(response.status).toBe(201)
  const sub = await admin(`/admin/merchants/${SUB_MERCHANT_ID}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(simulated.subMerchant),
  })
  expect(sub.status).toBe(201)
})

afterAll(() => {
  vi.useRealTimers()
})

function merchantEndpoint(): void {
  // The listener's job in `npm run listen`: verify each event with the Standard Webhooks library, answer 2xx.
  network.use(
    http.post(simulated.forward.url, async ({ request }) => {
      const body = await request.text()
      const headers = Object.fromEntries(request.headers)
      const event = webhook.verify(body, headers) as OrderEvent
      forwarded.push({ webhookId: headers['webhook-id']!, event })
      return new HttpResponse(null, { status: 204 })
    }),
  )
}

describe('npm run simulate, sent through the gateway', () => {
  for (const channel of CHANNELS) {
    it(`${channel}: a payment, a partial refund and the rest of the refund are accepted and forwarded as verified events`, async () => {
      merchantEndpoint()
      const flow = simulated.channels[channel]
      const outTradeNo = flow.payment.order.outTradeNo

      await expectAccepted(channel, await send(flow.payment))
      const [paid] = await forwardedFor(flow.provider, outTradeNo, 1)
      expect(paid!.event).toMatchObject({
        type: 'payment.succeeded',
        data: { merchant_id: MERCHANT_ID, channel, out_trade_no: outTradeNo, amount: 8888, currency: 'CNY', refund: null },
      })

      await expectAccepted(channel, await send(flow.partialRefund))
      await expectAccepted(channel, await send(flow.fullRefund))
      const events = await forwardedFor(flow.provider, outTradeNo, 3)
      expect(events.map((f) => [f.event.type, f.event.data.refund?.amount, f.event.data.refund?.total_refunded])).toEqual([
        ['payment.succeeded', undefined, undefined],
        ['refund.succeeded', 4444, 4444],
        ['refund.succeeded', 4444, 8888],
      ])
      expect(events[1]!.event.data.refund!.out_refund_no).toBe(flow.partialRefund.order.outRefundNo)

      const order = await admin(`/admin/merchants/${MERCHANT_ID}/orders/${outTradeNo}`)
      expect(await order.json()).toMatchObject({ status: 'refunded', amount: 8888 })
    })

    it(`${channel}: --repeat and --concurrent copies are all accepted and forward one event`, async () => {
      merchantEndpoint()
      const built = simulated.channels[channel].duplicated
      const { outTradeNo } = built.order
      const concurrent = await Promise.all(Array.from({ length: 5 }, () => send(built)))
      for (const response of concurrent) await expectAccepted(channel, response)
      for (let i = 0; i < 3; i++) await expectAccepted(channel, await send(built))
      const events = await forwardedFor(simulated.channels[channel].provider, outTradeNo, 1)
      expect(events[0]!.event.type).toBe('payment.succeeded')
      const audit = await admin(`/admin/merchants/${MERCHANT_ID}/notifications?out_trade_no=${outTradeNo}`)
      const verdicts = ((await audit.json()) as { notifications: { verdict: string }[] }).notifications.map((n) => n.verdict).sort()
      expect(verdicts).toEqual(['accepted', ...Array(7).fill('duplicate')])
    })

    it(`${channel}: every hostile variant (--tamper, --wrong-key${channel === 'wechatpay.v3' ? ', --stale' : ''}) gets the reject reply and forwards nothing`, async () => {
      merchantEndpoint()
      const { hostile, provider } = simulated.channels[channel]
      const events = {
        alipay: ['payment', 'refund', 'close'],
        'wechatpay.v2': ['payment', 'refund', 'combined'],
        'wechatpay.v3': ['payment', 'refund', 'transfer', 'combined'],
      }
      const expected = (channel === 'wechatpay.v3' ? ['tamper', 'wrong-key', 'stale'] : ['tamper', 'wrong-key']).flatMap((variant) =>
        events[channel].map((event) => `${event} ${variant}`),
      )
      expect(hostile.map((b) => `${b.event} ${b.hostile.join(' ')}`).sort()).toEqual(expected.sort())
      for (const built of hostile) {
        expect(built.expect).toBe('reject')
        await expectRejected(channel, await send(built))
        // Refused before reaching an order: no order exists (nor any sub-order's), nothing was or will be forwarded.
        for (const { outTradeNo } of built.order.subOrders ?? [built.order]) {
          const order = await admin(`/admin/merchants/${MERCHANT_ID}/orders/${outTradeNo}?provider=${provider}`)
          expect(order.status).toBe(404)
        }
      }
      const numbers = hostile.flatMap((b) => (b.order.subOrders ?? [b.order]).map((o) => o.outTradeNo))
      expect(forwarded.filter((f) => numbers.includes(f.event.data.out_trade_no))).toEqual([])
    })
  }

  it('wechatpay.v3: notifies signed with either platform certificate or the PUB_KEY_ID key are accepted', async () => {
    merchantEndpoint()
    const { signers } = simulated.channels['wechatpay.v3']
    expect(signers.map((b) => b.description)).toEqual([
      expect.stringContaining('the WeChat Pay public key (PUB_KEY_ID_'),
      expect.stringContaining('platform certificate A'),
      expect.stringContaining('platform certificate B'),
    ])
    for (const built of signers) {
      await expectAccepted('wechatpay.v3', await send(built))
      expect((await forwardedFor('wechatpay', built.order.outTradeNo, 1))[0]!.event.type).toBe('payment.succeeded')
    }
  })

  it('wechatpay.v2: MD5 and HMAC-SHA256 signed payments are accepted', async () => {
    merchantEndpoint()
    const { signers } = simulated.channels['wechatpay.v2']
    expect(signers.map((b) => b.description)).toEqual([expect.stringContaining('MD5 sign'), expect.stringContaining('HMAC-SHA256 sign')])
    for (const built of signers) {
      await expectAccepted('wechatpay.v2', await send(built))
      expect((await forwardedFor('wechatpay', built.order.outTradeNo, 1))[0]!.event.type).toBe('payment.succeeded')
    }
  })

  for (const channel of ['wechatpay.v2', 'wechatpay.v3'] as const) {
    it(`${channel} combined: one notification pays both sub-orders, one payment.succeeded each; sent again, it forwards nothing more`, async () => {
      merchantEndpoint()
      const combined = simulated.channels[channel].combined!
      const subOrders = combined.order.subOrders!
      expect(subOrders.map((s) => s.outTradeNo)).toEqual([`${combined.order.outTradeNo}-1`, `${combined.order.outTradeNo}-2`])
      expect(combined.description).toContain('合单支付')
      for (let i = 0; i < 2; i++) await expectAccepted(channel, await send(combined))
      for (const { outTradeNo, transactionId, amount } of subOrders) {
        const [paid] = await forwardedFor('wechatpay', outTradeNo, 1)
        expect(paid!.event).toMatchObject({
          type: 'payment.succeeded',
          data: { merchant_id: MERCHANT_ID, channel, out_trade_no: outTradeNo, transaction_id: transactionId, amount: 1234 },
        })
        expect(amount).toBe(1234)
        const audit = await admin(`/admin/merchants/${MERCHANT_ID}/notifications?out_trade_no=${outTradeNo}`)
        const verdicts = ((await audit.json()) as { notifications: { verdict: string }[] }).notifications.map((n) => n.verdict).sort()
        expect(verdicts).toEqual(['accepted', 'duplicate'])
      }
    })
  }

  it('alipay: close of an unpaid trade is accepted and forwarded as payment.closed', async () => {
    merchantEndpoint()
    const close = simulated.channels.alipay.close!
    await expectAccepted('alipay', await send(close))
    const [event] = await forwardedFor('alipay', close.order.outTradeNo, 1)
    expect(event!.event).toMatchObject({ type: 'payment.closed', data: { channel: 'alipay', out_trade_no: close.order.outTradeNo } })
  })

  it('refuses to build what a provider never sends: WeChat close notifies, transfers outside WeChat v3, Alipay combined payments, and --stale outside WeChat v3', () => {
    const refused = simulated.refusals.map((r) => `${r.channel} ${r.event}${r.variant ? ` ${r.variant}` : ''}`).sort()
    const variants = ['', ' tamper', ' wrongKey', ' stale']
    const wechatClose = ['wechatpay.v2', 'wechatpay.v3'].flatMap((c) => variants.map((v) => `${c} close${v}`))
    const transferElsewhere = ['wechatpay.v2', 'alipay'].flatMap((c) => variants.map((v) => `${c} transfer${v}`))
    const alipayCombined = variants.map((v) => `alipay combined${v}`)
    const staleElsewhere = [
      'wechatpay.v2 payment stale',
      'wechatpay.v2 refund stale',
      'wechatpay.v2 combined stale',
      'alipay payment stale',
      'alipay refund stale',
      'alipay close stale',
    ]
    expect(refused).toEqual([...wechatClose, ...transferElsewhere, ...alipayCombined, ...staleElsewhere].sort())
    for (const refusal of simulated.refusals) {
      expect(refusal.message).toMatch(
        refusal.event === 'close' && refusal.channel !== 'alipay'
          ? /WeChat Pay sends no notification/
          : refusal.event === 'transfer'
            ? /transfer simulates a WeChat Pay APIv3 MCHTRANSFER\.BILL\.FINISHED/
            : refusal.event === 'combined' && refusal.channel === 'alipay'
              ? /a combined payment \(合单支付.*\) is WeChat Pay's/
              : /--stale applies to wechatpay\.v3 only/,
      )
    }
  })

  it('wechatpay.v3 transfer: accepted and forwarded once as provider.notification, however often it is sent', async () => {
    const received: { type: string; data: Record<string, unknown> }[] = []
    network.use(
      http.post(simulated.forward.url, async ({ request }) => {
        const body = await request.text()
        received.push(webhook.verify(body, Object.fromEntries(request.headers)) as { type: string; data: Record<string, unknown> })
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const transfer = simulated.channels['wechatpay.v3'].transfer!
    for (let i = 0; i < 3; i++) await expectAccepted('wechatpay.v3', await send(transfer))
    const subjectKey = transfer.order.transactionId!
    await runDurableObjectAlarm(subjectStub(env, { merchantId: MERCHANT_ID, provider: 'wechatpay', subjectKey }))
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 3_000 })
    expect(received[0]).toMatchObject({
      type: 'provider.notification',
      data: {
        merchant_id: MERCHANT_ID,
        channel: 'wechatpay.v3',
        notification_type: 'MCHTRANSFER.BILL.FINISHED',
        subject_id: subjectKey,
        raw: { out_bill_no: transfer.order.outTradeNo, transfer_amount: transfer.order.amount, state: 'SUCCESS' },
      },
    })
  })

  it('alipay refund --out-of-order: B first is held until the refund query, then each refund is forwarded once with its own amount', async () => {
    const merchantId = 'simulated-query'
    const body = structuredClone(simulated.merchant) as { forward: unknown; alipay: Record<string, unknown> }
    body.alipay.appPrivateKey = keys.alipay.appKey.privateKeyPem
    // One provider identity, one merchant: the demo merchant lends its Alipay apps and seller (what these notifications
    // name) to this one, which has only Alipay, and takes them back afterwards.
    const put = async (id: string, merchant: object) =>
      (await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(merchant) })).status
    expect(await put(MERCHANT_ID, { ...simulated.merchant, alipay: undefined })).toBe(200)
    try {
      expect(await put(merchantId, { forward: body.forward, alipay: body.alipay })).toBe(201)
      merchantEndpoint()
      const { payment, refundA, refundB } = simulated.outOfOrder
      const outTradeNo = payment.order.outTradeNo
      alipayRefundQueryAnswers(
        [refundA, refundB].map((r) => ({ outTradeNo, outRefundNo: r.order.outRefundNo!, amount: r.order.amount, total: 8888 })),
      )
      for (const built of [payment, refundB, refundA]) await expectAccepted('alipay', await send(built))
      const stub = orderStub(env, { merchantId, provider: 'alipay', outTradeNo })
      await vi.waitFor(
        async () => {
          await runDurableObjectAlarm(stub)
          expect(forwarded.filter((f) => f.event.data.out_trade_no === outTradeNo)).toHaveLength(3)
        },
        { timeout: 3_000 },
      )
      const refunds = forwarded.filter((f) => f.event.data.out_trade_no === outTradeNo && f.event.type === 'refund.succeeded')
      expect(refunds.map((f) => [f.event.data.refund!.out_refund_no, f.event.data.refund!.amount]).sort()).toEqual(
        [
          [refundA.order.outRefundNo, refundA.order.amount],
          [refundB.order.outRefundNo, refundB.order.amount],
        ].sort(),
      )
      expect(refundB.order.refundedAfter).toBe(refundA.order.amount + refundB.order.amount)
    } finally {
      expect(await put(merchantId, withOwnIds(merchantId, { forward: body.forward, alipay: body.alipay }))).toBe(200)
      expect(await put(MERCHANT_ID, simulated.merchant)).toBe(200)
    }
  })
})

describe('npm run simulate for set-ups beyond one app', () => {
  for (const channel of ['wechatpay.v2', 'wechatpay.v3'] as const) {
    it(`${channel} --partner: the demo sub-merchant takes its payment and refund, one event each; the demo merchant refuses them`, async () => {
      merchantEndpoint()
      const { payment, refund } = simulated.partner[channel]
      expect(payment.path).toBe(`/notify/${SUB_MERCHANT_ID}/${channel.replace('.', '/')}`)
      expect(payment.description).toContain('partner mode')
      const direct = { ...payment, path: payment.path.replace(SUB_MERCHANT_ID, MERCHANT_ID) }
      await expectRejected(channel, await send(direct))
      await expectAccepted(channel, await send(payment))
      await expectAccepted(channel, await send(refund))
      const events = await forwardedFor('wechatpay', payment.order.outTradeNo, 2, SUB_MERCHANT_ID)
      expect(events.map((f) => [f.event.type, f.event.data.merchant_id])).toEqual([
        ['payment.succeeded', SUB_MERCHANT_ID],
        ['refund.succeeded', SUB_MERCHANT_ID],
      ])
      const atDemo = await admin(`/admin/merchants/${MERCHANT_ID}/orders/${payment.order.outTradeNo}?provider=wechatpay`)
      expect(atDemo.status).toBe(404)
    })

    it(`${channel} combined --partner: the demo sub-merchant takes both sub-orders, one event each; the demo merchant refuses them`, async () => {
      merchantEndpoint()
      const { combined } = simulated.partner[channel]
      expect(combined.path).toBe(`/notify/${SUB_MERCHANT_ID}/${channel.replace('.', '/')}`)
      expect(combined.description).toContain('partner mode')
      await expectRejected(channel, await send({ ...combined, path: combined.path.replace(SUB_MERCHANT_ID, MERCHANT_ID) }))
      await expectAccepted(channel, await send(combined))
      for (const { outTradeNo } of combined.order.subOrders!) {
        const [paid] = await forwardedFor('wechatpay', outTradeNo, 1, SUB_MERCHANT_ID)
        expect(paid!.event).toMatchObject({ type: 'payment.succeeded', data: { merchant_id: SUB_MERCHANT_ID, amount: 1234 } })
        const atDemo = await admin(`/admin/merchants/${MERCHANT_ID}/orders/${outTradeNo}?provider=wechatpay`)
        expect(atDemo.status).toBe(404)
      }
    })
  }

  it('--appid <n>: a payment from each of the demo merchant’s apps is accepted once', async () => {
    merchantEndpoint()
    expect(simulated.apps.map((b) => b.channel)).toEqual([
      'wechatpay.v2',
      'wechatpay.v2',
      'wechatpay.v2',
      'wechatpay.v3',
      'wechatpay.v3',
      'wechatpay.v3',
      'alipay',
      'alipay',
    ])
    for (const built of simulated.apps) {
      await expectAccepted(built.channel, await send(built))
      const provider: Provider = built.channel === 'alipay' ? 'alipay' : 'wechatpay'
      expect((await forwardedFor(provider, built.order.outTradeNo, 1))[0]!.event.type).toBe('payment.succeeded')
    }
  })

  it('refuses --partner for Alipay and an --appid the demo merchant does not have', () => {
    expect(simulated.setupRefusals.map((r) => `${r.channel} ${r.variant}: ${r.message}`)).toEqual([
      "alipay partner: partner mode (服务商, sub_mchid) is WeChat Pay's: use wechatpay.v2 or wechatpay.v3",
      'wechatpay.v2 appIndex: the demo merchant has 3 wechatpay apps: --appid 1 to 3',
      'alipay appIndex: the demo merchant has 2 alipay apps: --appid 1 to 2',
    ])
  })
})

describe('npm run simulate -- sync of a combined sub-order, at the provider stand-in', () => {
  const standin = inject('standin')
  const cases = [
    { title: 'wechatpay.v3 combined', merchantId: MERCHANT_ID, built: simulated.channels['wechatpay.v3'].combined! },
    { title: 'wechatpay.v3 combined --partner', merchantId: SUB_MERCHANT_ID, built: simulated.partner['wechatpay.v3'].combined },
  ]
  for (const { title, merchantId, built } of cases) {
    it(`${title}, then sync of a sub-order: WeChat's combined query, answered by the stand-in from simulate's record, says paid`, async () => {
      merchantEndpoint()
      network.use(http.all(`${standin.url}/*`, () => passthrough()))
      const subOrders = built.order.subOrders!
      // simulate records each sub-order with its channel and its combine, as the stand-in finds it.
      for (const { outTradeNo, transactionId, amount } of subOrders) {
        expect(simulated.recorded.orders[`wechatpay:${outTradeNo}`]).toMatchObject({
          channel: 'wechatpay.v3',
          outTradeNo,
          combineOutTradeNo: built.order.outTradeNo,
          totalFen: amount,
          transactionId,
        })
      }
      // The merchant as `npm run dev` seeds it: the keys that sign queries, the stand-in as WeChat Pay's API.
      const seeded = structuredClone(merchantId === MERCHANT_ID ? standin.merchant : standin.subMerchant)
      seeded.forward = simulated.forward
      const put = async (body: object) =>
        expect((await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(body) })).status).toBe(200)
      await put(seeded)
      try {
        await expectAccepted('wechatpay.v3', await send(built))
        // The stand-in checks each request's time against its own clock.
        vi.setSystemTime(vi.getRealSystemTime())
        for (const { outTradeNo } of subOrders) {
          const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
          expect(reply.status).toBe(200)
          expect(((await reply.json()) as { results: unknown[] }).results).toEqual([
            { provider: 'wechatpay', status: 'paid', query: 'wechatpay.v3 paid (accepted)', refunds: [] },
          ])
        }
      } finally {
        vi.setSystemTime(simulated.signedAt)
        await put(merchantId === MERCHANT_ID ? simulated.merchant : simulated.subMerchant)
      }
    })
  }
})

describe('README.md', () => {
  it('opens with npm ci, npm run dev and npm test', () => {
    expect(simulated.readme.lines.slice(0, 3)).toEqual(['npm ci', 'npm run dev', 'npm test'])
  })

  it('uses only npm scripts that package.json defines', () => {
    expect(simulated.readme.scripts.length).toBeGreaterThanOrEqual(3)
    for (const script of simulated.readme.scripts) expect(Object.keys(packageJson.scripts)).toContain(script)
  })

  it('shows only simulate command lines that parse and build, hostile ones expecting rejection', () => {
    expect(simulated.readme.simulate.length).toBeGreaterThan(5)
    for (const { command, expect: outcome, error } of simulated.readme.simulate) {
      expect({ command, error }).toEqual({ command, error: null })
      const expected = /^npm run simulate -- sync\b/.test(command)
        ? 'sync'
        : /--(tamper|stale|wrong-key)\b/.test(command)
          ? 'reject'
          : 'accept'
      expect({ command, outcome }).toEqual({ command, outcome: expected })
    }
  })
})
