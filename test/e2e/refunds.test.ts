/**
 * Refunds you can trust, through the real Worker (router → adapter → order Durable Object → outbox),
 * with notifications and query answers signed by node:crypto with the throwaway provider keys:
 * out-of-order Alipay refunds, registered refunds found by query, refund-before-payment on every
 * channel, and what forged or unsigned query answers change (nothing).
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { orderRoutes } from '../../src/http/routes-orders'
import { orderStub } from '../../src/order/order-key'
import { defaultRegistry } from '../../src/providers'
import type { Channel, Provider } from '../../src/providers'
import {
  ACCEPT,
  admin,
  fixturePost,
  forwardUrl,
  freshPayment,
  merchantBody,
  notify,
  orderView,
  ownKeys,
  registerFixtureMerchant,
  registerMerchant,
} from '../security/harness'
import {
  alipayRefundNotify,
  holdFirstAlipayRequest,
  alipayRefundQueryAnswers,
  receiveEvents,
  v2RefundNotify,
  v2RefundQueryAnswers,
  v3RefundNotify,
  v3RefundQueryAnswers,
  withQueryKeys,
  type ProviderRefund,
  type ReceivedEvent,
} from '../support/refunds'
import { alipayTrade, saveQueryingMerchant } from '../support/closed-orders'
import { inOrderStore } from '../support/orders'

/** Merchants without query keys: registrations are what settle held refunds. */
const PLAIN = 'refunds-plain'
/** Merchants whose keys allow order and refund queries. */
const QUERYING = 'refunds-query'
/**
 * Both sign at run time with ids of their own: no two merchants may claim one provider identity, and the
 * out-of-order Alipay fixtures (signed for the fixture ids) go to merchants that take them one at a time.
 */
const PLAIN_KEYS = ownKeys(PLAIN)
const QUERYING_KEYS = ownKeys(QUERYING)
const KEYS_OF: Record<string, typeof PLAIN_KEYS> = { [PLAIN]: PLAIN_KEYS, [QUERYING]: QUERYING_KEYS }

interface RefundView {
  out_refund_no: string
  refund_id: string | null
  amount: number | null
  status: string
  registered_amount: number | null
  last_query_result: string | null
}

type OrderWithRefunds = NonNullable<Awaited<ReturnType<typeof orderView>>> & {
  refunds: RefundView[]
  events: { id: string; type: string; data: { refund: ReceivedEvent['data']['refund']; amount: number | null } }[]
}

async function order(merchantId: string, provider: Provider, outTradeNo: string): Promise<OrderWithRefunds> {
  const view = await orderView(merchantId, provider, outTradeNo)
  if (view === null) throw new Error(`order ${outTradeNo} is not known`)
  return view as OrderWithRefunds
}

async function registerRefund(merchantId: string, outTradeNo: string, outRefundNo: string, amount: number, channel?: Channel) {
  return admin(`/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}/refunds/${encodeURIComponent(outRefundNo)}`, {
    method: 'PUT',
    body: JSON.stringify({ amount, ...(channel === undefined ? {} : { channel }) }),
  })
}

async function expectAccepted(channel: Channel, response: Response): Promise<void> {
  expect({ status: response.status, body: await response.text() }).toEqual(ACCEPT[channel])
}

/** Runs the order object's alarm (due queries, then the outbox) and waits for the merchant to have `count` events of the order. */
async function forwardedFor(received: ReceivedEvent[], merchantId: string, provider: Provider, outTradeNo: string, count: number) {
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
  return vi.waitFor(
    () => {
      const events = received.filter((e) => e.data.out_trade_no === outTradeNo)
      expect(events).toHaveLength(count)
      return events
    },
    { timeout: 5_000 },
  )
}

const refundsOf = (events: ReceivedEvent[]) =>
  events.filter((e) => e.type === 'refund.succeeded').map((e) => [e.data.refund!.out_refund_no, e.data.refund!.amount])

beforeAll(async () => {
  await registerMerchant(PLAIN, { identity: PLAIN_KEYS })
  const reply = await admin(`/admin/merchants/${QUERYING}`, {
    method: 'PUT',
    body: JSON.stringify(withQueryKeys(merchantBody(QUERYING, { identity: QUERYING_KEYS }))),
  })
  expect(reply.status).toBe(201)
})

