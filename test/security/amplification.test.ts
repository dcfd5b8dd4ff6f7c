/**
 * Hostile input, round 3: cost and state amplification through the real Worker. A request nobody signed must not
 * make the gateway keep anything, or wake an object, beyond what docs/security.md counts for it ("Residual risks",
 * floods); each test failed before its fix.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { MerchantReplica, merchantReplica } from '../../src/merchants/merchant-replica'
import { orderStub } from '../../src/order/order-key'
import { getOrder } from '../support/gateway'
import { autoMerchant, certificatesEndpoint, putMerchant, scheduledDownload } from '../support/platform-certificates'
import { tradeQueryAnswers } from '../support/refunds'
import {
  callWorker,
  freshPayment,
  notify,
  notifyRequest,
  orderView,
  ownKeys,
  registerMerchant,
  registerOrder,
  rejectReply,
  unavailableD1,
} from './harness'
import { freshOrderNo, ownIds, v3Payment } from './signing'

/** The tables an object holds (SQLite's own and the runtime's left out); reading them stores nothing. */
function tablesOf(state: DurableObjectState): string[] {
  return state.storage.sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    .toArray()
    .map((row) => row.name)
}

/** A v3 notification anyone can make: a fresh timestamp, a serial nobody issued, a signature of nothing. */
function madeUpSerial(n: number) {
  const body = JSON.stringify({
    id: `FORGED-${n}`,
    event_type: 'TRANSACTION.SUCCESS',
    resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: 'AAAA', nonce: 'nonce' },
  })
  const headers = {
    'content-type': 'application/json',
    'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
    'Wechatpay-Nonce': `N${n}`,
    'Wechatpay-Signature': btoa('not a signature'),
    'Wechatpay-Serial': `5157F09EFDC096DE15EBE81A47057A72${String(n).padStart(8, '0')}`,
  }
  return { body, headers }
}

/** A merchant that downloads WeChat's certificates (listing only C), just downloaded; `downloads` so far. */
async function downloadingMerchant(id: string) {
  const endpoint = certificatesEndpoint('onlyC')
  await putMerchant(id, autoMerchant(id))
  await scheduledDownload(id)
  return { endpoint, downloads: endpoint.requests }
}

beforeEach(() => {
  vi.useRealTimers()
})

describe('floods of unsigned requests', () => {
  it('while D1 is down, notifications for merchant ids nobody registered get 503 and leave no replica object behind', async () => {
    const asked = vi.spyOn(MerchantReplica.prototype, 'get')
    const d1 = unavailableD1()
    const ids = ['nobody-1', 'nobody-2', `nobody-${'x'.repeat(57)}`]
    for (const merchantId of ids) {
      const payment = freshPayment('alipay')
      const response = await callWorker(notifyRequest('alipay', merchantId, payment), { DB: d1.db })
      expect({ status: response.status, body: await response.text() }).toEqual(rejectReply('alipay', 503, ''))
    }
    // D1 was tried, then each id's replica (D1 cannot say whether the merchant exists), which had nothing.
    expect(d1.calls()).toBe(ids.length)
    expect(asked).toHaveBeenCalledTimes(ids.length)
    for (const merchantId of ids) {
      await runInDurableObject(merchantReplica(env, merchantId), (_replica, state) => expect(tablesOf(state)).toEqual([]))
    }
  })

  it('v3 notifications naming made-up serials wake the merchant replica about once a minute, not once each; a newly listed certificate still verifies a minute later', async () => {
    const id = 'flood-serials'
    const { endpoint, downloads } = await downloadingMerchant(id)
    const asked = vi.spyOn(MerchantReplica.prototype, 'downloadForUnknownSerial')

    for (let n = 0; n < 20; n++) {
      const response = await notify('wechatpay.v3', id, madeUpSerial(n))
      expect({ status: response.status, body: await response.text() }).toEqual(
        rejectReply('wechatpay.v3', 503, 'no key for this serial after a download; retry later'),
      )
    }
    // The replica downloaded under a minute ago: it answers with the keys it has, and once told so, the Worker does not
    // ask again within the minute (the first answer may still bring keys this isolate's cache lacked: then a second).
    expect(asked.mock.calls.length).toBeLessThanOrEqual(2)
    expect(endpoint.requests).toBe(downloads)

    // A minute later WeChat lists certificate A, and a payment signed under it brings one download and is accepted.
    endpoint.answer = 'rotated'
    vi.setSystemTime(Date.now() + 61_000)
    const outTradeNo = freshOrderNo('flood')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, payment)).status).toBe(204)
    expect(endpoint.requests).toBe(downloads + 1)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
  })

  it('a made-up serial the replica answered without downloading holds the Worker back only until the replica may download again', async () => {
    const id = 'flood-serials-window'
    const { endpoint, downloads } = await downloadingMerchant(id)
    const start = Date.now()

    // 40 s after the download, a made-up serial: the replica may not download yet, and answers with the keys it has.
    vi.setSystemTime(start + 40_000)
    expect((await notify('wechatpay.v3', id, madeUpSerial(100))).status).toBe(503)
    expect(endpoint.requests).toBe(downloads)

    // 65 s after the download (25 s after the made-up serial) WeChat lists certificate A and signs a payment under it:
    // the replica may download again, so it is asked, and the payment is accepted at once, not on a later retry.
    endpoint.answer = 'rotated'
    vi.setSystemTime(start + 65_000)
    const outTradeNo = freshOrderNo('flood-window')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    const response = await notify('wechatpay.v3', id, payment)
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 204, body: '' })
    expect(endpoint.requests).toBe(downloads + 1)
  })
})

