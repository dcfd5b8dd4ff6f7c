import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signWebhook } from '../src/delivery/sign'
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationFailure } from '../src/verify-webhook'

const CURRENT = 'whsec_cGF5Z2F0ZS10ZXN0LXNlY3JldC1udW1iZXItb25lISE='
const PREVIOUS = 'whsec_cGF5Z2F0ZS10ZXN0LXNlY3JldC1udW1iZXItdHdvISE='
const ID = 'evt_01JD0000000000000000000000'
const NOW = 1795860000
const EVENT = {
  type: 'payment.succeeded',
  timestamp: '2026-11-22T10:00:00Z',
  data: {
    merchant_id: 'acme',
    provider: 'wechatpay',
    channel: 'wechatpay.v3',
    out_trade_no: 'T1001',
    transaction_id: '4200001234',
    amount: 100,
    currency: 'CNY',
    paid_at: '2026-11-22T09:59:58Z',
    refund: null,
    raw: { attach: '门店 12' },
  },
}
const BODY = JSON.stringify(EVENT)

function sign({ body = BODY, timestamp = NOW, secrets = [CURRENT] } = {}): ReturnType<typeof signWebhook> {
  return signWebhook({ id: ID, timestamp, body, secrets })
}

/** Verifies with the current secret, at NOW. */
function verifyNow(headers: Record<string, string>, body: string = BODY): ReturnType<typeof verifyWebhook> {
  return verifyWebhook(CURRENT, headers, body, { now: NOW })
}