describe('Alipay refunds out of order (refund_fee is a running total)', () => {
  const { outOfOrderPayment, outOfOrderRefundA, outOfOrderRefundB } = alipayFixtures.cases
  const ORDER = 'T20261122-0030'

  it('settled by registration: B (running total 50.00) first, then A (30.00): one refund.succeeded each, with its own amount', async () => {
    const merchantId = 'refunds-ooo-registered'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'] })
    const received = receiveEvents(forwardUrl(merchantId))
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderPayment)))
    // The merchant registers the refund it asked Alipay for (A, ¥30.00); Alipay's notification of it is delayed.
    expect((await registerRefund(merchantId, ORDER, 'R20261123-A', 3000)).status).toBe(200)

    // B arrives first: its own amount is in doubt (the 50.00 may hold A's 30.00), so it is accepted and held.
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundB)))
    const held = await order(merchantId, 'alipay', ORDER)
    expect(held.status).toBe('paid')
    expect(held.refunds).toMatchObject([
      { out_refund_no: 'R20261123-A', status: 'pending', amount: null, registered_amount: 3000 },
      { out_refund_no: 'R20261123-B', status: 'pending', amount: null, registered_amount: null },
    ])
    expect(held.notifications.at(-1)).toMatchObject({
      verdict: 'accepted',
      reason: 'refund amount in doubt: held until registered or queried',
    })
    expect(held.events.map((e) => e.type)).toEqual(['payment.succeeded'])

    // Registering B's amount settles B at once; A's notification settles A with its registered amount.
    const registered = await registerRefund(merchantId, ORDER, 'R20261123-B', 2000)
    expect(await registered.json()).toMatchObject({ status: 'succeeded', order_status: 'partially_refunded' })
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundA)))
    // Alipay's retries change nothing.
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundB)))
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundA)))

    const events = await forwardedFor(received, merchantId, 'alipay', ORDER, 3)
    expect(events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded', 'refund.succeeded'])
    expect(refundsOf(events)).toEqual([
      ['R20261123-B', 2000],
      ['R20261123-A', 3000],
    ])
    expect(events[2]!.data.refund!.total_refunded).toBe(5000)
    // The held notification is forwarded with its own verified fields.
    expect(events[1]!.data.raw).toMatchObject({ out_biz_no: 'R20261123-B', refund_fee: '50.00' })
    const settled = await order(merchantId, 'alipay', ORDER)
    expect(settled).toMatchObject({ status: 'partially_refunded' })
    expect(settled.refunds.map((r) => [r.out_refund_no, r.status, r.amount, r.registered_amount])).toEqual([
      ['R20261123-A', 'succeeded', 3000, 3000],
      ['R20261123-B', 'succeeded', 2000, 2000],
    ])
  })

  it('settled by a refund query: each held refund is asked about at once and gets its own amount', async () => {
    const merchantId = 'refunds-ooo-queried'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'], alipayFields: { appPrivateKey: keys.alipay.appKey.privateKeyPem } })
    const received = receiveEvents(forwardUrl(merchantId))
    const made: ProviderRefund[] = [
      { outTradeNo: ORDER, outRefundNo: 'R20261123-A', amount: 3000, total: 10_000 },
      { outTradeNo: ORDER, outRefundNo: 'R20261123-B', amount: 2000, total: 10_000 },
    ]
    const log = alipayRefundQueryAnswers(made)
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderPayment)))
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundB)))
    await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: ORDER }))
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundA)))
    const events = await forwardedFor(received, merchantId, 'alipay', ORDER, 3)
    expect(log.asked).toEqual(['R20261123-B', 'R20261123-A'])
    expect(refundsOf(events)).toEqual([
      ['R20261123-B', 2000],
      ['R20261123-A', 3000],
    ])
    const settled = await order(merchantId, 'alipay', ORDER)
    expect(settled.refunds.map((r) => r.last_query_result)).toEqual(['alipay succeeded (accepted)', 'alipay succeeded (accepted)'])
  })

  it('in order, with query keys: a refund whose query answers first waits for the held one before it (events in order)', async () => {
    const merchantId = 'refunds-inorder-answered-late'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'], alipayFields: { appPrivateKey: keys.alipay.appKey.privateKeyPem } })
    const received = receiveEvents(forwardUrl(merchantId))
    // Alipay answers for B (¥20.00) but is still processing A: A's own amount stays in doubt for now.
    const b = { outTradeNo: ORDER, outRefundNo: 'R20261123-B', amount: 2000, total: 10_000 }
    alipayRefundQueryAnswers([{ outTradeNo: ORDER, outRefundNo: 'R20261123-A', amount: 3000, total: 10_000, status: 'PROCESSING' }, b])
    for (const fixture of [outOfOrderPayment, outOfOrderRefundA, outOfOrderRefundB]) {
      await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', fixture)))
    }
    await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: ORDER }))
    const waiting = await order(merchantId, 'alipay', ORDER)
    expect(waiting.refunds).toMatchObject([
      { out_refund_no: 'R20261123-A', status: 'pending' },
      { out_refund_no: 'R20261123-B', status: 'pending', last_query_result: 'alipay succeeded (accepted)' },
    ])
    expect(waiting.events.map((e) => e.type)).toEqual(['payment.succeeded'])

    // Alipay answers for A: A settles, then B right after it.
    alipayRefundQueryAnswers([{ outTradeNo: ORDER, outRefundNo: 'R20261123-A', amount: 3000, total: 10_000 }, b])
    expect((await admin(`/admin/merchants/${merchantId}/orders/${ORDER}/sync?provider=alipay`, { method: 'POST' })).status).toBe(200)
    const events = await forwardedFor(received, merchantId, 'alipay', ORDER, 3)
    expect(refundsOf(events)).toEqual([
      ['R20261123-A', 3000],
      ['R20261123-B', 2000],
    ])
    expect(events.map((e) => e.data.refund?.total_refunded ?? null)).toEqual([null, 3000, 5000])
  })

  it('without query keys: a refund registered behind one held for good settles once its first query finds no keys', async () => {
    // A black-box audit's case: B (running total 80.00) arrives first and settles by the order of arrival; A (30.00)
    // arrives late and can never be placed; C closes the trade (100.00). Registering C holds it behind A until its
    // refund query (due two minutes after the registration, or a sync) finds no keys to ask with: then it settles.
    const paid = freshPayment('alipay', { amount: 10000, identity: PLAIN_KEYS })
    const { outTradeNo } = paid
    const ref = { merchantId: PLAIN, provider: 'alipay', outTradeNo }
    const received = receiveEvents(forwardUrl(PLAIN))
    const refund = (outRefundNo: string, refundFee: number) =>
      alipayRefundNotify({ outTradeNo, outRefundNo, refundFee, total: 10000, identity: PLAIN_KEYS.alipay })
    await expectAccepted('alipay', await notify('alipay', PLAIN, paid))
    for (const [no, fee] of [
      ['B', 8000],
      ['A', 3000],
      ['C', 10000],
    ] as const) {
      await expectAccepted('alipay', await notify('alipay', PLAIN, refund(`${outTradeNo}-${no}`, fee)))
    }
    const registered = await registerRefund(PLAIN, outTradeNo, `${outTradeNo}-C`, 2000)
    expect(await registered.json()).toMatchObject({ status: 'pending', order_status: 'partially_refunded' })
    const planned = await inOrderStore(ref, (store) => store.refunds.get(`${outTradeNo}-C`)!.nextQueryAt)
    expect(planned! - Date.now()).toBeGreaterThan(60_000)

    // Its query comes due, as two minutes later.
    await inOrderStore(ref, (store) =>
      store.refunds.save({ ...store.refunds.get(`${outTradeNo}-C`)!, nextQueryAt: 0 }, new Date().toISOString()),
    )
    const events = await forwardedFor(received, PLAIN, 'alipay', outTradeNo, 3)
    expect(refundsOf(events)).toEqual([
      [`${outTradeNo}-B`, 8000],
      [`${outTradeNo}-C`, 2000],
    ])
    const settled = await order(PLAIN, 'alipay', outTradeNo)
    expect(settled.status).toBe('refunded')
    // A stays held: 100.00 are refunded, and nothing is left for it.
    expect(settled.refunds.find((r) => r.out_refund_no.endsWith('-A'))).toMatchObject({ status: 'pending', amount: null })
  })

  it('in order and with nothing else to go by, the difference of the running totals is each refund’s amount', async () => {
    const merchantId = 'refunds-ooo-inorder'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'] })
    const received = receiveEvents(forwardUrl(merchantId))
    for (const fixture of [outOfOrderPayment, outOfOrderRefundA, outOfOrderRefundB]) {
      await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', fixture)))
    }
    expect(refundsOf(await forwardedFor(received, merchantId, 'alipay', ORDER, 3))).toEqual([
      ['R20261123-A', 3000],
      ['R20261123-B', 2000],
    ])
  })

  it('in order, with query keys: held while Alipay is asked; when the queries end unanswered, the running totals settle it', async () => {
    const merchantId = 'refunds-inorder-unanswered'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'], alipayFields: { appPrivateKey: keys.alipay.appKey.privateKeyPem } })
    const received = receiveEvents(forwardUrl(merchantId))
    // Alipay knows of no such refund yet ("Success" without one): the query settles nothing.
    const log = alipayRefundQueryAnswers([])
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderPayment)))
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', outOfOrderRefundA)))
    await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: ORDER }))
    expect(log.asked).toEqual(['R20261123-A'])
    expect((await order(merchantId, 'alipay', ORDER)).refunds).toMatchObject([{ out_refund_no: 'R20261123-A', status: 'pending' }])
    // The merchant's keys no longer allow the query: its last answer ends the queries, and nothing before A's
    // running total was refunded, so A's own amount is that total.
    await registerFixtureMerchant(merchantId, { providers: ['alipay'] })
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${ORDER}/sync?provider=alipay`, { method: 'POST' })
    expect(sync.status).toBe(200)
    expect(refundsOf(await forwardedFor(received, merchantId, 'alipay', ORDER, 2))).toEqual([['R20261123-A', 3000]])
    const settled = await order(merchantId, 'alipay', ORDER)
    expect(settled).toMatchObject({ status: 'partially_refunded', refunded_amount: 3000 })
    expect(settled.refunds).toMatchObject([
      {
        out_refund_no: 'R20261123-A',
        status: 'succeeded',
        amount: 3000,
        last_query_result: expect.stringContaining('settled by the order of arrival'),
      },
    ])
  })

  /** A paid order with R0 (0.20) settled, and R1 registered as 0.40: its notification (running total 0.50) is held. */
  async function withRefuted(merchantId: string) {
    await saveQueryingMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const identity = ownKeys(merchantId).alipay
    const outTradeNo = `RREFUTED-${Date.now()}`
    const tradeNo = `2026112222001${Date.now()}`
    const register = (outRefundNo: string, amount: number) =>
      admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/${outRefundNo}`, {
        method: 'PUT',
        body: JSON.stringify({ amount }),
      })
    expect(await (await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', tradeNo))).text()).toBe(
      'success',
    )
    expect((await register('R0', 20)).status).toBe(200)
    const r0 = alipayRefundNotify({ outTradeNo, outRefundNo: 'R0', refundFee: 20, total: 100, tradeNo, identity })
    expect(await (await notify('alipay', merchantId, r0)).text()).toBe('success')
    expect((await register('R1', 40)).status).toBe(200)
    return {
      received,
      ref: { merchantId, provider: 'alipay' as const, outTradeNo },
      r1: alipayRefundNotify({ outTradeNo, outRefundNo: 'R1', refundFee: 50, total: 100, tradeNo, identity }),
    }
  }

  it('a registration the running totals refute: held while Alipay is asked; when the queries end unanswered, the running totals settle it', async () => {
    const merchantId = 'refunds-refuted-registration'
    const { received, ref, r1 } = await withRefuted(merchantId)
    const { outTradeNo } = ref
    alipayRefundQueryAnswers([])
    expect(await (await notify('alipay', merchantId, r1)).text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, ref))
    expect((await orderView(merchantId, 'alipay', outTradeNo))!).toMatchObject({ refunded_amount: 20 })

    // The merchant's keys no longer allow the query: the queries end, and the running totals settle R1 at 0.30.
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })
    expect(sync.status).toBe(200)
    const refunds = await forwardedFor(received, merchantId, 'alipay', outTradeNo, 3)
    expect(refundsOf(refunds)).toEqual([
      ['R0', 20],
      ['R1', 30],
    ])
    const settled = (await order(merchantId, 'alipay', outTradeNo))!
    expect(settled).toMatchObject({ status: 'partially_refunded', refunded_amount: 50 })
    expect(settled.refunds.map((r) => [r.out_refund_no, r.status, r.amount, r.registered_amount])).toEqual([
      ['R0', 'succeeded', 20, 20],
      ['R1', 'succeeded', 30, 40],
    ])
  })

  describe('a held notification arriving while its refund’s query is out', () => {
    /** Holds Alipay's answer to the first query about `outRefundNo` until `release`. */
    const holdFirstQuery = (outRefundNo: string) =>
      holdFirstAlipayRequest(
        (form) =>
          form.get('method') === 'alipay.trade.fastpay.refund.query' &&
          (JSON.parse(form.get('biz_content') ?? '{}') as { out_request_no?: string }).out_request_no === outRefundNo,
      )

    it('in the alarm’s query: the answer, sent before it, does not answer it; asked again at once, the refund settles', async () => {
      const { ref, r1 } = await withRefuted('refunds-held-during-alarm')
      const made: ProviderRefund[] = []
      const log = alipayRefundQueryAnswers(made)
      const gate = holdFirstQuery('R1')
      await inOrderStore(ref, (store) => store.refunds.save({ ...store.refunds.get('R1')!, nextQueryAt: 0 }, new Date().toISOString()))
      const alarm = runDurableObjectAlarm(orderStub(env, ref))
      await gate.sent
      expect(await (await notify('alipay', ref.merchantId, r1)).text()).toBe('success')
      gate.release()
      await alarm
      // The held answer said Alipay knows no R1; asked again, it states R1's own 0.30.
      made.push({ outTradeNo: ref.outTradeNo, outRefundNo: 'R1', amount: 30, total: 100 })
      await vi.waitFor(() => expect(log.asked.filter((no) => no === 'R1')).toHaveLength(2), { timeout: 3_000 })
      await vi.waitFor(async () =>
        expect(await orderView(ref.merchantId, 'alipay', ref.outTradeNo)).toMatchObject({
          status: 'partially_refunded',
          refunded_amount: 50,
        }),
      )
    })

    it('in a sync’s query: its query stays due at once, not on the schedule', async () => {
      const { ref, r1 } = await withRefuted('refunds-held-during-sync')
      alipayRefundQueryAnswers([])
      const gate = holdFirstQuery('R1')
      const sync = admin(`/admin/merchants/${ref.merchantId}/orders/${ref.outTradeNo}/sync?provider=alipay`, { method: 'POST' })
      await gate.sent
      expect(await (await notify('alipay', ref.merchantId, r1)).text()).toBe('success')
      gate.release()
      expect((await sync).status).toBe(200)
      const row = await inOrderStore(ref, (store) => store.refunds.get('R1'))
      expect(row).toMatchObject({ status: 'pending' })
      expect(row!.nextQueryAt! - Date.now()).toBeLessThan(5_000)
    })
  })

  it('names a refund requested without out_request_no by the order’s out_trade_no', async () => {
    const merchantId = 'refunds-no-biz-no'
    await registerFixtureMerchant(merchantId, { providers: ['alipay'] })
    await expectAccepted('alipay', await notify('alipay', merchantId, fixturePost('alipay', alipayFixtures.cases.refundWithoutOutBizNo)))
    const view = await order(merchantId, 'alipay', 'T20261122-0022')
    expect(view.refunds).toMatchObject([{ out_refund_no: 'T20261122-0022', amount: 1000, status: 'succeeded' }])
  })
})

