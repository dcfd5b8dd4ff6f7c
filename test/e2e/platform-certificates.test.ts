/**
 * Downloaded WeChat Pay platform certificates through the real Worker, its merchant replica and order objects:
 * a merchant with `autoPlatformCertificates` and no configured key takes a notification signed by a freshly
 * rotated platform key, whose certificate only a mocked `GET /v3/certificates` serves. The answers' bodies are
 * wechatpay-axios-plugin's (test/fixtures/wechatpay-v3.json `certificates`), re-signed with node:crypto at the
 * current clock; notifications are signed live by test/security/signing.ts.
 */
import { X509Certificate } from 'node:crypto'
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import keys from '../fixtures/keys.json'
import { masterKeyring } from '../../src/merchants/master-keys'
import { merchantReplica, type MerchantReplica } from '../../src/merchants/merchant-replica'
import { orderStub } from '../../src/order/order-key'
import { admin, getOrder, notify, recordForwarded } from '../support/gateway'
import { freshOrderNo, ownIds, v3Payment } from '../security/signing'
import { opsEndpoint, runDailyCron, runMonitorAlarm } from '../support/operations'
import {
  API,
  autoMerchant,
  certificatesEndpoint,
  minutesPass,
  platformKeys,
  putMerchant,
  scheduledDownload,
} from '../support/platform-certificates'
import { v3RefundQueryAnswers } from '../support/refunds'

const wx = keys.wechatpay
const HOUR = 3600_000

/**
 * Certificate A as it stays when MASTER_KEY_PREVIOUS is deleted before it was sealed again: sealed under a key the
 * gateway no longer has. The next download is due at once.
 */
async function sealCertificateAUnderLostKey(id: string): Promise<DurableObjectStub<MerchantReplica>> {
  const lostKey = { MASTER_KEY: btoa('a master key since deleted: 32 B'), MASTER_KEY_PREVIOUS: undefined }
  const sealedUnderLostKey = await masterKeyring(lostKey).seal(id, wx.platformCertA.certificatePem)
  const replica = merchantReplica(env, id)
  await runInDurableObject(replica, (_replica, state) => {
    state.storage.sql.exec(
      'UPDATE downloaded_keys SET sealed_certificate = ? WHERE serial = ?',
      sealedUnderLostKey,
      wx.platformCertA.serial,
    )
    state.storage.sql.exec('UPDATE key_downloads SET attempted_at = 0')
  })
  return replica
}

const expiry = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString()

beforeEach(() => {
  vi.useRealTimers()
})

