/**
 * Everything else providers send (contract part 2): authentic notifications about no payment or refund
 * (a WeChat Pay transfer, a complaint; an Alipay service-market order) are verified like any other,
 * deduplicated by the provider's id, forwarded once each as `provider.notification` from one subject
 * object per merchant + provider + subject, and listed in the audit trail. Fixtures are signed by
 * test/fixtures/signers (wechatpay-axios-plugin, node:crypto).
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { randomBytes } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import alipayFixtures from '../fixtures/alipay.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { subjectStub } from '../../src/order/subject-key'
import type { SubjectObject } from '../../src/order/subject-object'
import type { VerifiedNotification } from '../../src/providers/core/types'
import {
  ACCEPT,
  admin,
  fixturePost,
  forwardUrl,
  notify,
  ownKeys,
  registerFixtureMerchant,
  registerMerchant,
  rejectReply,
} from '../security/harness'
import { alipayForm, encryptV3Resource, signAlipay, signV2, v2Xml, v3SignedHeaders } from '../security/signing'
import { FORWARD, makePendingDue, objectStore, PROJECTION_WAIT, SETTINGS } from '../support/orders'
import { receiveEvents, type ReceivedEvent } from '../support/refunds'
import { setInstanceEnv } from '../support/instance-env'

const MERCHANT = 'other-notifications'
const TRANSFER_BILL_NO = '1330000071100999991182020050700019480'
const { transferBillFinished, transferStrangerKey, transferWrongMchid, complaintCreated } = v3Fixtures.cases

function atFixtureClock(): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(v3Fixtures.now)
}

async function send(fixture: { body: string; headers: Record<string, string> }, merchantId = MERCHANT) {
  const reply = await notify('wechatpay.v3', merchantId, fixturePost('wechatpay.v3', fixture))
  return { status: reply.status, body: await reply.text() }
}

/** Runs the subject object's alarm (its outbox, then the D1 projection) and waits for `count` provider notifications. */
async function forwarded(received: ReceivedEvent[], subjectKey: string, count: number, provider = 'wechatpay', merchantId = MERCHANT) {
  await runDurableObjectAlarm(subjectStub(env, { merchantId, provider, subjectKey }))
  return vi.waitFor(
    () => {
      const events = received.filter((e) => e.type === 'provider.notification')
      expect(events).toHaveLength(count)
      return events
    },
    { timeout: 5_000 },
  )
}

beforeAll(async () => {
  await registerFixtureMerchant(MERCHANT)
})

afterEach(() => vi.useRealTimers())