describe('a registered refund whose notification never comes', () => {
  // WeChat answers refund queries on either API: v3 is asked when the merchant has its request-signing key,
  // else v2 with the APIv2 key alone (the PLAIN merchant).
  const channels = [
    { channel: 'alipay' as const, provider: 'alipay' as const, merchantId: QUERYING, answer: alipayRefundQueryAnswers, late: alipayLate },
    { channel: 'wechatpay.v3' as const, provider: 'wechatpay' as const, merchantId: QUERYING, answer: v3RefundQueryAnswers, late: v3Late },
    { channel: 'wechatpay.v2' as const, provider: 'wechatpay' as const, merchantId: PLAIN, answer: v2Answers, late: v2Late },
  ]
  function v2Answers(refunds: readonly ProviderRefund[], signer?: 'stranger' | 'unsigned') {
    return v2RefundQueryAnswers(refunds, signer, PLAIN_KEYS.wechat)
  }
  function alipayLate(outTradeNo: string, outRefundNo: string) {
    return alipayRefundNotify({ outTradeNo, outRefundNo, refundFee: 4000, total: 10_000, identity: QUERYING_KEYS.alipay })
  }
  function v3Late(outTradeNo: string, outRefundNo: string) {
    return v3RefundNotify({ outTradeNo, outRefundNo, refund: 4000, total: 10_000, identity: QUERYING_KEYS.wechat })
  }
  function v2Late(outTradeNo: string, outRefundNo: string) {
    return v2RefundNotify({ outTradeNo, outRefundNo, refund: 4000, total: 10_000, identity: PLAIN_KEYS.wechat })
  }

  for (const { channel, provider, merchantId, answer, late } of channels) {
    it(`${channel}: becomes refund.succeeded via a refund query; the late notification afterwards changes nothing`, async () => {
      const received = receiveEvents(forwardUrl(merchantId))
      const paid = freshPayment(channel, { amount: 10_000, identity: KEYS_OF[merchantId]! })
      await expectAccepted(channel, await notify(channel, merchantId, paid))
      const outRefundNo = `RF-${paid.outTradeNo}`
      const log = answer([{ outTradeNo: paid.outTradeNo, outRefundNo, amount: 4000, total: 10_000 }])
      expect((await registerRefund(merchantId, paid.outTradeNo, outRefundNo, 4000, channel)).status).toBe(200)
      // The first query is planned two minutes out; sync asks now.
      const sync = await admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=${provider}`, { method: 'POST' })
      expect(await sync.json()).toMatchObject({
        results: [{ provider, status: 'partially_refunded', refunds: [expect.stringContaining('succeeded (accepted)')] }],
      })
      expect(log.asked).toEqual([outRefundNo])
      const events = await forwardedFor(received, merchantId, provider, paid.outTradeNo, 2)
      expect(events.map((e) => [e.type, e.data.refund?.amount ?? null])).toEqual([
        ['payment.succeeded', null],
        ['refund.succeeded', 4000],
      ])

      const before = await order(merchantId, provider, paid.outTradeNo)
      await expectAccepted(channel, await notify(channel, merchantId, late(paid.outTradeNo, outRefundNo)))
      const after = await order(merchantId, provider, paid.outTradeNo)
      expect(after.events).toEqual(before.events)
      expect(after.refunds).toEqual(before.refunds)
      expect(after.notifications.at(-1)).toMatchObject({ verdict: 'accepted', reason: 'no change' })
      await runDurableObjectAlarm(orderStub(env, { merchantId: merchantId, provider, outTradeNo: paid.outTradeNo }))
      expect(received.filter((e) => e.data.out_trade_no === paid.outTradeNo)).toHaveLength(2)
    })

    for (const signer of ['stranger', 'unsigned'] as const) {
      it(`${channel}: a ${signer === 'stranger' ? 'forged' : 'unsigned'} refund-query answer changes nothing`, async () => {
        const received = receiveEvents(forwardUrl(merchantId))
        const paid = freshPayment(channel, { amount: 10_000, identity: KEYS_OF[merchantId]! })
        await expectAccepted(channel, await notify(channel, merchantId, paid))
        await runDurableObjectAlarm(orderStub(env, { merchantId: merchantId, provider, outTradeNo: paid.outTradeNo }))
        const outRefundNo = `RF-${paid.outTradeNo}`
        answer([{ outTradeNo: paid.outTradeNo, outRefundNo, amount: 9000, total: 10_000 }], signer)
        expect((await registerRefund(merchantId, paid.outTradeNo, outRefundNo, 9000, channel)).status).toBe(200)
        const before = await order(merchantId, provider, paid.outTradeNo)
        await admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=${provider}`, { method: 'POST' })
        await runDurableObjectAlarm(orderStub(env, { merchantId: merchantId, provider, outTradeNo: paid.outTradeNo }))
        const after = await order(merchantId, provider, paid.outTradeNo)
        expect(after.status).toBe('paid')
        expect(after.events).toEqual(before.events)
        expect(after.refunds).toMatchObject([{ out_refund_no: outRefundNo, status: 'pending', amount: null }])
        expect(after.refunds[0]!.last_query_result).toMatch(
          signer === 'stranger' ? /failed: signature_invalid$/ : /failed: (unsigned_response|signature_invalid)$/,
        )
        expect(received.filter((e) => e.type !== 'payment.succeeded' && e.data.out_trade_no === paid.outTradeNo)).toEqual([])
      })
    }
  }
})

