/**
 * WeChat Pay combined payments (合单支付) as they meet registration, queries and refunds, as a property through the
 * real Worker and order objects: any interleaving of the v3 combined callback (and WeChat's resends of it), the
 * merchant's registrations and syncs of its sub-orders (naming the combine, mistyping it, or not), the orders' due
 * queries, and a refund of one sub-order, for each pair of merchant options. WeChat's combined query answers from the
 * same model as its callback (every sub-order SUCCESS, or one NOTPAY); callbacks and answers signed live with
 * node:crypto (test/support/combined.ts, test/support/refunds.ts).
 */
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import type { OrderRef } from '../../src/storage/order'
import { admin, drainOutbox, forwardUrl, merchantBody, notify, orderView, ownKeys } from '../security/harness'
import { v3TransactionNotify } from '../security/signing'
import { ordinaryQueryLog, v3CombinedQueryAnswers, v3CombinedTransaction, type Combine } from '../support/combined'
import { runDueQuery } from '../support/orders'
import { receiveEvents, v3RefundNotify, withQueryKeys, type ReceivedEvent } from '../support/refunds'

const RUNS = 40
const PAID = new Set(['paid', 'partially_refunded', 'refunded'])

type Naming = 'none' | 'right' | 'mistyped'
type Single =
  | { kind: 'callback' }
  | { kind: 'register'; sub: number; naming: Naming }
  | { kind: 'sync'; sub: number; naming: Naming }
  | { kind: 'alarm'; sub: number }
  | { kind: 'refund' }
/** Two requests at once: WeChat's and the merchant's cross, or WeChat resends while the first is being stored. */
type Action = Single | { kind: 'both'; first: Single; second: Single }

interface Scenario {
  amounts: number[]
  /** The sub-order WeChat holds as NOTPAY, if any. */
  notPaid: number | null
  /** The sub-order refunded (never the NOTPAY one). */
  refunded: number
  confirmPaymentsByQuery: boolean
  requireRegisteredOrders: boolean
  actions: Action[]
}

const naming = fc.constantFrom<Naming>('none', 'right', 'right', 'mistyped')
const single = (subs: number): fc.Arbitrary<Single> =>
  fc.oneof(
    fc.constant<Single>({ kind: 'callback' }),
    fc.record({ kind: fc.constant('register' as const), sub: fc.nat({ max: subs - 1 }), naming }),
    fc.record({ kind: fc.constant('sync' as const), sub: fc.nat({ max: subs - 1 }), naming }),
    fc.record({ kind: fc.constant('alarm' as const), sub: fc.nat({ max: subs - 1 }) }),
    fc.constant<Single>({ kind: 'refund' }),
  )
const action = (subs: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { arbitrary: single(subs), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('both' as const), first: single(subs), second: single(subs) }), weight: 1 },
  )

const scenarios: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 3 }).chain((subs) =>
  fc
    .record({
      amounts: fc.array(fc.integer({ min: 2, max: 5000 }), { minLength: subs, maxLength: subs }),
      notPaid: fc.option(fc.nat({ max: subs - 1 }), { nil: null }),
      refunded: fc.nat({ max: subs - 1 }),
      confirmPaymentsByQuery: fc.boolean(),
      requireRegisteredOrders: fc.boolean(),
      actions: fc.array(action(subs), { minLength: 1, maxLength: 8 }),
    })
    .map((s) => ({ ...s, refunded: s.refunded === s.notPaid ? (s.refunded + 1) % subs : s.refunded })),
)

const merchants = new Map<string, Promise<void>>()

/** One merchant per pair of options, with its own ids and the query keys, saved once. */
function merchantFor({ confirmPaymentsByQuery, requireRegisteredOrders }: Scenario): Promise<string> {
  const merchantId = `combined-prop-${Number(confirmPaymentsByQuery)}${Number(requireRegisteredOrders)}`
  if (!merchants.has(merchantId)) {
    const body = {
      ...withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
      confirmPaymentsByQuery,
      requireRegisteredOrders,
    }
    merchants.set(
      merchantId,
      admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(body) }).then((reply) =>
        expect(reply.status).toBe(201),
      ),
    )
  }
  return merchants.get(merchantId)!.then(() => merchantId)
}

