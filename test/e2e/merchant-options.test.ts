/**
 * Two per-merchant options (contract part 2, issue 13): `confirmPaymentsByQuery` (every payment
 * notification is confirmed by an order query before it is forwarded) and `keepRejectedBodies` (the raw
 * body of a rejected notification is kept, signatures cut short, bounded in size and age, so an operator
 * can see why it failed). Through the real Worker; notifications and answers signed with node:crypto.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { createSign } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { orderStub } from '../../src/order/order-key'
import { KEPT_BODIES_PER_MERCHANT, keptBody, refusedBody } from '../../src/storage/rejected-bodies'
import { applyToShard } from '../../src/storage/projection'
import {
  ACCEPT,
  admin,
  callWorker,
  forwardUrl,
  freshPayment,
  merchantBody,
  notify,
  orderView,
  ownKeys,
  unavailableD1,
} from '../security/harness'
import { alipayPayment, signV2, v2PaymentFields, v2Xml } from '../security/signing'
import { inOrderStore } from '../support/orders'
import { ALIPAY_GATEWAY, receiveEvents, tradeQueryAnswers, withQueryKeys } from '../support/refunds'

/** A merchant with provider ids of its own (confirm-by-query holds the fixture ids). */
async function saveMerchant(id: string, extra: Record<string, unknown>, status = 201): Promise<void> {
  const body = { ...merchantBody(id, { identity: ownKeys(id) }), ...extra }
  const reply = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
  expect(reply.status).toBe(status)
}