describe('provider notifications about no order', () => {
  it('a transfer notification gives one provider.notification; a duplicate gives none; a forged one is rejected', async () => {
    atFixtureClock()
    const received = receiveEvents(forwardUrl(MERCHANT))
    expect(await send(transferBillFinished)).toEqual(ACCEPT['wechatpay.v3'])
    const [event] = await forwarded(received, TRANSFER_BILL_NO, 1)
    const id = (JSON.parse(transferBillFinished.body) as { id: string }).id
    expect(event).toEqual({
      webhookId: expect.stringMatching(/^evt_/),
      type: 'provider.notification',
      data: {
        merchant_id: MERCHANT,
        provider: 'wechatpay',
        channel: 'wechatpay.v3',
        notification_type: 'MCHTRANSFER.BILL.FINISHED',
        notification_id: id,
        subject_id: TRANSFER_BILL_NO,
        raw: transferBillFinished.resource,
      },
    })

    // WeChat resends it (same id): accepted, nothing forwarded again.
    expect(await send(transferBillFinished)).toEqual(ACCEPT['wechatpay.v3'])
    expect(await send(transferBillFinished)).toEqual(ACCEPT['wechatpay.v3'])
    await forwarded(received, TRANSFER_BILL_NO, 1)

    // Signed by a key that is not WeChat's: rejected like any other, nothing forwarded.
    expect(await send(transferStrangerKey)).toEqual(rejectReply('wechatpay.v3', 401, 'signature does not verify'))
    // Authentic, but another merchant's transfer.
    expect(await send(transferWrongMchid)).toEqual(rejectReply('wechatpay.v3', 403, 'mch_id does not belong to this merchant'))
    await runDurableObjectAlarm(
      subjectStub(env, { merchantId: MERCHANT, provider: 'wechatpay', subjectKey: '1330000071100999991182020050700019482' }),
    )
    expect(received.filter((e) => e.type === 'provider.notification')).toHaveLength(1)

    // The audit trail lists each of them, with its type and subject once projected.
    await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${MERCHANT}/notifications`)).json()) as {
        notifications: { verdict: string; reason: string | null; notification_type: string | null; subject_id: string | null }[]
      }
      const transfers = list.notifications.filter((n) => n.notification_type === 'MCHTRANSFER.BILL.FINISHED')
      expect(transfers.map((n) => [n.verdict, n.subject_id]).sort()).toEqual([
        ['accepted', TRANSFER_BILL_NO],
        ['duplicate', TRANSFER_BILL_NO],
        ['duplicate', TRANSFER_BILL_NO],
      ])
      expect(list.notifications.filter((n) => n.verdict === 'rejected').map((n) => n.reason)).toEqual(
        expect.arrayContaining(['signature_invalid', 'merchant_mismatch']),
      )
    })
  })

  it('lists its delivery without an order, and replays it with the same webhook-id', async () => {
    const received = receiveEvents(forwardUrl(MERCHANT))
    const deliveries = await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${MERCHANT}/deliveries`)).json()) as {
        deliveries: { id: string; event_id: string; type: string; out_trade_no: string | null; status: string }[]
      }
      const found = list.deliveries.filter((d) => d.type === 'provider.notification')
      expect(found).toHaveLength(1)
      return found
    })
    expect(deliveries[0]).toMatchObject({ out_trade_no: null, status: 'delivered' })
    // Its id names the subject object that holds it (dlv_s…): the lookup below asks that object.
    expect(deliveries[0]!.id).toMatch(/^dlv_s[A-Za-z0-9_-]{54}$/)
    // One delivery, as for an order's: its attempts and the event sent.
    const one = await admin(`/admin/deliveries/${deliveries[0]!.id}`)
    expect(one.status).toBe(200)
    expect(await one.json()).toMatchObject({
      id: deliveries[0]!.id,
      event_id: deliveries[0]!.event_id,
      type: 'provider.notification',
      merchant_id: MERCHANT,
      provider: 'wechatpay',
      out_trade_no: null,
      status: 'delivered',
      attempts: [expect.objectContaining({ status_code: 200, error: null })],
      event: expect.objectContaining({ type: 'provider.notification' }),
    })
    const replay = await admin(`/admin/deliveries/${deliveries[0]!.id}/replay`, { method: 'POST' })
    expect(replay.status).toBe(202)
    expect(await replay.json()).toMatchObject({
      id: deliveries[0]!.id,
      type: 'provider.notification',
      out_trade_no: null,
      status: 'pending',
    })
    await runDurableObjectAlarm(subjectStub(env, { merchantId: MERCHANT, provider: 'wechatpay', subjectKey: TRANSFER_BILL_NO }))
    await vi.waitFor(() => expect(received.map((e) => e.webhookId)).toEqual([deliveries[0]!.event_id]))
  })

  it('forwards a complaint (no merchant id in it) and an Alipay service-market notification, each once', async () => {
    atFixtureClock()
    const received = receiveEvents(forwardUrl(MERCHANT))
    expect(await send(complaintCreated)).toEqual(ACCEPT['wechatpay.v3'])
    const [complaint] = await forwarded(received, '200201820200101080076610000', 1)
    expect(complaint!.data).toMatchObject({ notification_type: 'COMPLAINT.CREATE', subject_id: '200201820200101080076610000' })
    vi.useRealTimers()

    const reply = await notify('alipay', MERCHANT, fixturePost('alipay', alipayFixtures.cases.nonTradeV2))
    expect({ status: reply.status, body: await reply.text() }).toEqual(ACCEPT.alipay)
    const again = await notify('alipay', MERCHANT, fixturePost('alipay', alipayFixtures.cases.nonTradeV2))
    expect(await again.text()).toBe('success')
    const events = await forwarded(received, '2026112200000018079639', 2, 'alipay')
    expect(events[1]!.data).toMatchObject({
      provider: 'alipay',
      channel: 'alipay',
      notification_type: 'servicemarket_order_notify',
      notification_id: '2026112200222175958000000000000012',
      subject_id: '2026112200000018079639',
      raw: { commodity_order_id: '2026112200000018079639', title: '服务市场订单' },
    })
    expect(events[1]!.data.raw).not.toHaveProperty('sign')
  })

  it('a failed one is sent again by recover, with its webhook-id; replay and test event are refused while disabled', async () => {
    const merchantId = 'other-notifications-recover'
    await registerFixtureMerchant(merchantId)
    atFixtureClock()
    const received = receiveEvents(forwardUrl(merchantId))
    const post = (path: string, body?: unknown) =>
      admin(`/admin/merchants/${merchantId}${path}`, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    expect((await post('/endpoint/disable')).status).toBe(200)
    expect(await send(transferBillFinished, merchantId)).toEqual(ACCEPT['wechatpay.v3'])
    const subject = subjectStub(env, { merchantId, provider: 'wechatpay', subjectKey: TRANSFER_BILL_NO })
    await runDurableObjectAlarm(subject)
    const [failed] = await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${merchantId}/deliveries`)).json()) as {
        deliveries: { id: string; event_id: string; type: string; status: string; reason: string | null }[]
      }
      expect(list.deliveries.map((d) => [d.type, d.status, d.reason])).toEqual([['provider.notification', 'failed', 'endpoint_disabled']])
      return list.deliveries
    })

    // Nothing is sent while the endpoint is disabled, by an operator either.
    const replay = await admin(`/admin/deliveries/${failed!.id}/replay`, { method: 'POST' })
    expect(replay.status).toBe(409)
    expect(await replay.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('enable it first') } })
    const test = await post('/test-event')
    expect(test.status).toBe(409)
    expect(await test.json()).toMatchObject({ error: { code: 'conflict' } })
    expect(received).toEqual([])

    // Enabled, then recovered: the subject object sends it again, once, with its original webhook-id.
    expect((await post('/endpoint/enable')).status).toBe(200)
    vi.setSystemTime(v3Fixtures.now + 1000)
    const since = new Date(v3Fixtures.now - 60_000).toISOString()
    const recovered = await post('/deliveries/recover', { since, status: 'failed' })
    expect(recovered.status).toBe(202)
    expect(await recovered.json()).toEqual({ recovered: 1, orders: 1, next_cursor: null })
    const [event] = await forwarded(received, TRANSFER_BILL_NO, 1, 'wechatpay', merchantId)
    expect(event).toMatchObject({ webhookId: failed!.event_id, data: { subject_id: TRANSFER_BILL_NO } })
    const again = await post('/deliveries/recover', { since, status: 'failed' })
    expect(await again.json()).toMatchObject({ recovered: 0 })
  })

  it('checks an Alipay notification about no trade only against the ids it carries: no app_id is no mismatch', async () => {
    const merchantId = 'other-notifications-ids'
    await registerFixtureMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const post = async (name: 'nonTradeWithoutAppId' | 'nonTradeForeignAppId') => {
      const reply = await notify('alipay', merchantId, fixturePost('alipay', alipayFixtures.cases[name]))
      return { status: reply.status, body: await reply.text() }
    }
    // Another app's: refused, nothing forwarded.
    expect(await post('nonTradeForeignAppId')).toEqual(rejectReply('alipay', 403, ''))
    // Names no app, seller or authorizing app at all: nothing it carries is another merchant's.
    expect(await post('nonTradeWithoutAppId')).toEqual(ACCEPT.alipay)
    const [event] = await forwarded(received, '2026112200000018079650', 1, 'alipay', merchantId)
    expect(event!.data).toMatchObject({
      merchant_id: merchantId,
      provider: 'alipay',
      notification_type: 'servicemarket_order_notify',
      notification_id: '2026112200222175958000000000000060',
      subject_id: '2026112200000018079650',
    })
    expect(event!.data.raw).not.toHaveProperty('app_id')
  })

  it('a subject past its retention keeps a tombstone: a late duplicate is still one, and D1 keeps its delivery', async () => {
    const merchantId = 'other-notifications-retention'
    await registerFixtureMerchant(merchantId)
    atFixtureClock()
    const received = receiveEvents(forwardUrl(merchantId))
    const subject = subjectStub(env, { merchantId, provider: 'wechatpay', subjectKey: TRANSFER_BILL_NO })
    // Retention of zero days: the subject is compacted as soon as it has nothing left to do.
    await setInstanceEnv(subject, { ...env, ORDER_RETENTION_DAYS: '0' } as Env)
    const stored = () =>
      runInDurableObject(subject, (o: SubjectObject) => {
        const store = objectStore(o)
        return {
          compacted: store.compactedAt() !== null,
          events: store.events.all().length,
          trail: store.notifications.all().map((n) => n.verdict),
        }
      })
    expect(await send(transferBillFinished, merchantId)).toEqual(ACCEPT['wechatpay.v3'])
    const [event] = await forwarded(received, TRANSFER_BILL_NO, 1, 'wechatpay', merchantId)
    // Delivered, handed to D1, then reduced: the event's raw provider fields are gone from the object. (Waited for: on
    // the fixture's clock the alarm is in the real past, so the runtime may have started it before the test did.)
    await vi.waitFor(async () => expect(await stored()).toEqual({ compacted: true, events: 0, trail: ['accepted'] }))

    // WeChat sends it again: still a duplicate, nothing forwarded again. (Retention back to a day first, or the
    // duplicate's own audit entry would be dropped in its turn at once.)
    await setInstanceEnv(subject, { ...env, ORDER_RETENTION_DAYS: '1' } as Env)
    expect(await send(transferBillFinished, merchantId)).toEqual(ACCEPT['wechatpay.v3'])
    await forwarded(received, TRANSFER_BILL_NO, 1, 'wechatpay', merchantId)
    await vi.waitFor(async () => expect(await stored()).toEqual({ compacted: true, events: 0, trail: ['accepted', 'duplicate'] }))

    // D1 still lists the delivery; its body is gone, so it can no longer be shown or replayed.
    const [delivery] = await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${merchantId}/deliveries`)).json()) as {
        deliveries: { id: string; event_id: string; status: string }[]
      }
      expect(list.deliveries.map((d) => [d.event_id, d.status])).toEqual([[event!.webhookId, 'delivered']])
      return list.deliveries
    })
    for (const response of [
      await admin(`/admin/deliveries/${delivery!.id}`),
      await admin(`/admin/deliveries/${delivery!.id}/replay`, { method: 'POST' }),
    ]) {
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /is no longer kept: its notification's subject passed its retention date \(ORDER_RETENTION_DAYS\)/,
      )
    }
  })
})