describe('a refund of a payment the gateway has not seen, carrying the payment’s facts', () => {
  const cases = [
    {
      channel: 'wechatpay.v3' as const,
      provider: 'wechatpay' as const,
      build: (no: string) =>
        v3RefundNotify({ outTradeNo: no, outRefundNo: `R-${no}`, refund: 300, total: 1000, identity: PLAIN_KEYS.wechat }),
    },
    {
      channel: 'wechatpay.v2' as const,
      provider: 'wechatpay' as const,
      build: (no: string) =>
        v2RefundNotify({ outTradeNo: no, outRefundNo: `R-${no}`, refund: 300, total: 1000, identity: PLAIN_KEYS.wechat }),
    },
    {
      channel: 'alipay' as const,
      provider: 'alipay' as const,
      build: (no: string) =>
        alipayRefundNotify({ outTradeNo: no, outRefundNo: `R-${no}`, refundFee: 300, total: 1000, identity: PLAIN_KEYS.alipay }),
    },
  ]
  for (const { channel, provider, build } of cases) {
    it(`${channel}: records the payment first, then the refund: payment.succeeded before refund.succeeded`, async () => {
      const received = receiveEvents(forwardUrl(PLAIN))
      const outTradeNo = `RBP-${channel.replace('.', '')}-${Date.now()}`
      await expectAccepted(channel, await notify(channel, PLAIN, build(outTradeNo)))
      const view = await order(PLAIN, provider, outTradeNo)
      expect(view).toMatchObject({ status: 'partially_refunded', amount: 1000 })
      expect(view.events.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
      const events = await forwardedFor(received, PLAIN, provider, outTradeNo, 2)
      expect(events.map((e) => [e.type, e.data.amount, e.data.refund?.amount ?? null])).toEqual([
        ['payment.succeeded', 1000, null],
        ['refund.succeeded', 1000, 300],
      ])
      // The payment's own notification, when it comes, changes nothing.
      await expectAccepted(channel, await notify(channel, PLAIN, freshPayment(channel, { outTradeNo, amount: 1000, identity: PLAIN_KEYS })))
      expect((await order(PLAIN, provider, outTradeNo)).events).toHaveLength(2)
    })
  }

  it('is still checked against the registered amount: a refund proving another amount than registered pays nothing', async () => {
    const outTradeNo = `RBP-MISMATCH-${Date.now()}`
    await admin(`/admin/merchants/${PLAIN}/orders/${outTradeNo}`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 500, channel: 'wechatpay.v3' }),
    })
    const reply = await notify(
      'wechatpay.v3',
      PLAIN,
      v3RefundNotify({ outTradeNo, outRefundNo: 'R-1', refund: 300, total: 1000, identity: PLAIN_KEYS.wechat }),
    )
    expect(reply.status).toBe(409)
    const view = await order(PLAIN, 'wechatpay', outTradeNo)
    expect(view).toMatchObject({ status: 'amount_mismatch', events: [] })
  })
})

