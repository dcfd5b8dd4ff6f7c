/**
 * The refund invariants as a property, through the real Worker: for any interleaving and duplication of
 * an order's refund notifications (and of the merchant's registrations of some of them), each refund is
 * forwarded once with its own amount, and the forwarded amounts add up to the cumulative total. Alipay
 * is the hard case (its notifications carry the running total); WeChat's state each refund's amount.
 * Notifications and refund-query answers are signed live with node:crypto.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import fc from 'fast-check'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import type { Channel } from '../../src/providers'
import { ACCEPT, admin, forwardUrl, freshPayment, merchantBody, notify, orderView, PROVIDER_OF } from '../security/harness'
import {
  alipayRefundNotify,
  alipayRefundQueryAnswers,
  receiveEvents,
  v2RefundNotify,
  v3RefundNotify,
  withQueryKeys,
  type ReceivedEvent,
} from '../support/refunds'

const MERCHANT = 'refund-property'
const RUNS = 20

type Action = { kind: 'notify'; refund: number } | { kind: 'register'; refund: number }

interface Scenario {
  channel: Channel
  amounts: number[]
  /** What is left unrefunded (0: the last refund closes the Alipay trade). */
  rest: number
  registered: boolean[]
  actions: Action[]
}

/** Every refund notified at least once, some twice or three times, some registered; all in any order. */
const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    channel: fc.constantFrom<Channel>('alipay', 'alipay', 'wechatpay.v3', 'wechatpay.v2'),
    amounts: fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 4 }),
    rest: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
    registered: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
    seed: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
  })
  .map(({ channel, amounts, rest, registered, copies, seed }) => {
    const actions: Action[] = amounts.flatMap((_, refund) => [
      ...Array.from({ length: copies[refund]! }, () => ({ kind: 'notify' as const, refund })),
      ...(registered[refund] ? [{ kind: 'register' as const, refund }] : []),
    ])
    // A Fisher–Yates shuffle driven by the generated seed, so fast-check can shrink it.
    for (let i = actions.length - 1; i > 0; i--) {
      const j = seed[i % seed.length]! % (i + 1)
      ;[actions[i], actions[j]] = [actions[j]!, actions[i]!]
    }
    return { channel, amounts, rest, registered, actions }
  })

let run = 0

beforeAll(async () => {
  const reply = await admin(`/admin/merchants/${MERCHANT}`, { method: 'PUT', body: JSON.stringify(withQueryKeys(merchantBody(MERCHANT))) })
  expect(reply.status).toBe(201)
})

describe('refund invariants (property, through the Worker)', () => {
  it(`any interleaving and duplication of an order's refund notifications: each refund forwarded once, amounts adding up (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async ({ channel, amounts, rest, actions }) => {
        run += 1
        const provider = PROVIDER_OF[channel]
        const total = amounts.reduce((sum, a) => sum + a, 0) + rest
        const paid = freshPayment(channel, { amount: total })
        const outTradeNo = paid.outTradeNo
        const refundNo = (i: number) => `RP${run}-${i}`
        const cumulative = (i: number) => amounts.slice(0, i + 1).reduce((sum, a) => sum + a, 0)
        const received: ReceivedEvent[] = receiveEvents(forwardUrl(MERCHANT))
        // Alipay answers refund queries from what it did: every refund of this run.
        alipayRefundQueryAnswers(amounts.map((amount, i) => ({ outTradeNo, outRefundNo: refundNo(i), amount, total })))
        // Each copy of a refund's notification is the same message Alipay or WeChat resends.
        const notifications = amounts.map((amount, i) => {
          const ref = { outTradeNo, outRefundNo: refundNo(i) }
          if (channel === 'alipay') return alipayRefundNotify({ ...ref, refundFee: cumulative(i), total, notifyId: `NP${run}-${i}` })
          if (channel === 'wechatpay.v3') return v3RefundNotify({ ...ref, refund: amount, total, id: `EV-P${run}-${i}` })
          return v2RefundNotify({ ...ref, refund: amount, total })
        })

        expect((await notify(channel, MERCHANT, paid)).status).toBe(ACCEPT[channel].status)
        for (const action of actions) {
          if (action.kind === 'notify') {
            const reply = await notify(channel, MERCHANT, notifications[action.refund]!)
            expect({ status: reply.status, body: await reply.text() }).toEqual(ACCEPT[channel])
          } else {
            const path = `/admin/merchants/${MERCHANT}/orders/${outTradeNo}/refunds/${refundNo(action.refund)}`
            const reply = await admin(path, { method: 'PUT', body: JSON.stringify({ amount: amounts[action.refund], channel }) })
            expect(reply.status).toBe(200)
          }
        }

        // Held refunds are asked about at once; the alarm runs the queries, then the outbox.
        const stub = orderStub(env, { merchantId: MERCHANT, provider, outTradeNo })
        await vi.waitFor(
          async () => {
            await runDurableObjectAlarm(stub)
            const refunds = received.filter((e) => e.data.out_trade_no === outTradeNo && e.type === 'refund.succeeded')
            expect(refunds).toHaveLength(amounts.length)
          },
          { timeout: 5_000, interval: 50 },
        )
        await runDurableObjectAlarm(stub)
        const events = received.filter((e) => e.data.out_trade_no === outTradeNo)
        const refunds = events.filter((e) => e.type === 'refund.succeeded').map((e) => e.data.refund!)
        // Once per out_refund_no, each with its own amount…
        expect(refunds.map((r) => [r.out_refund_no, r.amount]).sort()).toEqual(amounts.map((amount, i) => [refundNo(i), amount]).sort())
        // …adding up to the cumulative total, which each event's running total reaches in turn.
        const sum = refunds.reduce((s, r) => s + r.amount, 0)
        expect(sum).toBe(total - rest)
        expect(refunds.at(-1)!.total_refunded).toBe(sum)
        expect(events.map((e) => e.type)).toEqual(['payment.succeeded', ...refunds.map(() => 'refund.succeeded')])
        expect(new Set(events.map((e) => e.webhookId)).size).toBe(events.length)
        const view = (await orderView(MERCHANT, provider, outTradeNo)) as unknown as { status: string; refunded_amount: number }
        expect(view).toMatchObject({ status: rest === 0 ? 'refunded' : 'partially_refunded', refunded_amount: sum })
      }),
      { numRuns: RUNS },
    )
  })
})
