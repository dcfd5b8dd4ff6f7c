/**
 * Confirming and denying a combined payment's sub-order (合单支付) by query, through the real Worker. WeChat answers
 * no ordinary order query for a combined order (https://pay.weixin.qq.com/doc/v3/merchant/4012557006): a v3 sub-order
 * is asked about only through its combine (`GET /v3/combine-transactions/out-trade-no/{combine_out_trade_no}`),
 * for `confirmPaymentsByQuery`, `requireRegisteredOrders` and an admin sync alike; a v2 one (whose combined query
 * WeChat closed) is never queried. Notifications and answers signed live with node:crypto (test/support/combined.ts).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { orderStub } from '../../src/order/order-key'
import { ACCEPT, admin, forwardUrl, freshPayment, merchantBody, notify, orderView, ownKeys, registerOrder } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import { inOrderStore } from '../support/orders'
import {
  ordinaryQueryLog,
  v2CombinedNotify,
  v3CombinedNotify,
  v3CombinedQueryAnswers,
  type Combine,
  type CombinedSubOrder,
} from '../support/combined'
import { receiveEvents, withQueryKeys } from '../support/refunds'

const SUB_MERCHANT = { subMchid: v3Fixtures.partner.subMchid, subAppid: v3Fixtures.partner.subAppid }

/** A merchant with ids of its own, the query keys, and `options` (confirmPaymentsByQuery, requireRegisteredOrders). */
async function saveMerchant(merchantId: string, options: Record<string, unknown>, partner = false): Promise<void> {
  const body = merchantBody(merchantId, {
    identity: ownKeys(merchantId),
    ...(partner ? { wechatpayFields: SUB_MERCHANT } : {}),
  })
  const reply = await admin(`/admin/merchants/${merchantId}`, {
    method: 'PUT',
    body: JSON.stringify({ ...withQueryKeys(body), ...options }),
  })
  expect(reply.status).toBe(201)
}

/** A combined payment of two fresh sub-orders (1.00 and 2.00) of the merchant. */
function combineOf(merchantId: string, partner = false): Combine {
  const subOrders: CombinedSubOrder[] = [
    { outTradeNo: freshOrderNo('SUB1'), amount: 100 },
    { outTradeNo: freshOrderNo('SUB2'), amount: 200 },
  ]
  return {
    identity: ownKeys(merchantId).wechat,
    combineOutTradeNo: freshOrderNo('COMBINE'),
    subOrders,
    ...(partner ? { partner: SUB_MERCHANT } : {}),
  }
}

const ref = (merchantId: string, outTradeNo: string) => ({ merchantId, provider: 'wechatpay' as const, outTradeNo })

/** Runs each sub-order's alarm (its due query, then its deliveries). */
async function runAlarms(merchantId: string, combine: Combine): Promise<void> {
  for (const { outTradeNo } of combine.subOrders) await runDurableObjectAlarm(orderStub(env, ref(merchantId, outTradeNo)))
}

