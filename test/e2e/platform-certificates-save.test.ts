/**
 * Saving a merchant that downloads WeChat Pay platform certificates, through the real Worker and its merchant replica:
 * an unknown serial held back (the replica downloaded under a minute ago and had nothing new) is downloaded for at
 * once after a save that changed what the download uses (for a notification and for a query answer), while with the
 * download settings unchanged the hold-back stays.
 * `GET /v3/certificates` is stood in with msw (test/support/platform-certificates.ts: wechatpay-axios-plugin's
 * bodies, re-signed with node:crypto); notifications are signed live by test/security/signing.ts.
 *
 * Each test runs an hour ahead of the runtime's clock: the alarm a save sets (a download "now") is then not fired by
 * the runtime during the test, so every download is one the test asked for or an on-demand one.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http } from 'msw'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { network } from '../msw'
import { MerchantReplica, merchantReplica } from '../../src/merchants/merchant-replica'
import { admin, getOrder, notify } from '../support/gateway'
import {
  API,
  autoMerchant,
  certificatesEndpoint,
  platformKeys,
  putMerchant,
  scheduledDownload,
  v3OrderQueryAnswers,
} from '../support/platform-certificates'
import { freshOrderNo, ownIds, v3Payment } from '../security/signing'

const HOUR = 3600_000
const HELD_BACK = { status: 503, body: JSON.stringify({ code: 'FAIL', message: 'no key for this serial after a download; retry later' }) }

/** `autoMerchant` with another APIv3 key (32 characters, as the schema wants): the one an operator mistyped. */
function withApiV3Key(id: string, apiV3Key: string): Record<string, unknown> {
  const merchant = autoMerchant(id)
  return { ...merchant, wechatpay: { ...(merchant.wechatpay as Record<string, unknown>), apiV3Key } }
}

async function saveAgain(id: string, body: Record<string, unknown>): Promise<void> {
  const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
  expect(response.status).toBe(200)
}

async function sent(payment: { body: string; headers: Record<string, string> }, id: string) {
  const response = await notify('wechatpay.v3', id, payment)
  return { status: response.status, body: await response.text() }
}

/**
 * A merchant saved an hour ahead of the runtime's clock (so the download its save schedules is run by the test, not by
 * the runtime), with `body`, whose scheduled download has run against a certificates endpoint answering `answer`.
 */
async function savedAndDownloaded(id: string, answer: Parameters<typeof certificatesEndpoint>[0], body: Record<string, unknown>) {
  const endpoint = certificatesEndpoint(answer)
  const start = Date.now() + HOUR
  vi.setSystemTime(start)
  await putMerchant(id, body)
  await scheduledDownload(id)
  return { endpoint, start }
}

beforeEach(() => {
  vi.useRealTimers()
})

