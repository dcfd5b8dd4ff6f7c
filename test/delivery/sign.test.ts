import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signWebhook, signedContent } from '../../src/delivery/sign'

// 32-byte throwaway secrets: 'whsec_' + base64('paygate-test-secret-number-one!!') and '…-two!!'.
const CURRENT = 'whsec_cGF5Z2F0ZS10ZXN0LXNlY3JldC1udW1iZXItb25lISE='
const PREVIOUS = 'whsec_cGF5Z2F0ZS10ZXN0LXNlY3JldC1udW1iZXItdHdvISE='

const ID = 'evt_01JD0000000000000000000000'
const BODY = JSON.stringify({
  type: 'payment.succeeded',
  timestamp: '2026-11-22T10:00:00Z',
  data: { merchant_id: 'acme', out_trade_no: 'T1001', amount: 100, raw: { body: '测试商品 — ✓' } },
})

/** Independent oracle: node:crypto HMAC over the spec's `${id}.${timestamp}.${body}`. */
function oracleSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

describe('signWebhook', () => {
  it('matches a known vector computed outside the project', async () => {
    // node -e "crypto.createHmac('sha256', Buffer.from('paygate-test-secret-number-one!!'))
    //   .update('evt_01JD0000000000000000000000.1795860000.{\"type\":\"payment.succeeded\"}').digest('base64')"
    const headers = await signWebhook({
      id: ID,
      timestamp: 1795860000,
      body: '{"type":"payment.succeeded"}',
      secrets: [CURRENT],
    })
    expect(headers).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': '1795860000',
      'webhook-signature': 'v1,arMFEHVlWQsSASzb4q+tcAguIKYINeF1zGEB2q4jcpY=',
    })
  })

  it('signs the UTF-8 bytes of a body with non-ASCII text exactly as node:crypto does', async () => {
    const headers = await signWebhook({ id: ID, timestamp: 1795860000, body: BODY, secrets: [CURRENT] })
    expect(headers['webhook-signature']).toBe(oracleSignature(CURRENT, ID, 1795860000, BODY))
  })

  it('produces an event the standardwebhooks library verifies and parses', async () => {
    const headers = await signWebhook({ id: ID, timestamp: nowSeconds(), body: BODY, secrets: [CURRENT] })
    expect(new Webhook(CURRENT).verify(BODY, headers)).toEqual(JSON.parse(BODY))
  })

  it('lists one signature per secret during rotation, current first, and either secret verifies', async () => {
    const timestamp = nowSeconds()
    const headers = await signWebhook({ id: ID, timestamp, body: BODY, secrets: [CURRENT, PREVIOUS] })
    expect(headers['webhook-signature'].split(' ')).toEqual([
      oracleSignature(CURRENT, ID, timestamp, BODY),
      oracleSignature(PREVIOUS, ID, timestamp, BODY),
    ])
    expect(new Webhook(CURRENT).verify(BODY, headers)).toEqual(JSON.parse(BODY))
    expect(new Webhook(PREVIOUS).verify(BODY, headers)).toEqual(JSON.parse(BODY))
    const stranger = `whsec_${Buffer.from('a-secret-nobody-configured-here!').toString('base64')}`
    expect(() => new Webhook(stranger).verify(BODY, headers)).toThrow('No matching signature found')
  })

  it('signs each retry afresh: same webhook-id, new timestamp, different signature', async () => {
    const first = await signWebhook({ id: ID, timestamp: 1795860000, body: BODY, secrets: [CURRENT] })
    const retry = await signWebhook({ id: ID, timestamp: 1795860005, body: BODY, secrets: [CURRENT] })
    expect(retry['webhook-id']).toBe(first['webhook-id'])
    expect(retry['webhook-timestamp']).toBe('1795860005')
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature'])
  })

  it('builds the same signed content from a string body and from its bytes', () => {
    const fromText = signedContent(ID, 1795860000, BODY)
    const fromBytes = signedContent(ID, 1795860000, new TextEncoder().encode(BODY))
    expect(fromBytes).toEqual(fromText)
    expect(new TextDecoder().decode(fromText)).toBe(`${ID}.1795860000.${BODY}`)
  })

  it('refuses malformed secrets, ids and timestamps without echoing the secret', async () => {
    const shortSecret = `whsec_${Buffer.from('too-short').toString('base64')}`
    await expect(signWebhook({ id: ID, timestamp: 1, body: BODY, secrets: [shortSecret] })).rejects.toThrow(
      /^webhook secret must decode to 16–64 bytes$/,
    )
    await expect(signWebhook({ id: ID, timestamp: 1, body: BODY, secrets: ['plain-password'] })).rejects.toThrow(/must start with whsec_/)
    await expect(signWebhook({ id: ID, timestamp: 1, body: BODY, secrets: [] })).rejects.toThrow(RangeError)
    await expect(signWebhook({ id: '', timestamp: 1, body: BODY, secrets: [CURRENT] })).rejects.toThrow(RangeError)
    await expect(signWebhook({ id: ID, timestamp: 1.5, body: BODY, secrets: [CURRENT] })).rejects.toThrow(RangeError)
  })
})
