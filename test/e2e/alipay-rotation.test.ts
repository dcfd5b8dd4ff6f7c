/**
 * Alipay key and certificate rotation through the real Worker, order objects and D1: while a merchant lists the old
 * and the next key (public-key mode) or certificate (certificate mode), notifications and `alipay.trade.query`
 * answers signed under either are taken, one signed under neither is refused; a PATCH that drops the old one makes
 * its signatures refused; GET and `certificate.expiring` cover every certificate. The notifications and answers are
 * the fixtures of test/fixtures/signers/alipay.mjs (node:crypto, checked by alipay-sdk).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import fixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { orderStub } from '../../src/order/order-key'
import { admin, FORWARD_SECRET, notify, recordForwarded } from '../support/gateway'
import { opsEndpoint, runDailyCron, runMonitorAlarm } from '../support/operations'

const { alipayKey, nextAlipayKey, certMode, appKey } = keys.alipay
const { apps, orders } = fixtures.rotation
const { cases, answers } = fixtures
const hook = (id: string) => `https://merchant.example/hooks/${id}`

const KEY_SHOP = 'rotating-key-shop'
const CERT_SHOP = 'rotating-cert-shop'

const MERCHANTS: Record<string, Record<string, unknown>> = {
  [KEY_SHOP]: {
    ...apps.publicKey,
    alipayPublicKey: [alipayKey.publicKeyPem, nextAlipayKey.publicKeyPem],
    appPrivateKey: appKey.privateKeyPem,
  },
  [CERT_SHOP]: {
    ...apps.cert,
    // Alipay's certificate in force and the one it renews to, one PEM text (as a file holding both).
    alipayPublicCert: certMode.alipayCert.certificatePem + certMode.otherAlipayCert.certificatePem,
    alipayRootCert: certMode.rootCertPem,
    appCert: certMode.appCert.certificatePem,
    appPrivateKey: certMode.appCert.privateKeyPem,
  },
}

function patch(merchantId: string, alipay: Record<string, unknown>): Promise<Response> {
  return admin(`/admin/merchants/${merchantId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ alipay }),
  })
}

async function alipaySection(merchantId: string): Promise<Record<string, unknown>> {
  const response = await admin(`/admin/merchants/${merchantId}`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { alipay: Record<string, unknown> }).alipay
}

/** The merchant's reply to Alipay and its status. */
async function sent(merchantId: string, name: keyof typeof cases): Promise<{ status: number; body: string }> {
  const reply = await notify('alipay', merchantId, cases[name])
  return { status: reply.status, body: await reply.text() }
}

/** Registers the answer's order, has the gateway ask Alipay (msw answers with `name`), and returns the sync result. */
async function synced(merchantId: string, name: keyof typeof answers & keyof typeof orders): Promise<unknown> {
  const outTradeNo = orders[name]
  network.use(
    http.post(
      'https://openapi.alipay.com/gateway.do',
      () => new HttpResponse(answers[name].body, { headers: { 'content-type': 'text/html;charset=utf-8' } }),
    ),
  )
  const registered = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, {
    method: 'PUT',
    body: JSON.stringify({ amount: 8888 }),
  })
  expect(registered.status).toBe(200)
  const response = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })
  return ((await response.json()) as { results: unknown[] }).results[0]
}

async function forwarded(merchantId: string, outTradeNos: string[], calls: { body: string }[]): Promise<string[]> {
  for (const outTradeNo of outTradeNos) await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo }))
  return calls.map((call) => (JSON.parse(call.body) as { data: { out_trade_no: string } }).data.out_trade_no).sort()
}

const REFUSED = { status: 401, body: 'failure' }
const ACCEPTED = { status: 200, body: 'success' }

beforeAll(async () => {
  for (const [id, alipay] of Object.entries(MERCHANTS)) {
    const body = { forward: { url: hook(id), secret: FORWARD_SECRET }, alipay }
    const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
    expect(response.status, await response.clone().text()).toBe(201)
  }
})

afterEach(() => vi.useRealTimers())