describe('replays of a genuine notification the order refuses', () => {
  it('ask the provider about the order once a minute at most, not once each', async () => {
    const id = 'replayed-doubt'
    await registerMerchant(id, { identity: ownKeys(id), alipayFields: { appPrivateKey: keys.alipay.appKey.privateKeyPem } })
    // A genuine 1.00 payment of an order registered at 0.50: refused (409), and doubtful, so Alipay is asked.
    const payment = freshPayment('alipay', { identity: ownKeys(id), amount: 100 })
    await registerOrder(id, payment.outTradeNo, 50)
    const asked = tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000000031',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '1.00',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const order = orderStub(env, { merchantId: id, provider: 'alipay', outTradeNo: payment.outTradeNo })

    // Someone who captured it sends it again and again; the order object's alarm runs after each copy.
    for (let n = 0; n < 6; n++) {
      const response = await notify('alipay', id, payment)
      expect({ status: response.status, body: await response.text() }).toEqual(rejectReply('alipay', 409, ''))
      await runDurableObjectAlarm(order)
    }
    expect(asked).toEqual([payment.outTradeNo])
    expect(await orderView(id, 'alipay', payment.outTradeNo)).toMatchObject({ status: 'amount_mismatch', events: [] })

    // A minute after the last query, the next copy (or Alipay's own retry) is asked about again.
    vi.setSystemTime(Date.now() + 61_000)
    expect((await notify('alipay', id, payment)).status).toBe(409)
    await runDurableObjectAlarm(order)
    expect(asked).toEqual([payment.outTradeNo, payment.outTradeNo])
  })
})

describe('a replica an older version made', () => {
  it('gets the tables added since (the downloaded keys’) when it starts, so reading its keys does not fail', async () => {
    const stub = merchantReplica(env, 'replica-before-key-tables')
    const keysRead = await runInDurableObject(stub, (instance: MerchantReplica, state) => {
      // What a replica saved before key downloads existed holds: its merchant tables, no key tables.
      state.storage.sql.exec('CREATE TABLE merchant (singleton INTEGER PRIMARY KEY, config TEXT NOT NULL, version INTEGER NOT NULL)')
      state.storage.sql.exec('CREATE TABLE merchant_id (singleton INTEGER PRIMARY KEY, id TEXT NOT NULL)')
      // The object starting again under the new version.
      const restarted = new (instance.constructor as new (ctx: DurableObjectState, env: Env) => MerchantReplica)(state, env)
      return restarted.downloadedKeys()
    })
    expect(keysRead).toEqual([])
  })
})
