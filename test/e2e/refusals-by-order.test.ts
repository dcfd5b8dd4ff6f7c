/**
 * A notification refused after its signature was verified (the merchant's ids do not match it, an event or an amount
 * the gateway cannot take) is the provider's own word about an order: the audit trail lists it under that order
 * (`GET …/notifications?out_trade_no=`), where an operator looking for a missing order finds it. A refusal before
 * verification (a forgery naming the same order) never names one: its order number is whatever the sender wrote.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import type { Channel } from '../../src/providers'
import { admin, notify, putFixtureMerchant, type FixtureCase } from '../support/gateway'
import { PROJECTION_WAIT } from '../support/orders'

interface Entry {
  id: string
  channel: string
  verdict: string
  reason: string | null
  out_trade_no: string | null
  count: number
}

async function listed(merchantId: string, query: string): Promise<Entry[]> {
  const response = await admin(`/admin/merchants/${merchantId}/notifications?${query}`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { notifications: Entry[] }).notifications
}

/** Sends each case, expects its reply status, and waits until the projection has listed every refusal. */
async function refuse(merchantId: string, channel: Channel, cases: [FixtureCase, number][]): Promise<Entry[]> {
  for (const [fixture, status] of cases) expect((await notify(channel, merchantId, fixture)).status).toBe(status)
  let rejected: Entry[] = []
  await vi.waitFor(async () => {
    rejected = await listed(merchantId, 'verdict=rejected&limit=100')
    expect(rejected).toHaveLength(cases.length)
  }, PROJECTION_WAIT)
  return rejected
}

const byReason = (entries: Entry[]) => [...entries].sort((a, b) => (a.reason ?? '').localeCompare(b.reason ?? ''))

afterEach(() => {
  vi.useRealTimers()
})

describe('refusals after verification are listed under the order they name', () => {
  it('Alipay: merchant_mismatch, unsupported_event and a malformed amount under the order; two forgeries of it not', async () => {
    const merchantId = 'refusal-order-alipay'
    await putFixtureMerchant(merchantId)
    const { cases } = alipayFixtures
    const order = 'T20261122-0001'
    const rejected = await refuse(merchantId, 'alipay', [
      [cases.strangerKey, 401],
      [cases.tamperedAmount, 401],
      [cases.wrongAppId, 403],
      [cases.unknownTradeStatus, 400],
      [cases.badAmount, 400],
    ])
    const underOrder = await listed(merchantId, `out_trade_no=${order}`)
    expect(byReason(underOrder)).toEqual([
      expect.objectContaining({ channel: 'alipay', verdict: 'rejected', reason: 'malformed_body', out_trade_no: order, count: 1 }),
      expect.objectContaining({ channel: 'alipay', verdict: 'rejected', reason: 'merchant_mismatch', out_trade_no: order, count: 1 }),
      expect.objectContaining({ channel: 'alipay', verdict: 'rejected', reason: 'unsupported_event', out_trade_no: order, count: 1 }),
    ])
    // The forgeries name the same order in their bodies: listed among the merchant's refusals, under no order.
    const forged = rejected.filter((n) => n.reason === 'signature_invalid')
    expect(forged).toHaveLength(2)
    for (const n of forged) expect(n.out_trade_no).toBeNull()
    expect(underOrder.map((n) => n.id)).not.toContain(forged[0]!.id)
    // The filters still combine: the reason asked for, under the order.
    expect(await listed(merchantId, `out_trade_no=${order}&reason=merchant_mismatch`)).toEqual([
      expect.objectContaining({ reason: 'merchant_mismatch', out_trade_no: order }),
    ])
  })

  it('WeChat Pay v3: merchant_mismatch and a fractional amount under the order; one signed by a stranger’s key not', async () => {
    const merchantId = 'refusal-order-v3'
    await putFixtureMerchant(merchantId)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(v3Fixtures.now)
    const { cases } = v3Fixtures
    const order = 'T20251124001'
    const rejected = await refuse(merchantId, 'wechatpay.v3', [
      [cases.strangerKey, 401],
      [cases.wrongMchid, 403],
      [cases.fractionalAmount, 400],
    ])
    expect(byReason(await listed(merchantId, `out_trade_no=${order}`))).toEqual([
      expect.objectContaining({ channel: 'wechatpay.v3', verdict: 'rejected', reason: 'malformed_body', out_trade_no: order }),
      expect.objectContaining({ channel: 'wechatpay.v3', verdict: 'rejected', reason: 'merchant_mismatch', out_trade_no: order }),
    ])
    expect(rejected.find((n) => n.reason === 'signature_invalid')).toMatchObject({ out_trade_no: null })
  })

  it('WeChat Pay v2: merchant_mismatch and an unknown result_code under their orders; a forged payment under none', async () => {
    const merchantId = 'refusal-order-v2'
    await putFixtureMerchant(merchantId)
    const { cases } = v2Fixtures
    const rejected = await refuse(merchantId, 'wechatpay.v2', [
      [cases.tamperedAmount, 401],
      [cases.wrongMchid, 403],
      [cases.unknownResultCode, 400],
    ])
    expect(await listed(merchantId, 'out_trade_no=T20251124031')).toEqual([
      expect.objectContaining({ channel: 'wechatpay.v2', verdict: 'rejected', reason: 'merchant_mismatch', out_trade_no: 'T20251124031' }),
    ])
    expect(await listed(merchantId, 'out_trade_no=T20251124035')).toEqual([
      expect.objectContaining({ verdict: 'rejected', reason: 'unsupported_event', out_trade_no: 'T20251124035' }),
    ])
    // tamperedAmount names T20251124001: its signature does not verify, so nothing is listed under it.
    expect(await listed(merchantId, 'out_trade_no=T20251124001')).toEqual([])
    expect(rejected.find((n) => n.reason === 'signature_invalid')).toMatchObject({ out_trade_no: null })
  })
})