describe.each([
  ['direct', false],
  ['partner-mode', true],
] as const)('a %s v3 combined sub-order, confirmed by query', (_mode, partner) => {
  const suffix = partner ? 'partner' : 'direct'

  it('is asked about through its combine, never the ordinary query, and paid once per sub-order', async () => {
    const merchantId = `combined-confirm-${suffix}`
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true }, partner)
    const received = receiveEvents(forwardUrl(merchantId))
    const combine = combineOf(merchantId, partner)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()

    const callback = v3CombinedNotify(combine)
    expect(await (await notify('wechatpay.v3', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    for (const { outTradeNo } of combine.subOrders) {
      const held = await orderView(merchantId, 'wechatpay', outTradeNo)
      expect(held).toMatchObject({ status: 'pending', events: [] })
      expect(held!.notifications).toMatchObject([{ verdict: 'accepted', reason: 'awaiting confirmation by order query' }])
    }

    await runAlarms(merchantId, combine)
    for (const { outTradeNo, amount } of combine.subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
    }
    // One combined query per sub-order, with no query string in either mode (the docs' partner variant is the same URL).
    expect(combined.asked).toEqual(combine.subOrders.map(() => ({ combineOutTradeNo: combine.combineOutTradeNo, search: '' })))
    expect(ordinary.asked).toEqual([])
    await vi.waitFor(() => expect(received).toHaveLength(2))
    expect(received.map((e) => [e.type, e.data.out_trade_no]).sort()).toEqual(
      combine.subOrders.map((s) => ['payment.succeeded', s.outTradeNo]).sort(),
    )

    // WeChat resends the callback: a duplicate in each sub-order, nothing asked or forwarded again.
    expect(await (await notify('wechatpay.v3', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runAlarms(merchantId, combine)
    expect(received).toHaveLength(2)
    expect(combined.asked).toHaveLength(2)
    expect(ordinary.asked).toEqual([])
  })

  it('is not paid when the combine’s signed answer says the sub-order is NOTPAY', async () => {
    const merchantId = `combined-notpay-${suffix}`
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true }, partner)
    const received = receiveEvents(forwardUrl(merchantId))
    const combine = combineOf(merchantId, partner)
    const [first, second] = combine.subOrders as [CombinedSubOrder, CombinedSubOrder]
    // WeChat's word on the combine: the first sub-order paid, the second not.
    const combined = v3CombinedQueryAnswers([{ ...combine, subOrders: [first, { ...second, tradeState: 'NOTPAY' }] }])
    const ordinary = ordinaryQueryLog()

    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runAlarms(merchantId, combine)
    expect(combined.asked).toHaveLength(2)
    expect(ordinary.asked).toEqual([])
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'paid', amount: first.amount })
    expect(await orderView(merchantId, 'wechatpay', second.outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    const plan = await inOrderStore(ref(merchantId, second.outTradeNo), (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ lastResult: 'wechatpay.v3 not paid: NOTPAY' })
    expect(plan?.unconfirmed).toBeUndefined()
    await vi.waitFor(() => expect(received.map((e) => e.data.out_trade_no)).toEqual([first.outTradeNo]))
  })
})

describe('a v3 combined sub-order', () => {
  it('of a merchant that requires registered orders, unregistered, is paid by the combine’s answer', async () => {
    const merchantId = 'combined-unregistered'
    await saveMerchant(merchantId, { requireRegisteredOrders: true })
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()

    expect((await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).status).toBe(409)
    for (const { outTradeNo } of combine.subOrders) {
      expect((await orderView(merchantId, 'wechatpay', outTradeNo))!.notifications).toMatchObject([
        { verdict: 'rejected', reason: 'order_not_registered' },
      ])
    }
    await runAlarms(merchantId, combine)
    expect(ordinary.asked).toEqual([])
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toEqual([combine.combineOutTradeNo, combine.combineOutTradeNo])
    for (const { outTradeNo, amount } of combine.subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
    }
  })

  it('is synced by an admin through the combined query', async () => {
    const merchantId = 'combined-sync'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()
    const [first] = combine.subOrders as [CombinedSubOrder]

    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${first.outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(sync.status).toBe(200)
    expect(await sync.json()).toMatchObject({ results: [{ provider: 'wechatpay', status: 'paid', query: 'wechatpay.v3 paid (accepted)' }] })
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toEqual([combine.combineOutTradeNo])
    expect(ordinary.asked).toEqual([])
  })
})

describe('a held v3 combined sub-order', () => {
  it('is kept, not denied, when the combined query answers 404 ORDER_NOT_EXIST: its signed notification named the combine', async () => {
    const merchantId = 'combined-unknown-combine'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combine = combineOf(merchantId)
    // The combined endpoint knows no such combine: an unsigned 404, as a forged or faulty answer would be.
    const combined = v3CombinedQueryAnswers([])
    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runAlarms(merchantId, combine)
    expect(combined.asked).toHaveLength(2)
    for (const { outTradeNo } of combine.subOrders) {
      const plan = await inOrderStore(ref(merchantId, outTradeNo), (store) => store.reconciliation.get())
      expect(plan?.lastResult).toBe('wechatpay.v3 failed: provider_error')
      expect(plan?.unconfirmed).toBeDefined()
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    }
    // Once WeChat answers, the kept payment is paid.
    const answered = v3CombinedQueryAnswers([combine])
    const [first] = combine.subOrders as [CombinedSubOrder]
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${first.outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(await sync.json()).toMatchObject({ results: [{ status: 'paid' }] })
    expect(answered.asked).toHaveLength(1)
  })

  it('stored before orders kept their combine is asked through the combine once WeChat resends the callback', async () => {
    const merchantId = 'combined-stored-before'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combine = combineOf(merchantId)
    const callback = v3CombinedNotify(combine)
    expect(await (await notify('wechatpay.v3', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    const [first] = combine.subOrders as [CombinedSubOrder]
    // The record as an order object wrote it before it kept the combine: no combinedPayment on the order.
    await inOrderStore(ref(merchantId, first.outTradeNo), (store) =>
      store.transaction(() =>
        // biome-ignore lint/suspicious/noExplicitAny: the test writes the older record shape into the head
        (store as any).head.update((head: any) => {
          delete head.order.combinedPayment
          delete head.reconciliation?.unconfirmed?.notification?.combinedPayment
        }),
      ),
    )
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()
    // WeChat resends the callback: a duplicate in each order, which still gives the older record its combine.
    expect(await (await notify('wechatpay.v3', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, first.outTradeNo)))
    expect(ordinary.asked).toEqual([])
    expect(combined.asked).toHaveLength(1)
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'paid', amount: first.amount })
  })

  it('of a merchant without APIv3 query keys says keys are missing, not that no query exists', async () => {
    const merchantId = 'combined-no-keys'
    const reply = await admin(`/admin/merchants/${merchantId}`, {
      method: 'PUT',
      body: JSON.stringify(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
    })
    expect(reply.status).toBe(201)
    const combine = combineOf(merchantId)
    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    const [first] = combine.subOrders as [CombinedSubOrder]
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${first.outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(await sync.json()).toMatchObject({ results: [{ query: 'not configured: no query keys for this provider' }] })
  })
})

describe('a v2 combined sub-order (no combined query: WeChat closed v2 querycombinedorder)', () => {
  it('is paid as notified for a merchant that confirms payments by query, and says why', async () => {
    const merchantId = 'combined-v2-confirm'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()

    expect(await (await notify('wechatpay.v2', merchantId, v2CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v2'].body)
    for (const { outTradeNo, amount } of combine.subOrders) {
      const view = await orderView(merchantId, 'wechatpay', outTradeNo)
      expect(view).toMatchObject({ status: 'paid', amount })
      expect(view!.notifications).toMatchObject([
        { verdict: 'accepted', reason: 'paid as notified: a combined payment no query can confirm' },
      ])
    }
    await runAlarms(merchantId, combine)
    await vi.waitFor(() => expect(received).toHaveLength(2))
    // An admin sync asks nothing either, and says why.
    const [first] = combine.subOrders as [CombinedSubOrder]
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${first.outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(await sync.json()).toMatchObject({ results: [{ status: 'paid', query: 'not queried: no query of its combined payment' }] })
    expect(ordinary.asked).toEqual([])
    expect(combined.asked).toEqual([])
  })

  it('is refused until registered for a merchant that requires registered orders, and never queried', async () => {
    const merchantId = 'combined-v2-unregistered'
    await saveMerchant(merchantId, { requireRegisteredOrders: true })
    const combine = combineOf(merchantId)
    const ordinary = ordinaryQueryLog()
    const callback = v2CombinedNotify(combine)

    expect((await notify('wechatpay.v2', merchantId, callback)).status).toBe(409)
    for (const { outTradeNo } of combine.subOrders) {
      expect(await inOrderStore(ref(merchantId, outTradeNo), (store) => store.reconciliation.get())).toBeNull()
    }
    await runAlarms(merchantId, combine)
    expect(ordinary.asked).toEqual([])

    for (const { outTradeNo, amount } of combine.subOrders) await registerOrder(merchantId, outTradeNo, amount)
    expect(await (await notify('wechatpay.v2', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v2'].body)
    for (const { outTradeNo, amount } of combine.subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
    }
  })
})

describe('an ordinary v3 payment of a merchant that confirms payments by query', () => {
  it('is still confirmed by the ordinary order query, never the combined one', async () => {
    const merchantId = 'combined-ordinary'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combined = v3CombinedQueryAnswers([])
    const ordinary = ordinaryQueryLog()
    const paid = freshPayment('wechatpay.v3', { identity: ownKeys(merchantId), amount: 100 })

    expect(await (await notify('wechatpay.v3', merchantId, paid)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, paid.outTradeNo)))
    expect(ordinary.asked).toEqual([`v3 ${paid.outTradeNo}`])
    expect(combined.asked).toEqual([])
    // The ordinary query's 404 ORDER_NOT_EXIST is WeChat's word that it is not paid: the kept payment is dropped.
    expect(await orderView(merchantId, 'wechatpay', paid.outTradeNo)).toMatchObject({ status: 'pending', events: [] })
  })
})