let run = 0

/** Plays a scenario and checks its invariants; throws (an assertion) on the first broken one. */
async function playCombined(scenario: Scenario): Promise<void> {
  run += 1
  const merchantId = await merchantFor(scenario)
  const tag = `${Date.now().toString(36)}R${run}`
  const combine: Combine = {
    identity: ownKeys(merchantId).wechat,
    combineOutTradeNo: `CPROP${tag}`,
    subOrders: scenario.amounts.map((amount, i) => ({
      outTradeNo: `CPROP${tag}S${i}`,
      amount,
      transactionId: `4200${tag}${i}`,
      ...(i === scenario.notPaid ? { tradeState: 'NOTPAY' } : {}),
    })),
  }
  const subs = combine.subOrders
  const received: ReceivedEvent[] = receiveEvents(forwardUrl(merchantId))
  const ordinary = ordinaryQueryLog()
  v3CombinedQueryAnswers([combine])
  const ref = (i: number): OrderRef => ({ merchantId, provider: 'wechatpay', outTradeNo: subs[i]!.outTradeNo })
  const notificationId = `EV-CPROP${tag}`
  const callback = () => v3TransactionNotify(v3CombinedTransaction(combine), { apiV3Key: combine.identity.apiV3Key, id: notificationId })
  const refundSub = subs[scenario.refunded]!
  const refundAmount = refundSub.amount - 1
  const refundNotify = v3RefundNotify({
    outTradeNo: refundSub.outTradeNo,
    outRefundNo: `CPROP${tag}RF`,
    refund: refundAmount,
    total: refundSub.amount,
    transactionId: refundSub.transactionId!,
    identity: combine.identity,
    id: `EV-CPROP${tag}RF`,
  })

  // What the model knows: each reply, whether the callback was sent (or accepted), each order's named combine.
  const replies: string[] = []
  let callbackSent = false
  let callbackAccepted = false
  let refundAccepted = false
  const refundSent = scenario.actions.some(
    (a) => a.kind === 'refund' || (a.kind === 'both' && (a.first.kind === 'refund' || a.second.kind === 'refund')),
  )
  const named: (Naming | null)[] = subs.map(() => null)
  /** How many ordinary queries had been asked when each sub-order became known to be combined. */
  const knownAt: (number | null)[] = subs.map(() => null)
  const knownCombined = (i: number) => callbackSent || (named[i] !== null && named[i] !== 'none')
  const combineParam = (n: Naming) =>
    n === 'none' ? undefined : n === 'right' ? combine.combineOutTradeNo : `${combine.combineOutTradeNo}X`

  async function sendCallback(): Promise<void> {
    callbackSent = true
    const reply = await notify('wechatpay.v3', merchantId, callback())
    replies.push(`callback ${reply.status} ${await reply.text()}`)
    if (reply.status < 300) callbackAccepted = true
  }
  async function sendRefund(): Promise<void> {
    // A refund's report names no combine: the merchant may still name it.
    const reply = await notify('wechatpay.v3', merchantId, refundNotify)
    replies.push(`refund ${reply.status} ${await reply.text()}`)
    if (reply.status < 300) refundAccepted = true
  }

  /** The merchant's registration or sync of a sub-order; `racing` when another request runs beside it. */
  async function nameOrder(step: Extract<Action, { kind: 'register' | 'sync' }>, racing: boolean): Promise<void> {
    const { outTradeNo, amount } = subs[step.sub]!
    // WeChat reported on the order: its callback, or an answer to a query of it (a refund's names no combine).
    const trail = (await orderView(merchantId, 'wechatpay', outTradeNo))?.notifications ?? []
    const reported = callbackSent || trail.some((n) => (n as { source?: string }).source === 'query')
    const combineNo = combineParam(step.naming)
    const combineQuery = combineNo === undefined ? '' : `&combine_out_trade_no=${combineNo}`
    const reply =
      step.kind === 'register'
        ? await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, {
            method: 'PUT',
            body: JSON.stringify({ amount, ...(combineNo === undefined ? {} : { combine_out_trade_no: combineNo }) }),
          })
        : await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=wechatpay${combineQuery}`, { method: 'POST' })
    const text = await reply.text()
    replies.push(`${step.kind} ${step.sub} ${step.naming} ${reply.status} ${text}`)
    // The combine WeChat reports is the right one: naming it is never a conflict; a mistyped one is, once reported.
    const allowed = step.naming !== 'mistyped' ? [200] : racing ? [200, 409] : reported ? [409] : [200]
    expect(allowed, `${step.kind} ${step.naming}: ${reply.status} ${text}`).toContain(reply.status)
    // A sync of an order the gateway never heard of keeps nothing when WeChat reports nothing (README, limits).
    const kept = step.kind === 'register' || (await orderView(merchantId, 'wechatpay', outTradeNo)) !== null
    if (reply.status === 200 && step.naming !== 'none' && kept) named[step.sub] = step.naming
  }

  async function perform(step: Action, racing: boolean): Promise<void> {
    if (step.kind === 'callback') await sendCallback()
    else if (step.kind === 'refund') await sendRefund()
    else if (step.kind === 'alarm') await runDueQuery(ref(step.sub))
    else if (step.kind === 'both') await Promise.all([perform(step.first, true), perform(step.second, true)])
    else await nameOrder(step, racing)
  }

  for (const step of scenario.actions) {
    await perform(step, false)
    subs.forEach((_, i) => {
      if (knownAt[i] === null && knownCombined(i)) knownAt[i] = ordinary.asked.length
    })
  }

  // WeChat resends what it got no accept for; the orders' due queries run.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < subs.length; i++) await runDueQuery(ref(i))
    if (callbackSent && !callbackAccepted) await sendCallback()
    if (refundSent && !refundAccepted) await sendRefund()
  }
  for (let i = 0; i < subs.length; i++) await drainOutbox(merchantId, 'wechatpay', subs[i]!.outTradeNo)

  // No 5xx anywhere (nothing here is a reason to retry).
  for (const reply of replies) expect(reply, 'a reply').not.toMatch(/^\S+( \d+ \S+)? 5\d\d/)

  // The ordinary order query is never asked about a sub-order once it is known to be combined.
  subs.forEach(({ outTradeNo }, i) => {
    const after = knownAt[i] === null ? [] : ordinary.asked.slice(knownAt[i]!)
    expect(after, `ordinary query of known sub-order ${i}`).not.toContain(`v3 ${outTradeNo}`)
  })
  const views = await Promise.all(subs.map((s) => orderView(merchantId, 'wechatpay', s.outTradeNo)))
  const expected = subs.map((_sub, i) => {
    const wechatPaid = i !== scenario.notPaid
    const seen = callbackSent || named[i] === 'right'
    return { wechatPaid, seen, refund: wechatPaid && i === scenario.refunded && refundAccepted }
  })
  await vi.waitFor(
    () => {
      subs.forEach((sub, i) => {
        const events = received.filter((e) => e.data.out_trade_no === sub.outTradeNo)
        const status = views[i]?.status ?? 'unknown'
        if (expected[i]!.wechatPaid && expected[i]!.seen) expect(PAID, `sub-order ${i} ends paid, is ${status}`).toContain(status)
        if (!expected[i]!.wechatPaid) expect(PAID, `NOTPAY sub-order ${i}`).not.toContain(status)
        const types = events.map((e) => e.type)
        const wanted = PAID.has(status) ? ['payment.succeeded', ...(expected[i]!.refund ? ['refund.succeeded'] : [])] : []
        expect(types, `events of sub-order ${i} (${status})`).toEqual(wanted)
        if (PAID.has(status) && i === scenario.refunded && refundSent) expect(refundAccepted, 'the refund retried').toBe(true)
        expect(new Set(events.map((e) => e.webhookId)).size).toBe(events.length)
      })
    },
    { timeout: 5_000, interval: 50 },
  )
}

describe('combined payments (property, through the Worker)', () => {
  it(`any interleaving of callbacks, registrations, syncs, queries and a refund keeps each sub-order's payment once (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => playCombined(scenario)),
      { numRuns: RUNS, seed: 20261201 },
    )
  }, 60_000)
})