describe('the subject of notifications that name it only by their own kind’s numbers', () => {
  /** A WeChat Pay v3 notification of `eventType` about `resource`, signed as WeChat Pay signs (node:crypto). */
  function v3Notification(eventType: string, resource: Record<string, unknown>, id: string) {
    const nonce = randomBytes(6).toString('hex')
    const body = JSON.stringify({
      id,
      create_time: '2026-11-25T00:00:00+08:00',
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary: '商家转账批次完成',
      resource: {
        original_type: 'mch_payment',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: encryptV3Resource(JSON.stringify(resource), keys.wechatpay.apiV3Key, nonce, 'mch_payment'),
        associated_data: 'mch_payment',
        nonce,
      },
    })
    return { body, headers: { 'content-type': 'application/json', ...v3SignedHeaders(body, 'platformCertA') } }
  }

  /** An Alipay notification with `params`, signed as Alipay signs (node:crypto). */
  function alipayNotification(params: Record<string, string>) {
    const all = { charset: 'utf-8', version: '1.0', sign_type: 'RSA2', notify_time: '2026-11-22 17:59:59', ...params }
    return {
      body: alipayForm({ ...all, sign: signAlipay(all) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    }
  }

  it('a WeChat Pay batch transfer is about its batch: subject_id is its batch_id', async () => {
    const merchantId = 'other-notifications-batch'
    const identity = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity })
    const received = receiveEvents(forwardUrl(merchantId))
    const batchId = '1030000071100999991182020050700019480'
    const resource = {
      mchid: identity.wechat.mchid,
      out_batch_no: 'plfk2020042013',
      batch_id: batchId,
      batch_status: 'FINISHED',
      total_num: 2,
      total_amount: 200,
      update_time: '2026-11-24T23:59:30+08:00',
    }
    const reply = await notify('wechatpay.v3', merchantId, v3Notification('MCHTRANSFER.BATCH.FINISHED', resource, 'EV-BATCH-1'))
    expect(reply.status).toBe(204)
    const [event] = await forwarded(received, batchId, 1, 'wechatpay', merchantId)
    expect(event!.data).toMatchObject({ notification_type: 'MCHTRANSFER.BATCH.FINISHED', subject_id: batchId })
  })

  it('two Alipay notifications about one auto-debit agreement (signed, then cancelled) reach the merchant in that order', async () => {
    const merchantId = 'other-notifications-agreement'
    const identity = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity })
    // The merchant's endpoint fails the first attempt: the cancellation must still wait for the signing.
    const received: ReceivedEvent[] = []
    let attempts = 0
    network.use(
      http.post(forwardUrl(merchantId), async ({ request }) => {
        attempts += 1
        if (attempts === 1) return new HttpResponse('not now', { status: 500 })
        const event = (await request.json()) as Omit<ReceivedEvent, 'webhookId'>
        received.push({ webhookId: request.headers.get('webhook-id') ?? '', type: event.type, data: event.data })
        return HttpResponse.text('ok')
      }),
    )
    const agreement = { app_id: identity.alipay.appId, agreement_no: '20215425000039451234', external_agreement_no: 'EXT-1' }
    const signed = alipayNotification({ ...agreement, notify_type: 'dut_user_sign', notify_id: 'NID-SIGN-1', status: 'NORMAL' })
    const cancelled = alipayNotification({ ...agreement, notify_type: 'dut_user_unsign', notify_id: 'NID-UNSIGN-1', status: 'UNSIGN' })
    for (const notification of [signed, cancelled]) expect(await (await notify('alipay', merchantId, notification)).text()).toBe('success')
    const subject = subjectStub(env, { merchantId, provider: 'alipay', subjectKey: agreement.agreement_no })
    await runDurableObjectAlarm(subject)
    expect(attempts).toBe(1)
    // The failed attempt's retry is due now.
    await runInDurableObject(subject, (o: SubjectObject) => makePendingDue(objectStore(o)))
    const events = await forwarded(received, agreement.agreement_no, 2, 'alipay', merchantId)
    expect(events.map((e) => [e.data.notification_type, e.data.subject_id])).toEqual([
      ['dut_user_sign', agreement.agreement_no],
      ['dut_user_unsign', agreement.agreement_no],
    ])
  })

  it('a burst of more notifications than a hand-off carries, while its merchant is slow: every one listed and counted', async () => {
    const merchantId = 'other-notifications-burst'
    const identity = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity })
    let release!: () => void
    const slow = new Promise<void>((resolve) => (release = resolve))
    let calls = 0
    network.use(
      http.post(forwardUrl(merchantId), async () => {
        calls += 1
        if (calls === 1) await slow
        return HttpResponse.text('ok')
      }),
    )
    const agreementNo = '20215425000039459999'
    const send = async (i: number) => {
      const notification = alipayNotification({
        app_id: identity.alipay.appId,
        agreement_no: agreementNo,
        notify_type: 'dut_user_sign',
        notify_id: `NID-BURST-${i}`,
      })
      expect(await (await notify('alipay', merchantId, notification)).text()).toBe('success')
    }
    await send(0)
    const subject = subjectStub(env, { merchantId, provider: 'alipay', subjectKey: agreementNo })
    // The alarm's first delivery waits on the merchant while 59 more come: 60 before the next hand-off, over 50.
    const alarm = runDurableObjectAlarm(subject)
    await vi.waitFor(() => expect(calls).toBe(1))
    const TOTAL = 60
    for (let i = 1; i < TOTAL; i++) await send(i)
    release()
    await alarm
    await runDurableObjectAlarm(subject)
    await vi.waitFor(() => expect(calls).toBe(TOTAL), { timeout: 10_000 })
    await vi.waitFor(async () => {
      const listed: unknown[] = []
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page = (await (
          await admin(`/admin/merchants/${merchantId}/notifications?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        ).json()) as { notifications: unknown[]; next_cursor: string | null }
        listed.push(...page.notifications)
        cursor = page.next_cursor
      }
      const stats = (await (await admin(`/admin/merchants/${merchantId}/stats`)).json()) as { notifications: { accepted: number } }
      expect({ listed: listed.length, accepted: stats.notifications.accepted }).toEqual({ listed: TOTAL, accepted: TOTAL })
    }, PROJECTION_WAIT)
  })
})

describe('authentic notifications paygate cannot read as what they say', () => {
  /** The merchant's audit trail once the refusal reached D1: each notification's verdict and reason. */
  async function refusedAs(merchantId: string): Promise<Array<[string, string | null]>> {
    return vi.waitFor(async () => {
      const { notifications } = (await (await admin(`/admin/merchants/${merchantId}/notifications`)).json()) as {
        notifications: Array<{ verdict: string; reason: string | null }>
      }
      expect(notifications).toHaveLength(1)
      return notifications.map((n): [string, string | null] => [n.verdict, n.reason])
    }, PROJECTION_WAIT)
  }

  it('a signed WeChat Pay v2 notify about no order (an auto-debit contract) is refused as unsupported_event', async () => {
    const merchantId = 'other-notifications-v2-contract'
    const identity = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity })
    const fields: Record<string, string> = {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      result_code: 'SUCCESS',
      appid: identity.wechat.appid,
      mch_id: identity.wechat.mchid,
      contract_code: 'CC-1',
      plan_id: '12535',
      openid: 'oUpF8uN95-Ptaags6E_roPHg7AG0',
      change_type: 'ADD',
      operate_time: '2026-11-20 12:00:00',
      contract_id: 'Wx15463511252015071056489715',
      request_serial: '1695',
    }
    const body = v2Xml({ ...fields, sign: signV2(fields, identity.wechat.apiV2Key, 'MD5') })
    const reply = await notify('wechatpay.v2', merchantId, { body, headers: { 'content-type': 'text/xml' } })
    expect(reply.status).toBe(400)
    expect(await refusedAs(merchantId)).toEqual([['rejected', 'unsupported_event']])
  })

  it('a v3 REFUND.SUCCESS whose refund_status says ABNORMAL is refused, not forwarded as a success', async () => {
    const merchantId = 'other-notifications-v3-refund-status'
    const identity = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity })
    const received = receiveEvents(forwardUrl(merchantId))
    const resource = {
      mchid: identity.wechat.mchid,
      out_trade_no: 'RS-1',
      transaction_id: '4200000000202611250001',
      out_refund_no: 'RS-1-R1',
      refund_id: '50300000002026112500001',
      refund_status: 'ABNORMAL',
      amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
    }
    const nonce = randomBytes(6).toString('hex')
    const body = JSON.stringify({
      id: 'EV-REFUND-STATUS-1',
      create_time: '2026-11-25T00:00:00+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'REFUND.SUCCESS',
      summary: '退款成功',
      resource: {
        original_type: 'refund',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: encryptV3Resource(JSON.stringify(resource), identity.wechat.apiV3Key, nonce, 'refund'),
        associated_data: 'refund',
        nonce,
      },
    })
    const reply = await notify('wechatpay.v3', merchantId, {
      body,
      headers: { 'content-type': 'application/json', ...v3SignedHeaders(body, 'platformCertA') },
    })
    expect(reply.status).toBe(400)
    expect(await refusedAs(merchantId)).toEqual([['rejected', 'unsupported_event']])
    expect(received).toEqual([])
  })
})

describe("a tombstone's late duplicate the Worker received before the compaction ran", () => {
  it('is dropped in its turn, ORDER_RETENTION_DAYS after the compaction', async () => {
    const DAY_MS = 24 * 3600_000
    const retention = Number(env.ORDER_RETENTION_DAYS) * DAY_MS
    const start = Date.parse('2031-05-01T00:00:00Z')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(start)
    network.use(http.post(FORWARD.url, () => new HttpResponse('ok', { status: 200 })))
    const ref = { merchantId: 'tombstone-late-received', provider: 'wechatpay' as const, subjectKey: 'BILL-LATE-1' }
    const subject = subjectStub(env, ref)
    const notification: VerifiedNotification = {
      channel: 'wechatpay.v3',
      provider: 'wechatpay',
      notificationId: 'ntf-tombstone-late-1',
      outTradeNo: '',
      effect: { kind: 'other', notificationType: 'MCHTRANSFER.BILL.FINISHED', subjectId: 'BILL-LATE-1', occurredAt: null },
      raw: { transfer_bill_no: 'BILL-LATE-1' },
    }
    const state = () =>
      runInDurableObject(subject, async (o: SubjectObject, s) => {
        const store = objectStore(o)
        return {
          compactedAt: store.compactedAt(),
          trail: store.notifications.all().map((n) => n.verdict),
          alarm: await s.storage.getAlarm(),
        }
      })
    expect((await subject.ingest({ subject: ref, notification, settings: SETTINGS, receivedAt: Date.now() })).verdict).toBe('accepted')
    await runDurableObjectAlarm(subject)
    const { alarm: due } = await state()
    expect(due).toBeGreaterThanOrEqual(start + retention)

    // The provider's resend reaches the Worker a second before the retention date; the object compacts meanwhile, then
    // records the resend: a duplicate, whose time is the Worker's, before the compaction.
    vi.setSystemTime(due! - 1_000)
    const receivedAt = Date.now()
    vi.setSystemTime(due!)
    await runDurableObjectAlarm(subject)
    const compactedAt = (await state()).compactedAt
    expect(compactedAt).not.toBeNull()
    vi.setSystemTime(due! + 500)
    expect((await subject.ingest({ subject: ref, notification, settings: SETTINGS, receivedAt })).verdict).toBe('duplicate')
    await runDurableObjectAlarm(subject)
    const after = await state()
    expect(after.trail).toEqual(['accepted', 'duplicate'])
    expect(after.alarm).toBe(Date.parse(compactedAt!) + retention)

    vi.setSystemTime(after.alarm! + 1_000)
    await runDurableObjectAlarm(subject)
    expect((await state()).trail).toEqual(['accepted'])
  })
})