describe('confirmPaymentsByQuery', () => {
  const MERCHANT = 'confirm-by-query'

  it('holds a payment notification until the order query confirms it, then forwards one payment.succeeded', async () => {
    await admin(`/admin/merchants/${MERCHANT}`, {
      method: 'PUT',
      body: JSON.stringify({ ...withQueryKeys(merchantBody(MERCHANT)), confirmPaymentsByQuery: true }),
    })
    expect(await (await admin(`/admin/merchants/${MERCHANT}`)).json()).toMatchObject({ confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(MERCHANT))
    const asked = tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000009999',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '1.00',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const paid = alipayPayment({ outTradeNo: `CONFIRM-${Date.now()}`, amount: 100 })
    const outTradeNo = new URLSearchParams(paid.body).get('out_trade_no')!
    expect(await (await notify('alipay', MERCHANT, paid)).text()).toBe('success')
    const held = await orderView(MERCHANT, 'alipay', outTradeNo)
    expect(held).toMatchObject({ status: 'pending', events: [] })
    expect(held!.notifications).toMatchObject([{ verdict: 'accepted', reason: 'awaiting confirmation by order query' }])

    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo }))
    expect(asked).toEqual([outTradeNo])
    const confirmed = await orderView(MERCHANT, 'alipay', outTradeNo)
    expect(confirmed).toMatchObject({ status: 'paid', amount: 100 })
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded']))
    expect(received[0]!.data.raw).toMatchObject({ trade_no: '2026112222001400000000009999', trade_status: 'TRADE_SUCCESS' })
    // Alipay retries its notification: a duplicate.
    expect(await (await notify('alipay', MERCHANT, paid)).text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo }))
    expect(received).toHaveLength(1)
  })

  it('forwards nothing when the provider’s signed answer says the order is not paid', async () => {
    const received = receiveEvents(forwardUrl(MERCHANT))
    tradeQueryAnswers(() => ({ trade_no: '2026112222001400000000009998', trade_status: 'WAIT_BUYER_PAY', total_amount: '1.00' }))
    const paid = alipayPayment({ outTradeNo: `CONFIRM-NO-${Date.now()}`, amount: 100 })
    const outTradeNo = new URLSearchParams(paid.body).get('out_trade_no')!
    expect(await (await notify('alipay', MERCHANT, paid)).text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, { merchantId: MERCHANT, provider: 'alipay', outTradeNo }))
    expect(await orderView(MERCHANT, 'alipay', outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    expect(received).toEqual([])
  })

  it('once the provider said not paid, the kept notification never pays the order, even when the keys are removed', async () => {
    const merchantId = 'confirm-denied'
    await saveMerchant(merchantId, {
      ...withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
      confirmPaymentsByQuery: true,
    })
    tradeQueryAnswers(() => ({ trade_no: '2026112222001400000000009997', trade_status: 'WAIT_BUYER_PAY', total_amount: '1.00' }))
    const paid = freshPayment('alipay', { identity: ownKeys(merchantId), amount: 100 })
    expect(await (await notify('alipay', merchantId, paid)).text()).toBe(ACCEPT.alipay.body)
    await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: paid.outTradeNo }))
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true }, 200)
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=alipay`, { method: 'POST' })
    expect(sync.status).toBe(200)
    expect(await orderView(merchantId, 'alipay', paid.outTradeNo)).toMatchObject({ status: 'pending', events: [] })
  })

  it('pays as notified a payment still awaiting confirmation when the merchant’s keys no longer allow the query', async () => {
    const merchantId = 'confirm-keys-removed'
    await saveMerchant(merchantId, {
      ...withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
      confirmPaymentsByQuery: true,
    })
    const received = receiveEvents(forwardUrl(merchantId))
    // Alipay cannot be reached: the first query fails, the payment waits.
    network.use(http.post(ALIPAY_GATEWAY, () => HttpResponse.error()))
    const paid = freshPayment('alipay', { identity: ownKeys(merchantId), amount: 100 })
    expect(await (await notify('alipay', merchantId, paid)).text()).toBe(ACCEPT.alipay.body)
    const ref = { merchantId, provider: 'alipay' as const, outTradeNo: paid.outTradeNo }
    await runDurableObjectAlarm(orderStub(env, ref))
    expect(await orderView(merchantId, 'alipay', paid.outTradeNo)).toMatchObject({ status: 'pending', events: [] })
    // The merchant drops its Alipay query key: nothing can confirm the payment any more, and Alipay stopped retrying.
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true }, 200)
    const sync = await admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=alipay`, { method: 'POST' })
    expect(sync.status).toBe(200)
    const view = await orderView(merchantId, 'alipay', paid.outTradeNo)
    expect(view).toMatchObject({ status: 'paid', amount: 100 })
    expect(view!.notifications).toMatchObject([{ verdict: 'accepted', reason: 'paid as notified: no query keys left to confirm it' }])
    await runDurableObjectAlarm(orderStub(env, ref))
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded']))
    // Its retry, should Alipay send one, is a duplicate.
    expect(await (await notify('alipay', merchantId, paid)).text()).toBe(ACCEPT.alipay.body)
    await runDurableObjectAlarm(orderStub(env, ref))
    expect(received).toHaveLength(1)
  })

  it('keeps a payment whose confirming queries all fail, asks hourly for a week, and pays it once a sync is answered', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const merchantId = 'confirm-queries-fail'
      await saveMerchant(merchantId, {
        ...withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
        confirmPaymentsByQuery: true,
      })
      const received = receiveEvents(forwardUrl(merchantId))
      // Alipay's API answers 502 all week; Alipay itself got "success" and retries nothing.
      let failedQueries = 0
      network.use(
        http.post(ALIPAY_GATEWAY, () => {
          failedQueries += 1
          return new HttpResponse('bad gateway', { status: 502 })
        }),
      )
      const paid = freshPayment('alipay', { identity: ownKeys(merchantId), amount: 100 })
      const arrivedAt = Date.now()
      expect(await (await notify('alipay', merchantId, paid)).text()).toBe(ACCEPT.alipay.body)
      const ref = { merchantId, provider: 'alipay' as const, outTradeNo: paid.outTradeNo }
      for (let i = 0; i < 400; i++) {
        const next = await inOrderStore(ref, (store) => store.reconciliation.get()?.nextQueryAt ?? null)
        if (next === null) break
        vi.setSystemTime(Math.max(Date.now(), next))
        await runDurableObjectAlarm(orderStub(env, ref))
      }
      const plan = await inOrderStore(ref, (store) => store.reconciliation.get())
      // Past the day an order is watched, hourly until a week after the payment arrived; the payment is still kept.
      expect(failedQueries).toBeGreaterThan(7 * 24 - 5)
      expect(plan!.lastQueryAt! - arrivedAt).toBeGreaterThanOrEqual(7 * 24 * 3600_000)
      expect(plan).toMatchObject({ nextQueryAt: null, unconfirmed: { receivedAt: expect.any(Number) } })
      expect(await orderView(merchantId, 'alipay', paid.outTradeNo)).toMatchObject({ status: 'pending', events: [] })
      expect(received).toEqual([])

      // Alipay answers again: a sync confirms the kept payment, forwarded once.
      tradeQueryAnswers(() => ({
        trade_no: '2026112222001400000000009996',
        trade_status: 'TRADE_SUCCESS',
        total_amount: '1.00',
        send_pay_date: '2026-11-22 17:59:58',
      }))
      const sync = await admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=alipay`, { method: 'POST' })
      expect(sync.status).toBe(200)
      expect(await orderView(merchantId, 'alipay', paid.outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
      await runDurableObjectAlarm(orderStub(env, ref))
      expect(received.map((e) => e.type)).toEqual(['payment.succeeded'])
      expect((await inOrderStore(ref, (store) => store.reconciliation.get()))?.unconfirmed).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('keeps a payment notified while a query was out: that query’s “not paid” was true when asked, and denies nothing', async () => {
    const merchantId = 'confirm-query-race'
    await saveMerchant(merchantId, {
      ...withQueryKeys(merchantBody(merchantId, { identity: ownKeys(merchantId) })),
      confirmPaymentsByQuery: true,
    })
    const paid = freshPayment('alipay', { identity: ownKeys(merchantId), amount: 100 })
    // Alipay holds the sync's query until the buyer has paid, then answers what was true when it was asked.
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    let asked: () => void = () => {}
    const askedOnce = new Promise<void>((resolve) => (asked = resolve))
    network.use(
      http.post(ALIPAY_GATEWAY, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        const outTradeNo = (JSON.parse(form.get('biz_content')!) as { out_trade_no: string }).out_trade_no
        asked()
        await released
        const content = JSON.stringify({
          code: '10000',
          msg: 'Success',
          out_trade_no: outTradeNo,
          trade_status: 'WAIT_BUYER_PAY',
          total_amount: '1.00',
        })
        const sign = createSign('RSA-SHA256').update(content).sign(keys.alipay.alipayKey.privateKeyPem, 'base64')
        return new HttpResponse(`{"alipay_trade_query_response":${content},"sign":"${sign}"}`)
      }),
    )
    const sync = admin(`/admin/merchants/${merchantId}/orders/${paid.outTradeNo}/sync?provider=alipay`, { method: 'POST' })
    await askedOnce
    expect(await (await notify('alipay', merchantId, paid)).text()).toBe(ACCEPT.alipay.body)
    release()
    expect((await sync).status).toBe(200)
    const ref = { merchantId, provider: 'alipay' as const, outTradeNo: paid.outTradeNo }
    const plan = await inOrderStore(ref, (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ unconfirmed: { receivedAt: expect.any(Number) }, lastResult: 'alipay not paid: WAIT_BUYER_PAY' })
    expect(plan!.nextQueryAt).not.toBeNull()
  })

  it('has no effect for a provider the merchant cannot query: payments are forwarded as notified', async () => {
    // No Alipay app private key: nothing could confirm an Alipay payment (the APIv2 key alone queries WeChat Pay).
    await saveMerchant('confirm-no-keys', { confirmPaymentsByQuery: true })
    const paid = freshPayment('alipay', { identity: ownKeys('confirm-no-keys') })
    expect(await (await notify('alipay', 'confirm-no-keys', paid)).text()).toBe(ACCEPT.alipay.body)
    expect((await orderView('confirm-no-keys', 'alipay', paid.outTradeNo))?.status).toBe('paid')
  })
})

describe('keepRejectedBodies', () => {
  interface Entry {
    id: string
    verdict: string
    reason: string | null
    channel: string
  }

  async function rejectedEntries(merchantId: string, count: number): Promise<Entry[]> {
    return vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${merchantId}/notifications`)).json()) as { notifications: Entry[] }
      const rejected = list.notifications.filter((n) => n.verdict === 'rejected')
      expect(rejected).toHaveLength(count)
      return rejected
    })
  }

  it('keeps each rejected body with its signatures cut short, shown by GET …/notifications/{id}', async () => {
    await saveMerchant('keeps-bodies', { keepRejectedBodies: true })
    const fields = v2PaymentFields({ outTradeNo: 'KEPT-V2', amount: 100, identity: ownKeys('keeps-bodies').wechat })
    const sign = signV2(fields, 'not-the-merchant-key-0000000000000', 'MD5')
    const forgedV2 = v2Xml({ ...fields, sign })
    expect((await notify('wechatpay.v2', 'keeps-bodies', { body: forgedV2, headers: { 'content-type': 'text/xml' } })).status).toBe(401)
    const forgedV3 = freshPayment('wechatpay.v3', { identity: ownKeys('keeps-bodies') })
    const v3Signature = forgedV3.headers['Wechatpay-Signature']!
    const tampered = forgedV3.body.replace('"summary":"支付成功"', '"summary":"支付成功!"')
    expect((await notify('wechatpay.v3', 'keeps-bodies', { body: tampered, headers: forgedV3.headers })).status).toBe(401)

    const entries = await rejectedEntries('keeps-bodies', 2)
    const details = await Promise.all(
      entries.map(
        async (e) => (await (await admin(`/admin/merchants/keeps-bodies/notifications/${e.id}`)).json()) as Record<string, unknown>,
      ),
    )
    const v2 = details.find((d) => d.channel === 'wechatpay.v2') as { reason: string; body: { text: string; truncated: boolean } }
    expect(v2.reason).toBe('signature_invalid')
    expect(v2.body.truncated).toBe(false)
    expect(v2.body.text).toContain('<out_trade_no><![CDATA[KEPT-V2]]></out_trade_no>')
    expect(v2.body.text).toContain(`<sign><![CDATA[${sign.slice(0, 8)}…]]></sign>`)
    const v3 = details.find((d) => d.channel === 'wechatpay.v3') as { body: { text: string; headers: Record<string, string> } }
    expect(v3.body.text).toBe(tampered)
    expect(v3.body.headers).toMatchObject({
      'wechatpay-serial': forgedV3.headers['Wechatpay-Serial'],
      'wechatpay-signature': `${v3Signature.slice(0, 8)}…`,
    })
    const everything = JSON.stringify(details)
    expect(everything).not.toContain(sign)
    expect(everything).not.toContain(v3Signature)
    expect(everything).not.toContain(keys.wechatpay.apiV2Key)
  })

  it('keeps no full signature that verified, however the body spells its sign', async () => {
    // Genuine notifications for the fixture ids, refused after verification as not this merchant's (merchant_mismatch).
    await saveMerchant('keeps-spelled', { keepRejectedBodies: true })
    const paid = alipayPayment({ outTradeNo: 'KEPT-SPELLED-A', amount: 100 })
    const alipayBody = paid.body.replace('sign=', 'si%67n=')
    expect((await notify('alipay', 'keeps-spelled', { ...paid, body: alipayBody })).status).toBe(403)
    const fields = v2PaymentFields({ outTradeNo: 'KEPT-SPELLED-V2', amount: 100 })
    const sign = signV2(fields, keys.wechatpay.apiV2Key, 'MD5')
    const v2Body = v2Xml({ ...fields, sign }).replace('<sign><![CDATA[', '<sign><!-- --><![CDATA[')
    expect((await notify('wechatpay.v2', 'keeps-spelled', { body: v2Body, headers: { 'content-type': 'text/xml' } })).status).toBe(403)

    const entries = await rejectedEntries('keeps-spelled', 2)
    const texts = await Promise.all(
      entries.map(async (e) => {
        const detail = (await (await admin(`/admin/merchants/keeps-spelled/notifications/${e.id}`)).json()) as {
          reason: string
          body: { text: string }
        }
        expect(detail.reason).toBe('merchant_mismatch')
        return detail.body.text
      }),
    )
    expect(texts.join('\n')).toContain('KEPT-SPELLED-A')
    expect(texts.join('\n')).toContain('KEPT-SPELLED-V2')
    expect(texts.join('\n')).not.toContain(encodeURIComponent(paid.signature))
    expect(texts.join('\n')).not.toContain(sign)
  })

  it('keeps a body though D1 is down when the notification is refused: it travels with the refusal through the queue', async () => {
    await saveMerchant('keeps-offline', { keepRejectedBodies: true })
    const fields = v2PaymentFields({ outTradeNo: 'KEPT-OFFLINE', amount: 100, identity: ownKeys('keeps-offline').wechat })
    const forged = v2Xml({ ...fields, sign: signV2(fields, 'not-the-merchant-key-0000000000000', 'MD5') })
    const d1 = unavailableD1()
    const request = new Request('https://gw.test/notify/keeps-offline/wechatpay/v2', {
      method: 'POST',
      body: forged,
      headers: { 'content-type': 'text/xml' },
    })
    expect((await callWorker(request, { DB: d1.db })).status).toBe(401)
    const [entry] = await rejectedEntries('keeps-offline', 1)
    const detail = (await (await admin(`/admin/merchants/keeps-offline/notifications/${entry!.id}`)).json()) as {
      body: { text: string } | null
    }
    expect(detail.body?.text).toContain('<out_trade_no><![CDATA[KEPT-OFFLINE]]></out_trade_no>')
  })

  it('audits a forged notification with a huge header all the same, its kept header values cut short', async () => {
    await saveMerchant('keeps-big-header', { keepRejectedBodies: true })
    const fields = v2PaymentFields({ outTradeNo: 'KEPT-BIG-HEADER', amount: 100, identity: ownKeys('keeps-big-header').wechat })
    const forged = v2Xml({ ...fields, sign: signV2(fields, 'not-the-merchant-key-0000000000000', 'MD5') })
    // Past a queue message's 128 KB on its own: kept whole, it would have cost the refusal its audit entry.
    const contentType = `text/xml; x=${'a'.repeat(130_000)}`
    expect((await notify('wechatpay.v2', 'keeps-big-header', { body: forged, headers: { 'content-type': contentType } })).status).toBe(401)
    const [entry] = await rejectedEntries('keeps-big-header', 1)
    const detail = (await (await admin(`/admin/merchants/keeps-big-header/notifications/${entry!.id}`)).json()) as {
      body: { text: string; headers: Record<string, string> } | null
    }
    expect(detail.body?.text).toContain('KEPT-BIG-HEADER')
    expect(detail.body?.headers['content-type']).toBe(`${contentType.slice(0, 256)}…`)
  })

  it('audits a refusal the queue will not take with its body: it goes without it', async () => {
    await saveMerchant('keeps-bodyless', { keepRejectedBodies: true })
    const fields = v2PaymentFields({ outTradeNo: 'KEPT-BODYLESS', amount: 100, identity: ownKeys('keeps-bodyless').wechat })
    const forged = v2Xml({ ...fields, sign: signV2(fields, 'not-the-merchant-key-0000000000000', 'MD5') })
    const sent: string[] = []
    const refusingBodies = {
      send: (body: { kept?: unknown }, options?: QueueSendOptions) => {
        sent.push(body.kept === undefined ? 'alone' : 'with body')
        return body.kept === undefined
          ? env.PROJECTION.send(body, options)
          : Promise.reject(new Error('Queue send failed: message too large'))
      },
      sendBatch: env.PROJECTION.sendBatch.bind(env.PROJECTION),
    }
    const request = new Request('https://gw.test/notify/keeps-bodyless/wechatpay/v2', {
      method: 'POST',
      body: forged,
      headers: { 'content-type': 'text/xml' },
    })
    expect((await callWorker(request, { PROJECTION: refusingBodies as unknown as Queue })).status).toBe(401)
    expect(sent).toEqual(['with body', 'alone'])
    const [entry] = await rejectedEntries('keeps-bodyless', 1)
    expect(entry).toMatchObject({ reason: 'signature_invalid' })
    const detail = (await (await admin(`/admin/merchants/keeps-bodyless/notifications/${entry!.id}`)).json()) as { body: unknown }
    expect(detail.body).toBeNull()
  })

  it('keeps the body of each refusal of one reason under its own entry', async () => {
    await saveMerchant('keeps-each', { keepRejectedBodies: true })
    const orders = ['KEPT-EACH-1', 'KEPT-EACH-2', 'KEPT-EACH-3']
    for (const outTradeNo of orders) {
      const fields = v2PaymentFields({ outTradeNo, amount: 100, identity: ownKeys('keeps-each').wechat })
      const forged = v2Xml({ ...fields, sign: signV2(fields, 'not-the-merchant-key-0000000000000', 'MD5') })
      expect((await notify('wechatpay.v2', 'keeps-each', { body: forged, headers: { 'content-type': 'text/xml' } })).status).toBe(401)
    }
    const entries = await rejectedEntries('keeps-each', 3)
    const details = (await Promise.all(
      entries.map(async (e) => (await admin(`/admin/merchants/keeps-each/notifications/${e.id}`)).json()),
    )) as { id: string; reason: string; count: number; body: { text: string } | null }[]
    expect(details.map((d) => [d.id, d.reason, d.count])).toEqual(entries.map((e) => [e.id, 'signature_invalid', 1]))
    // Each entry shows its own notification's body: one per order number, none shared.
    const shown = details.map((d) => orders.find((o) => d.body?.text.includes(`<out_trade_no><![CDATA[${o}]]></out_trade_no>`)))
    expect(shown.sort()).toEqual(orders)
  })

  it('keeps nothing for a merchant that did not ask, and answers 404 for an unknown entry', async () => {
    await saveMerchant('keeps-nothing', {})
    const forged = alipayPayment({
      outTradeNo: 'NOT-KEPT',
      amount: 100,
      identity: ownKeys('keeps-nothing').alipay,
      privateKeyPem: keys.stranger.privateKeyPem,
    })
    expect(await (await notify('alipay', 'keeps-nothing', forged)).text()).toBe('failure')
    const [entry] = await rejectedEntries('keeps-nothing', 1)
    expect(await (await admin(`/admin/merchants/keeps-nothing/notifications/${entry!.id}`)).json()).toMatchObject({
      verdict: 'rejected',
      reason: 'signature_invalid',
      body: null,
    })
    expect((await admin('/admin/merchants/keeps-nothing/notifications/ntf_00000000000000000000000000000000')).status).toBe(404)
    expect((await admin('/admin/merchants/keeps-nothing/notifications/not-an-id')).status).toBe(404)
  })

  it('is bounded: older than a week is gone, and at most the newest 200 per merchant are kept', async () => {
    const now = Date.now()
    /** A refusal with its body, as the Worker queues it, written by the projection consumer. */
    const refuse = (id: string, at: number, merchantId = 'bounded', body = 'x'.repeat(20_000)) =>
      applyToShard(env.DB, [
        {
          kind: 'refusal',
          id,
          merchantId,
          channel: 'alipay',
          reason: 'signature_invalid',
          receivedAt: at,
          kept: refusedBody('text/xml', {}, body),
        },
      ])
    await refuse('ntf_old', now - 8 * 24 * 3600_000)
    expect(await keptBody(env.DB, 'bounded', 'ntf_old', now)).toBeNull()
    const statements = Array.from({ length: KEPT_BODIES_PER_MERCHANT + 5 }, (_, i) =>
      env.DB.prepare(
        `INSERT INTO rejected_bodies (notification_id, merchant_id, received_at, headers, body, truncated) VALUES (?, 'bounded', ?, '{}', 'x', 0)`,
      ).bind(`ntf_${String(i).padStart(4, '0')}`, new Date(now - 3600_000 + i).toISOString()),
    )
    await env.DB.batch(statements)
    await refuse('ntf_newest', now)
    const count = await env.DB.prepare(`SELECT count(*) AS n FROM rejected_bodies WHERE merchant_id = 'bounded'`).first<{ n: number }>()
    expect(count!.n).toBe(KEPT_BODIES_PER_MERCHANT)
    const newest = await keptBody(env.DB, 'bounded', 'ntf_newest', now)
    expect(newest).toMatchObject({ truncated: true })
    expect(newest!.body).toHaveLength(8 * 1024)
    expect(await keptBody(env.DB, 'bounded', 'ntf_0000', now)).toBeNull()

    // At most 8 KiB of UTF-8, cut between characters: 3 bytes a character, so 2,730 of them.
    await refuse('ntf_utf8', now, 'bounded-utf8', '支'.repeat(5_000))
    const utf8 = await keptBody(env.DB, 'bounded-utf8', 'ntf_utf8', now)
    expect(utf8).toMatchObject({ truncated: true, body: '支'.repeat(2_730) })
    expect(new TextEncoder().encode(utf8!.body).length).toBeLessThanOrEqual(8 * 1024)
  })
})