describe('registering refunds: PUT …/orders/{no}/refunds/{outRefundNo}', () => {
  it('refuses a refund larger than the order, another amount for a settled refund, and bad input', async () => {
    const paid = freshPayment('wechatpay.v3', { amount: 1000, identity: PLAIN_KEYS })
    await expectAccepted('wechatpay.v3', await notify('wechatpay.v3', PLAIN, paid))
    const tooLarge = await registerRefund(PLAIN, paid.outTradeNo, 'R-BIG', 1001, 'wechatpay.v3')
    expect(tooLarge.status).toBe(409)
    expect(await tooLarge.json()).toEqual({ error: { code: 'conflict', message: "the refund exceeds the order's amount (1000)" } })
    await expectAccepted(
      'wechatpay.v3',
      await notify(
        'wechatpay.v3',
        PLAIN,
        v3RefundNotify({ outTradeNo: paid.outTradeNo, outRefundNo: 'R-1', refund: 400, total: 1000, identity: PLAIN_KEYS.wechat }),
      ),
    )
    const other = await registerRefund(PLAIN, paid.outTradeNo, 'R-1', 500, 'wechatpay.v3')
    expect(await other.json()).toEqual({ error: { code: 'conflict', message: 'the refund already succeeded with 400' } })
    const same = await registerRefund(PLAIN, paid.outTradeNo, 'R-1', 400, 'wechatpay.v3')
    expect(await same.json()).toMatchObject({ out_refund_no: 'R-1', amount: 400, status: 'succeeded', order_status: 'partially_refunded' })
    // 400 of 1000 is refunded: a refund above the 600 left cannot have been made, the rest can.
    const aboveLeft = await registerRefund(PLAIN, paid.outTradeNo, 'R-3', 601, 'wechatpay.v3')
    expect({ status: aboveLeft.status, body: await aboveLeft.json() }).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: 'the refund exceeds what is left to refund (600 of 1000)' } },
    })
    const rest = await registerRefund(PLAIN, paid.outTradeNo, 'R-3', 600, 'wechatpay.v3')
    expect(await rest.json()).toMatchObject({ out_refund_no: 'R-3', status: 'pending', order_status: 'partially_refunded' })
    for (const [body, message] of [
      [{ amount: 0 }, 'amount: must be a positive integer in minor units (fen)'],
      [{ amount: 1.5 }, 'amount: must be a positive integer in minor units (fen)'],
      [{ amount: 1, note: 'x' }, 'note: unknown field (expected one of amount, channel, provider)'],
      [{ amount: 1, channel: 'paypal' }, 'channel: one of wechatpay, alipay, wechatpay.v2, wechatpay.v3'],
    ] as const) {
      const reply = await admin(`/admin/merchants/${PLAIN}/orders/${paid.outTradeNo}/refunds/R-2`, {
        method: 'PUT',
        body: JSON.stringify(body),
      })
      expect({ status: reply.status, body: await reply.json() }).toEqual({
        status: 400,
        body: { error: { code: 'invalid_request', message } },
      })
    }
    const unknown = await admin('/admin/merchants/nobody/orders/T1/refunds/R1', { method: 'PUT', body: JSON.stringify({ amount: 1 }) })
    expect(unknown.status).toBe(404)
  })

  it('a refusal by one provider’s order changes no provider’s order (the audit’s RF-1: WeChat Pay paid, Alipay not)', async () => {
    const outTradeNo = `RF-1-${Date.now()}`
    // Before any notification: registered with both providers' orders, creating them.
    const first = await registerRefund(PLAIN, outTradeNo, 'R1', 30)
    expect(await first.json()).toMatchObject({ providers: ['wechatpay', 'alipay'], status: 'pending' })
    await expectAccepted(
      'wechatpay.v3',
      await notify('wechatpay.v3', PLAIN, freshPayment('wechatpay.v3', { outTradeNo, amount: 100, identity: PLAIN_KEYS })),
    )
    await expectAccepted(
      'wechatpay.v3',
      await notify(
        'wechatpay.v3',
        PLAIN,
        v3RefundNotify({ outTradeNo, outRefundNo: 'R1', refund: 30, total: 100, identity: PLAIN_KEYS.wechat }),
      ),
    )
    const wechatBefore = await order(PLAIN, 'wechatpay', outTradeNo)
    const alipayBefore = await order(PLAIN, 'alipay', outTradeNo)
    expect(wechatBefore.refunds).toMatchObject([{ out_refund_no: 'R1', status: 'succeeded', amount: 30 }])
    expect(alipayBefore.refunds).toMatchObject([{ out_refund_no: 'R1', status: 'pending', registered_amount: 30 }])

    // Alipay's order has no amount and no settled R1: only WeChat Pay's refuses, and that is enough.
    const tooLarge = await registerRefund(PLAIN, outTradeNo, 'R3', 200)
    expect({ status: tooLarge.status, body: await tooLarge.json() }).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: "the refund exceeds the order's amount (100)" } },
    })
    const otherAmount = await registerRefund(PLAIN, outTradeNo, 'R1', 40)
    expect({ status: otherAmount.status, body: await otherAmount.json() }).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: 'the refund already succeeded with 30' } },
    })

    expect(await order(PLAIN, 'alipay', outTradeNo)).toEqual(alipayBefore)
    expect(await order(PLAIN, 'wechatpay', outTradeNo)).toEqual(wechatBefore)
  })

  it('an order number paid through both providers: GET shows the latest and names the other', async () => {
    const outTradeNo = `TWICE-${Date.now()}`
    await expectAccepted(
      'wechatpay.v3',
      await notify('wechatpay.v3', PLAIN, freshPayment('wechatpay.v3', { outTradeNo, amount: 100, identity: PLAIN_KEYS })),
    )
    const get = async (query = '') =>
      (await (await admin(`/admin/merchants/${PLAIN}/orders/${outTradeNo}${query}`)).json()) as {
        provider: string
        status: string
        other_providers: string[]
      }
    expect(await get()).toMatchObject({ provider: 'wechatpay', status: 'paid', other_providers: [] })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await notify('alipay', PLAIN, freshPayment('alipay', { outTradeNo, amount: 100, identity: PLAIN_KEYS }))).status).toBe(200)
    expect(await get()).toMatchObject({ provider: 'alipay', status: 'paid', other_providers: ['wechatpay'] })
    expect(await get('?provider=wechatpay')).toMatchObject({ provider: 'wechatpay', other_providers: ['alipay'] })
    expect(await get('?provider=alipay')).toMatchObject({ provider: 'alipay', other_providers: ['wechatpay'] })
  })

  it('judging a refund with an order object that never heard of the order creates nothing', async () => {
    const stub = orderStub(env, { merchantId: PLAIN, provider: 'alipay', outTradeNo: `NEVER-${Date.now()}` })
    expect(await stub.refundConflict({ outRefundNo: 'R1', amount: 1 })).toBeNull()
    const tables = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'records'").toArray(),
    )
    expect(tables).toEqual([])
  })

  it('lists the order’s refunds in GET …/orders/{no}, and the whole view is what the OpenAPI document says', async () => {
    const received = receiveEvents(forwardUrl(PLAIN))
    const paid = freshPayment('alipay', { amount: 1000, identity: PLAIN_KEYS })
    await expectAccepted('alipay', await notify('alipay', PLAIN, paid))
    await forwardedFor(received, PLAIN, 'alipay', paid.outTradeNo, 1)
    expect((await registerRefund(PLAIN, paid.outTradeNo, 'R-LISTED', 250)).status).toBe(200)
    const view = await order(PLAIN, 'alipay', paid.outTradeNo)
    // Every documented field, with its documented type: a delivery with its attempt log, the notification's source,
    // the refund, the (absent) reconciliation.
    const documented = orderRoutes(defaultRegistry).getOrder.responses[200].schema
    expect(documented.safeParse(view).error).toBeUndefined()
    expect(view.deliveries).toMatchObject([{ status: 'delivered', attempt_log: [{ number: 1, status_code: 200, outcome: 'delivered' }] }])
    expect(view.refunds).toEqual([
      {
        out_refund_no: 'R-LISTED',
        refund_id: null,
        amount: null,
        status: 'pending',
        registered_amount: 250,
        next_query_at: expect.any(String),
        last_query_result: null,
      },
    ])
  })
})