async function failure(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error = await promise.then(
    () => {
      throw new Error('verification unexpectedly passed')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WebhookVerificationError)
  const verification = error as WebhookVerificationError
  expect(verification.message).not.toContain(CURRENT.slice('whsec_'.length, 16))
  return verification
}

async function expectFailure(promise: Promise<unknown>, reason: WebhookVerificationFailure): Promise<void> {
  expect((await failure(promise)).reason).toBe(reason)
}

describe('verifyWebhook', () => {
  it('returns the event of a valid delivery', async () => {
    const headers = await sign()
    expect(await verifyNow(headers)).toEqual(EVENT)
  })

  it('accepts Headers, plain objects in any capitalisation, and the raw bytes of the body', async () => {
    const headers = await sign()
    expect(await verifyWebhook(CURRENT, new Headers(headers), BODY, { now: NOW })).toEqual(EVENT)
    const capitalised = {
      'Webhook-Id': headers['webhook-id'],
      'Webhook-Timestamp': headers['webhook-timestamp'],
      'Webhook-Signature': headers['webhook-signature'],
    }
    expect(await verifyWebhook(CURRENT, capitalised, new TextEncoder().encode(BODY), { now: NOW })).toEqual(EVENT)
  })

  it("takes Node's request.headers as they come: unset members, and a signature header sent twice", async () => {
    const headers = await sign({ secrets: [PREVIOUS, CURRENT] })
    const [other, ours] = headers['webhook-signature'].split(' ')
    const node = { ...headers, 'webhook-signature': [other!, ours!], 'x-forwarded-for': undefined }
    expect(await verifyWebhook(CURRENT, node, BODY, { now: NOW })).toEqual(EVENT)
    await expectFailure(verifyWebhook(CURRENT, { ...headers, 'webhook-id': [ID, ID] }, BODY, { now: NOW }), 'missing_headers')
    await expectFailure(verifyWebhook(CURRENT, { ...headers, 'webhook-id': undefined }, BODY, { now: NOW }), 'missing_headers')
  })

  it('accepts an event signed by the standardwebhooks library', async () => {
    const signature = new Webhook(CURRENT).sign(ID, new Date(NOW * 1000), BODY)
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(NOW), 'webhook-signature': signature }
    expect(await verifyNow(headers)).toEqual(EVENT)
  })

  it('returns a webhook.test event, typed apart from order events (signed by the standardwebhooks library)', async () => {
    const body = JSON.stringify({ type: 'webhook.test', timestamp: '2026-11-22T10:00:00Z', data: { merchant_id: 'acme' } })
    const signature = new Webhook(CURRENT).sign(ID, new Date(NOW * 1000), body)
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(NOW), 'webhook-signature': signature }
    const event = await verifyNow(headers, body)
    // Narrowing on `type` compiles only because webhook.test is one of the event types verifyWebhook returns.
    if (event.type !== 'webhook.test') throw new Error(`expected webhook.test, got ${event.type}`)
    expect(event.data).toEqual({ merchant_id: 'acme' })
    expect(event.data).not.toHaveProperty('out_trade_no')
  })

  it('rejects a body altered after signing', async () => {
    const headers = await sign()
    await expectFailure(verifyNow(headers, BODY.replace('"amount":100', '"amount":1')), 'no_matching_signature')
  })

  it('rejects a re-serialised body even when it means the same', async () => {
    const headers = await sign()
    await expectFailure(verifyNow(headers, JSON.stringify(EVENT, null, 2)), 'no_matching_signature')
  })

  it('rejects a changed webhook-id or webhook-timestamp', async () => {
    const headers = await sign()
    await expectFailure(verifyNow({ ...headers, 'webhook-id': 'evt_other' }), 'no_matching_signature')
    await expectFailure(verifyNow({ ...headers, 'webhook-timestamp': String(NOW + 1) }), 'no_matching_signature')
  })

  it('rejects a delivery signed with another secret', async () => {
    const headers = await sign({ secrets: [PREVIOUS] })
    const error = await failure(verifyNow(headers))
    expect(error.reason).toBe('no_matching_signature')
    expect(error.message).toBe('No matching signature found')
  })

  it('accepts timestamps up to the tolerance either way and rejects older or newer ones', async () => {
    expect(await verifyNow(await sign({ timestamp: NOW - 300 }))).toEqual(EVENT)
    expect(await verifyNow(await sign({ timestamp: NOW + 300 }))).toEqual(EVENT)
    await expectFailure(verifyNow(await sign({ timestamp: NOW - 301 })), 'timestamp_too_old')
    await expectFailure(verifyNow(await sign({ timestamp: NOW + 301 })), 'timestamp_too_new')
  })

  it('uses the tolerance it is given and the current time by default', async () => {
    await expectFailure(
      verifyWebhook(CURRENT, await sign({ timestamp: NOW - 61 }), BODY, { now: NOW, toleranceSeconds: 60 }),
      'timestamp_too_old',
    )
    const clock = Math.floor(Date.now() / 1000)
    expect(await verifyWebhook(CURRENT, await sign({ timestamp: clock }), BODY)).toEqual(EVENT)
    await expectFailure(verifyWebhook(CURRENT, await sign({ timestamp: clock - 3600 }), BODY), 'timestamp_too_old')
  })

  it('rejects a request missing any of the three headers', async () => {
    const headers = await sign()
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _dropped, ...rest } = headers
      await expectFailure(verifyNow(rest), 'missing_headers')
      await expectFailure(verifyNow({ ...headers, [name]: '' }), 'missing_headers')
    }
  })

  it('rejects a timestamp that is not Unix seconds', async () => {
    const headers = await sign()
    for (const timestamp of ['soon', '1795860000.5', '-1', '2026-11-22T10:00:00Z']) {
      await expectFailure(verifyNow({ ...headers, 'webhook-timestamp': timestamp }), 'invalid_timestamp')
    }
  })

  it('accepts a rotation list with either secret', async () => {
    const headers = await sign({ secrets: [CURRENT, PREVIOUS] })
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2)
    expect(await verifyNow(headers)).toEqual(EVENT)
    expect(await verifyWebhook(PREVIOUS, headers, BODY, { now: NOW })).toEqual(EVENT)
    const stranger = `whsec_${btoa('a-secret-nobody-configured-here!')}`
    await expectFailure(verifyWebhook(stranger, headers, BODY, { now: NOW }), 'no_matching_signature')
  })

  it('skips other signature versions and malformed entries in the list', async () => {
    const headers = await sign()
    const valid = headers['webhook-signature']
    const list = `v1a,bm90LWVkMjU1MTk= v1,not*base64 garbage v2,${valid.slice(3)} ${valid}`
    expect(await verifyNow({ ...headers, 'webhook-signature': list })).toEqual(EVENT)
    const withoutV1 = `v2,${valid.slice(3)}`
    await expectFailure(verifyNow({ ...headers, 'webhook-signature': withoutV1 }), 'no_matching_signature')
  })

  it('rejects a signed body that is not a JSON object', async () => {
    for (const body of ['not json', '[1,2]', 'null']) {
      await expectFailure(verifyNow(await sign({ body }), body), 'invalid_payload')
    }
  })

  it('treats a malformed secret as a configuration error, without echoing it', async () => {
    const headers = await sign()
    const error = await verifyWebhook('hunter2-password', headers, BODY, { now: NOW }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RangeError)
    expect((error as Error).message).toBe('webhook secret must start with whsec_')
  })
})