describe('an unknown serial held back, then the merchant saved', () => {
  it('downloads at once for the next notification after a save that fixed the APIv3 key, not a minute after the last try', async () => {
    const id = 'auto-certs-saved-fix'
    // WeChat lists certificates A and C, which do not decrypt under the mistyped key: none kept.
    const { endpoint, start } = await savedAndDownloaded(id, 'rotated', withApiV3Key(id, 'a-mistyped-APIv3-key-32-chars-!!'))
    expect(endpoint.requests).toBe(1)
    expect(await platformKeys(id)).toEqual([])

    // A payment signed under certificate A: the replica tried 5 s ago and has no key, so WeChat is asked to retry,
    // and this isolate asks the replica no more until a minute after that try.
    const outTradeNo = freshOrderNo('saved-fix')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    vi.setSystemTime(start + 5_000)
    expect(await sent(payment, id)).toEqual(HELD_BACK)
    expect(endpoint.requests).toBe(1)

    // The operator fixes the key; WeChat's retry 6 s later brings a download at once, and the payment is accepted.
    vi.setSystemTime(start + 10_000)
    await saveAgain(id, autoMerchant(id))
    vi.setSystemTime(start + 16_000)
    expect(await sent(payment, id)).toEqual({ status: 204, body: '' })
    expect(endpoint.requests).toBe(2)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
  })

  it('keeps the hold-back while the config is unchanged: no download within the minute, even one that would bring the key', async () => {
    const id = 'auto-certs-saved-unchanged'
    const { endpoint, start } = await savedAndDownloaded(id, 'onlyC', autoMerchant(id))
    // Certificate C downloaded, and read into this isolate's keys cache.
    expect(await platformKeys(id)).toHaveLength(1)
    const asked = vi.spyOn(MerchantReplica.prototype, 'downloadForUnknownSerial')

    const outTradeNo = freshOrderNo('saved-same')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    vi.setSystemTime(start + 5_000)
    expect(await sent(payment, id)).toEqual(HELD_BACK)
    expect(asked).toHaveBeenCalledTimes(1)

    // WeChat lists certificate A now, but nothing was saved: WeChat's retries within the minute are held back
    // without waking the replica, and nothing is downloaded.
    endpoint.answer = 'rotated'
    for (const at of [15_000, 30_000, 55_000]) {
      vi.setSystemTime(start + at)
      expect(await sent(payment, id)).toEqual(HELD_BACK)
    }
    expect(asked).toHaveBeenCalledTimes(1)
    expect(endpoint.requests).toBe(1)

    // A minute after the last try, the next retry downloads once and is accepted.
    vi.setSystemTime(start + 61_000)
    expect(await sent(payment, id)).toEqual({ status: 204, body: '' })
    expect(endpoint.requests).toBe(2)
  })

  it('a save that changed nothing the download uses does not restart the on-demand limit: no download on demand after it', async () => {
    const id = 'auto-certs-saved-other'
    const { endpoint, start } = await savedAndDownloaded(id, 'onlyC', autoMerchant(id))
    // Certificate C downloaded, and read into this isolate's keys cache.
    expect(await platformKeys(id)).toHaveLength(1)
    const asked = vi.spyOn(MerchantReplica.prototype, 'downloadForUnknownSerial')
    const payment = v3Payment({
      outTradeNo: freshOrderNo('saved-other'),
      amount: 100,
      signer: 'platformCertA',
      identity: ownIds(id).wechat,
    })
    vi.setSystemTime(start + 5_000)
    expect(await sent(payment, id)).toEqual(HELD_BACK)

    // Another forwarding URL: a new version of the merchant, the same WeChat account and keys.
    endpoint.answer = 'rotated'
    vi.setSystemTime(start + 10_000)
    await saveAgain(id, {
      ...autoMerchant(id),
      forward: { ...(autoMerchant(id).forward as object), url: `https://merchant.example/new/${id}` },
    })
    for (const at of [11_000, 20_000, 40_000]) {
      vi.setSystemTime(start + at)
      expect(await sent(payment, id)).toEqual(HELD_BACK)
    }
    // The new version may ask the replica once more; it tried under a minute ago, for this same account, and
    // downloads nothing.
    expect(asked.mock.calls.length).toBeLessThanOrEqual(2)
    expect(endpoint.requests).toBe(1)
  })

  it('does not join a download still running with the settings before the save: the new settings download at once', async () => {
    const id = 'auto-certs-saved-in-flight'
    const { endpoint, start } = await savedAndDownloaded(id, 'rotated', withApiV3Key(id, 'a-mistyped-APIv3-key-32-chars-!!'))
    // WeChat is slow to answer the next download (made with the mistyped key) until the test lets it go on.
    let release = () => {}
    const slow = new Promise<void>((resolve) => {
      release = resolve
    })
    let first = true
    network.use(
      http.get(`${API}/v3/certificates`, async () => {
        if (!first) return
        first = false
        await slow
      }),
    )

    // A minute after the scheduled try, a payment under certificate A starts a download with the mistyped key.
    const outTradeNo = freshOrderNo('saved-in-flight')
    const payment = v3Payment({ outTradeNo, amount: 100, signer: 'platformCertA', identity: ownIds(id).wechat })
    vi.setSystemTime(start + 61_000)
    const early = sent(payment, id)
    await vi.waitFor(() => expect(first).toBe(false))

    // Fixed meanwhile: WeChat's next notification downloads with the right key, and does not wait for the slow one.
    vi.setSystemTime(start + 62_000)
    await saveAgain(id, autoMerchant(id))
    vi.setSystemTime(start + 63_000)
    const later = sent(payment, id)
    setTimeout(release, 500)
    expect(await later).toEqual({ status: 204, body: '' })
    // The first one, read under the mistyped key, does not decrypt once certificate A is known: WeChat retries it too.
    expect(await early).toEqual({
      status: 500,
      body: JSON.stringify({ code: 'FAIL', message: 'resource does not decrypt with the APIv3 key' }),
    })
    expect(endpoint.requests).toBe(3)
    expect(await getOrder(id, outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
  })

  it('a save during the scheduled download keeps its download at once: the download’s own schedule does not replace it', async () => {
    const id = 'auto-certs-saved-during-schedule'
    const { endpoint, start } = await savedAndDownloaded(id, 'onlyC', autoMerchant(id))
    expect(endpoint.requests).toBe(1)
    // WeChat is slow to answer the next scheduled download until the save has reached the replica.
    let reached = () => {}
    const requested = new Promise<void>((resolve) => {
      reached = resolve
    })
    let release = () => {}
    const slow = new Promise<void>((resolve) => {
      release = resolve
    })
    network.use(
      http.get(
        `${API}/v3/certificates`,
        async () => {
          reached()
          await slow
        },
        { once: true },
      ),
    )
    vi.setSystemTime(start + 10_000)
    const download = runDurableObjectAlarm(merchantReplica(env, id))
    await requested
    // The operator changes the APIv3 key (a download setting) while that download is out.
    await saveAgain(id, withApiV3Key(id, 'another-APIv3-key-of-32-chars-!!'))
    release()
    expect(await download).toBe(true)
    // The save's download is due at once, not 6 hours on (the old settings' next download).
    const alarm = await runInDurableObject(merchantReplica(env, id), (_replica, state) => state.storage.getAlarm())
    expect(alarm).not.toBeNull()
    expect(alarm!).toBeLessThanOrEqual(start + 20_000)
  })

  it('does the same for a query answer: a sync after the save downloads at once and is asked again', async () => {
    const id = 'auto-certs-saved-sync'
    const { endpoint, start } = await savedAndDownloaded(id, 'rotated', withApiV3Key(id, 'a-mistyped-APIv3-key-32-chars-!!'))
    const outTradeNo = freshOrderNo('saved-sync')
    const query = v3OrderQueryAnswers(id, { [outTradeNo]: 100 }, 'platformCertA')
    const sync = async () => {
      const reply = await admin(`/admin/merchants/${id}/orders/${outTradeNo}/sync?provider=wechatpay`, { method: 'POST' })
      expect(reply.status).toBe(200)
      return reply.json()
    }

    // The answer is signed under certificate A, which the replica has no key for and tried 5 s ago to download.
    vi.setSystemTime(start + 5_000)
    expect(await sync()).toMatchObject({ results: [{ status: 'pending', query: 'wechatpay.v3 failed: signature_invalid' }] })
    expect(endpoint.requests).toBe(1)

    vi.setSystemTime(start + 10_000)
    await saveAgain(id, autoMerchant(id))
    vi.setSystemTime(start + 16_000)
    expect(await sync()).toMatchObject({ results: [{ status: 'paid', query: 'wechatpay.v3 paid (accepted)' }] })
    expect(endpoint.requests).toBe(2)
    expect(query.asked).toEqual([outTradeNo, outTradeNo, outTradeNo])
  })
})