describe('public-key mode: alipayPublicKey lists the old and the next key', () => {
  it('accepts notifications signed with either key, one event each; refuses a key that is neither', async () => {
    const calls = recordForwarded(hook(KEY_SHOP))
    expect(await sent(KEY_SHOP, 'rotationOldKey')).toEqual(ACCEPTED)
    expect(await sent(KEY_SHOP, 'rotationNextKey')).toEqual(ACCEPTED)
    expect(await sent(KEY_SHOP, 'rotationStrangerKey')).toEqual(REFUSED)
    const paid = [orders.rotationOldKey, orders.rotationNextKey]
    expect(await forwarded(KEY_SHOP, [...paid, orders.rotationStrangerKey], calls)).toEqual(paid)
  })

  it('takes query answers signed with either key; refuses one signed with neither', async () => {
    expect(await synced(KEY_SHOP, 'rotationAnswerOldKey')).toMatchObject({ status: 'paid' })
    expect(await synced(KEY_SHOP, 'rotationAnswerNextKey')).toMatchObject({ status: 'paid' })
    expect(await synced(KEY_SHOP, 'rotationAnswerStrangerKey')).toMatchObject({
      status: 'pending',
      query: 'alipay failed: signature_invalid',
    })
  })

  it('GET lists both keys; a PATCH to the next key alone makes the old key refused', async () => {
    expect((await alipaySection(KEY_SHOP)).alipayPublicKey).toEqual([alipayKey.publicKeyPem, nextAlipayKey.publicKeyPem])
    const patched = await patch(KEY_SHOP, { alipayPublicKey: nextAlipayKey.publicKeyPem })
    expect(patched.status, await patched.clone().text()).toBe(200)
    expect((await alipaySection(KEY_SHOP)).alipayPublicKey).toBe(nextAlipayKey.publicKeyPem)

    expect(await sent(KEY_SHOP, 'rotationOldKeyLate')).toEqual(REFUSED)
    expect(await synced(KEY_SHOP, 'rotationAnswerOldKeyLate')).toMatchObject({
      status: 'pending',
      query: 'alipay failed: signature_invalid',
    })
    // The next key's notification again: still authentic, a duplicate now.
    expect(await sent(KEY_SHOP, 'rotationNextKey')).toEqual(ACCEPTED)
  })
})

describe('certificate mode: alipayPublicCert holds the certificate in force and the renewed one', () => {
  it('accepts notifications signed with either certificate’s key; refuses a key of no configured certificate', async () => {
    const calls = recordForwarded(hook(CERT_SHOP))
    expect(await sent(CERT_SHOP, 'rotationOldCert')).toEqual(ACCEPTED)
    expect(await sent(CERT_SHOP, 'rotationNextCert')).toEqual(ACCEPTED)
    expect(await sent(CERT_SHOP, 'rotationStrangerCert')).toEqual(REFUSED)
    const paid = [orders.rotationOldCert, orders.rotationNextCert]
    expect(await forwarded(CERT_SHOP, [...paid, orders.rotationStrangerCert], calls)).toEqual(paid)
  })

  it('checks an answer with the certificate its alipay_cert_sn names, else with each', async () => {
    expect(await synced(CERT_SHOP, 'rotationAnswerOldCert')).toMatchObject({ status: 'paid' })
    expect(await synced(CERT_SHOP, 'rotationAnswerNextCert')).toMatchObject({ status: 'paid' })
    expect(await synced(CERT_SHOP, 'rotationAnswerNextCertUnnamed')).toMatchObject({ status: 'paid' })
    const refused = { status: 'pending', query: 'alipay failed: signature_invalid' }
    // Signed by the old certificate's key while naming the next certificate: the named one does not verify it.
    expect(await synced(CERT_SHOP, 'rotationAnswerNamesOtherCert')).toMatchObject(refused)
    expect(await synced(CERT_SHOP, 'rotationAnswerStrangerCert')).toMatchObject(refused)
  })

  it('GET lists each certificate’s sn and expires_at', async () => {
    const { certificates } = (await alipaySection(CERT_SHOP)) as { certificates: Record<string, unknown> }
    const expiresAt = expect.stringMatching(/^2036-11-26T/)
    const old = { sn: fixtures.certMode.alipayCertSn, serial_number: expect.any(String), expires_at: expiresAt }
    const next = { sn: fixtures.rotation.nextAlipayCertSn, serial_number: expect.any(String), expires_at: expiresAt }
    expect(certificates.alipayPublicCerts).toEqual([old, next])
    // The first certificate stays where GET showed the only one.
    expect(certificates.alipayPublicCert).toEqual(old)
  })

  it('certificate.expiring tells about each of them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2036-11-10T03:17:00Z'))
    const ops = opsEndpoint(CERT_SHOP)
    await runDailyCron()
    await runMonitorAlarm(CERT_SHOP)
    const names = ops.filter((event) => event.type === 'certificate.expiring').map((event) => event.data.name)
    expect(names.sort()).toEqual(['alipayPublicCert', `alipayPublicCert.${fixtures.rotation.nextAlipayCertSn}`, 'appCert'])
  })

  it('a PATCH to the renewed certificate alone makes the old certificate refused', async () => {
    const patched = await patch(CERT_SHOP, { alipayPublicCert: certMode.otherAlipayCert.certificatePem })
    expect(patched.status, await patched.clone().text()).toBe(200)
    const { certificates } = (await alipaySection(CERT_SHOP)) as { certificates: { alipayPublicCerts: { sn: string }[] } }
    expect(certificates.alipayPublicCerts.map((certificate) => certificate.sn)).toEqual([fixtures.rotation.nextAlipayCertSn])

    expect(await sent(CERT_SHOP, 'rotationOldCertLate')).toEqual(REFUSED)
    expect(await synced(CERT_SHOP, 'rotationAnswerOldCertLate')).toMatchObject({
      status: 'pending',
      query: 'alipay failed: signature_invalid',
    })
    expect(await sent(CERT_SHOP, 'rotationNextCert')).toEqual(ACCEPTED)
  })
})