describe('downloaded WeChat Pay platform certificates', () => {
  it('accepts a notification signed by a freshly rotated key that only /v3/certificates serves, with one event', async () => {
    const id = 'auto-certs'
    const endpoint = certificatesEndpoint('rotated')
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    // Downloaded keys are listed by serial.
    expect(await platformKeys(id)).toEqual(
      [
        { serial: wx.platformCertA.serial, source: 'downloaded', expires_at: expiry(wx.platformCertA.certificatePem) },
        { serial: wx.platformCertC.serial, source: 'downloaded', expires_at: expiry(wx.platformCertC.certificatePem) },
      ].sort((a, b) => a.serial.localeCompare(b.serial)),
    )
    expect(endpoint.requests).toBeGreaterThanOrEqual(1)

    const outTradeNo = freshOrderNo('auto')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    const reply = await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })
    expect(reply.status).toBe(204)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded']))
  })

  it("verifies a refund query's answer with a downloaded certificate as it does a notification: the refund settles once", async () => {
    const id = 'auto-certs-refund'
    certificatesEndpoint('rotated')
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    const outTradeNo = freshOrderNo('autorf')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })).status).toBe(204)

    // The answer is signed with platform certificate A's key: this merchant configured no platform key, so only the
    // downloaded certificate A can verify it.
    const outRefundNo = `RF-${outTradeNo}`
    const log = v3RefundQueryAnswers([{ outTradeNo, outRefundNo, amount: 40, total: 100 }], 'provider', API)
    const registered = await admin(`/admin/merchants/${id}/orders/${outTradeNo}/refunds/${outRefundNo}`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 40 }),
    })
    expect(registered.status).toBe(200)
    const sync = await admin(`/admin/merchants/${id}/orders/${outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
    expect(await sync.json()).toMatchObject({
      results: [{ provider: 'wechatpay', status: 'partially_refunded', refunds: [expect.stringContaining('succeeded (accepted)')] }],
    })
    expect(log.asked).toEqual([outRefundNo])
    expect(await getOrder(id, outTradeNo)).toMatchObject({
      status: 'partially_refunded',
      refunds: [{ out_refund_no: outRefundNo, status: 'succeeded', amount: 40 }],
    })
    await vi.waitFor(() => expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded', 'refund.succeeded']))
  })

  it('downloads at once for an unknown serial, at most once a minute; until then the reply makes WeChat retry (503)', async () => {
    const id = 'auto-certs-on-demand'
    const endpoint = certificatesEndpoint('unavailable')
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    const outTradeNo = freshOrderNo('ondemand')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })

    // The scheduled download failed under a minute ago: no second download yet, and WeChat is asked to retry.
    endpoint.answer = 'rotated'
    const before = endpoint.requests
    const early = await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })
    expect({ status: early.status, body: await early.text() }).toEqual({
      status: 503,
      body: JSON.stringify({ code: 'FAIL', message: 'no key for this serial after a download; retry later' }),
    })
    expect(endpoint.requests).toBe(before)
    expect((await admin(`/admin/merchants/${id}/orders/${outTradeNo}`)).status).toBe(404)

    // A minute later (for the replica's rate limit and for the Worker, which asks the replica no more meanwhile),
    // WeChat's retry brings the download, and the payment is accepted once.
    vi.setSystemTime(Date.now() + 61_000)
    const retried = await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })
    expect(retried.status).toBe(204)
    expect(endpoint.requests).toBe(before + 1)
    expect((await getOrder(id, outTradeNo)).status).toBe('paid')

    // Known now: another notification signed with it needs no download.
    const secondNo = freshOrderNo('ondemand')
    const second = v3Payment({ outTradeNo: secondNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, { body: second.body, headers: second.headers })).status).toBe(204)
    expect(endpoint.requests).toBe(before + 1)
    // Their deliveries are due on the moved clock, which the runtime's alarms do not follow: run them now.
    for (const order of [outTradeNo, secondNo]) {
      await runDurableObjectAlarm(orderStub(env, { merchantId: id, provider: 'wechatpay', outTradeNo: order }))
    }
    await vi.waitFor(() => expect(forwarded).toHaveLength(2))
  })

  it('refuses a download whose signature does not verify: nothing kept, the notification is not accepted', async () => {
    const id = 'auto-certs-forged'
    const endpoint = certificatesEndpoint('badSignature')
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await minutesPass(id, 61_000)
    const outTradeNo = freshOrderNo('forged')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    const reply = await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })
    expect(reply.status).toBe(503)
    expect(endpoint.requests).toBeGreaterThanOrEqual(2)
    expect(await platformKeys(id)).toEqual([])
    expect((await admin(`/admin/merchants/${id}/orders/${outTradeNo}`)).status).toBe(404)
    expect(forwarded).toEqual([])
  })

  it('downloads again within 12 hours, keeps the certificates sealed, and drops expired ones', async () => {
    const id = 'auto-certs-schedule'
    const endpoint = certificatesEndpoint('rotated')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    const replica = merchantReplica(env, id)
    const { alarm, stored } = await runInDurableObject(replica, async (_replica, state) => ({
      alarm: await state.storage.getAlarm(),
      stored: state.storage.sql.exec('SELECT sealed_certificate FROM downloaded_keys').toArray(),
    }))
    expect(alarm).not.toBeNull()
    expect(alarm! - Date.now()).toBeLessThanOrEqual(12 * HOUR)
    expect(alarm! - Date.now()).toBeGreaterThan(HOUR)
    expect(stored).toHaveLength(2)
    for (const row of stored) expect(String(row.sealed_certificate)).not.toContain('CERTIFICATE')

    // Certificate A expires: it is no longer used or shown, and the next scheduled run drops it, even when the
    // download itself fails.
    await runInDurableObject(replica, (_replica, state) => {
      state.storage.sql.exec("UPDATE downloaded_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE serial = ?", wx.platformCertA.serial)
    })
    expect((await platformKeys(id)).map((k) => k.serial)).toEqual([wx.platformCertC.serial])
    endpoint.answer = 'unavailable'
    await scheduledDownload(id)
    const kept = await runInDurableObject(replica, (_replica, state) =>
      state.storage.sql.exec('SELECT serial FROM downloaded_keys').toArray(),
    )
    expect(kept.map((row) => row.serial)).toEqual([wx.platformCertC.serial])

    // Saved without autoPlatformCertificates: the downloaded keys and the schedule go.
    const manual = autoMerchant(id)
    delete (manual.wechatpay as Record<string, unknown>).autoPlatformCertificates
    expect((await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(manual) })).status).toBe(200)
    expect(await platformKeys(id)).toEqual([])
    const after = await runInDurableObject(replica, async (_replica, state) => ({
      alarm: await state.storage.getAlarm(),
      rows: state.storage.sql.exec('SELECT count(*) AS n FROM downloaded_keys').one().n,
    }))
    expect(after).toEqual({ alarm: null, rows: 0 })
  })

  it('tells the ops endpoint about a downloaded certificate within 30 days of expiry, from the daily cron', async () => {
    const id = 'auto-certs-expiring'
    certificatesEndpoint('rotated')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    const ops = opsEndpoint()
    await runDailyCron()
    await runMonitorAlarm(id)
    expect(ops).toEqual([])

    // 29 days before certificate A expires (certificate C expires 4 days after it: still 33 days away).
    const expiresAt = expiry(wx.platformCertA.certificatePem)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse(expiresAt) - 29 * 24 * HOUR)
    await runDailyCron()
    await runMonitorAlarm(id)
    expect(ops.map((e) => [e.type, e.data])).toEqual([
      [
        'certificate.expiring',
        { merchant_id: id, provider: 'wechatpay', name: `downloaded.${wx.platformCertA.serial}`, expires_at: expiresAt },
      ],
    ])
  })

  it('verifies with the keys that open when one was sealed under a master key since deleted, and seals that one again', async () => {
    const id = 'auto-certs-old-master-key'
    const endpoint = certificatesEndpoint('rotated')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    const replica = await sealCertificateAUnderLostKey(id)

    // Past the Worker's 30 s cache of opened keys: a notification signed with certificate C still verifies.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31_000)
    const outTradeNo = freshOrderNo('auto-old-key')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, { body: payment.body, headers: payment.headers })).status).toBe(204)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    vi.useRealTimers()

    // The next download runs, and certificate A, still listed by WeChat, is sealed again under the current key.
    const before = endpoint.requests
    await scheduledDownload(id)
    expect(endpoint.requests).toBeGreaterThan(before)
    const row = await runInDurableObject(replica, (_replica, state) => ({
      outcome: state.storage.sql.exec('SELECT outcome FROM key_downloads').one().outcome,
      sealed: state.storage.sql.exec('SELECT sealed_certificate FROM downloaded_keys WHERE serial = ?', wx.platformCertA.serial).one()
        .sealed_certificate,
    }))
    expect(row.outcome).toBe('ok')
    expect(await masterKeyring(env).open(id, String(row.sealed))).toBe(wx.platformCertA.certificatePem)
  })

  it('drops a certificate no master key opens once WeChat no longer lists it, and warns no more', async () => {
    const id = 'auto-certs-old-master-key-unlisted'
    const endpoint = certificatesEndpoint('rotated')
    await putMerchant(id, autoMerchant(id))
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(2))
    const replica = await sealCertificateAUnderLostKey(id)
    endpoint.answer = 'onlyC'
    await scheduledDownload(id)
    const serials = await runInDurableObject(replica, (_replica, state) =>
      state.storage.sql
        .exec<{ serial: string }>('SELECT serial FROM downloaded_keys')
        .toArray()
        .map((row) => row.serial),
    )
    expect(serials).toEqual([wx.platformCertC.serial])
  })

  it('shows configured and downloaded keys side by side, and a configured key wins for its serial', async () => {
    const id = 'auto-certs-mixed'
    certificatesEndpoint('rotated')
    const body = autoMerchant(id)
    ;(body.wechatpay as Record<string, unknown>).platformPublicKeys = {
      [wx.platformCertA.serial]: wx.platformCertA.certificatePem,
      [wx.publicKeyMode.id]: wx.publicKeyMode.publicKeyPem,
    }
    await putMerchant(id, body)
    await scheduledDownload(id)
    await vi.waitFor(async () => expect(await platformKeys(id)).toHaveLength(3))
    expect(await platformKeys(id)).toEqual([
      { serial: wx.platformCertA.serial, source: 'configured', expires_at: expiry(wx.platformCertA.certificatePem) },
      { serial: wx.publicKeyMode.id, source: 'configured', expires_at: null },
      { serial: wx.platformCertC.serial, source: 'downloaded', expires_at: expiry(wx.platformCertC.certificatePem) },
    ])
  })
})

describe('configured WeChat Pay platform certificates', () => {
  it('refuses a signature under a configured certificate after it expired (401, audited), while its successor verifies', async () => {
    const id = 'configured-expired'
    const forwarded = recordForwarded(`https://merchant.example/hooks/${id}`)
    const body = autoMerchant(id)
    const wechatpay = body.wechatpay as Record<string, unknown>
    delete wechatpay.autoPlatformCertificates
    wechatpay.platformPublicKeys = {
      [wx.platformCertA.serial]: wx.platformCertA.certificatePem,
      [wx.platformCertC.serial]: wx.platformCertC.certificatePem,
    }
    await putMerchant(id, body)
    // A day after A expired; C, WeChat's successor certificate, is still valid.
    vi.setSystemTime(Date.parse(expiry(wx.platformCertA.certificatePem)) + 24 * HOUR)

    const late = freshOrderNo('expired')
    const underA = v3Payment({ outTradeNo: late, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    const refused = await notify('wechatpay.v3', id, { body: underA.body, headers: underA.headers })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ code: 'FAIL', message: expect.stringMatching(/^platform certificate .* expired at /) })
    expect((await admin(`/admin/merchants/${id}/orders/${late}`)).status).toBe(404)
    await vi.waitFor(async () => {
      const list = (await (await admin(`/admin/merchants/${id}/notifications`)).json()) as {
        notifications: { verdict: string; reason: string | null }[]
      }
      expect(list.notifications).toEqual([expect.objectContaining({ verdict: 'rejected', reason: 'certificate_expired' })])
    })

    const paid = freshOrderNo('successor')
    const underC = v3Payment({ outTradeNo: paid, amount: 100, signer: 'platformCertC', identity: ownIds(id).wechat })
    expect((await notify('wechatpay.v3', id, { body: underC.body, headers: underC.headers })).status).toBe(204)
    expect(await getOrder(id, paid)).toMatchObject({ status: 'paid', amount: 100 })
    // The faked clock is years ahead of the runtime's alarm scheduler: the order's alarm is run by hand.
    await runDurableObjectAlarm(orderStub(env, { merchantId: id, provider: 'wechatpay', outTradeNo: paid }))
    expect(forwarded.map((f) => f.type)).toEqual(['payment.succeeded'])
  })
})
