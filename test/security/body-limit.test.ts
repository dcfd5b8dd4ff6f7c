/**
 * Oversized bodies: refused with the channel's reject reply and 413, without the gateway ever reading
 * (or holding) more than the 64 KiB limit. The bodies here are streams with no Content-Length, so
 * only the streaming reader can stop them; some never end at all, so a reader that tried to buffer
 * them whole would never return. Pulled bytes are counted at the source.
 */
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { NOTIFY_BODY_LIMIT } from '../../src/lib/read-body'
import type { Channel } from '../../src/providers'
import {
  adminErrorReply,
  callWorker,
  freshPayment,
  notify,
  recordForwarded,
  registerMerchant,
  rejectReply,
  type ForwardedCall,
} from './harness'
import { NOTIFY_PATH } from '../support/providers'

const MERCHANT_ID = 'body-limit'
const CHUNK = 16 * 1024

interface CountingStream {
  stream: ReadableStream<Uint8Array>
  pulledBytes: () => number
  cancelled: () => boolean
}

/** A body of `total` bytes (Infinity: endless) made on demand, one 16 KiB chunk per pull. */
function countingStream(total: number, fill = 0x20): CountingStream {
  let pulled = 0
  let cancelled = false
  const chunk = new Uint8Array(CHUNK).fill(fill)
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close()
        pulled += CHUNK
        controller.enqueue(chunk)
      },
      cancel() {
        cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulledBytes: () => pulled, cancelled: () => cancelled }
}

function streamedNotify(channel: Channel, body: ReadableStream<Uint8Array>): Request {
  const path = NOTIFY_PATH[channel]
  return new Request(`https://gw.test/notify/${MERCHANT_ID}/${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })
}

const TOO_LARGE: Record<Channel, { status: number; body: string }> = {
  'wechatpay.v2': rejectReply('wechatpay.v2', 413, `body larger than ${NOTIFY_BODY_LIMIT} bytes`),
  'wechatpay.v3': rejectReply('wechatpay.v3', 413, `body larger than ${NOTIFY_BODY_LIMIT} bytes`),
  alipay: rejectReply('alipay', 413, ''),
}

describe('bodies over 64 KiB', () => {
  for (const channel of ['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const) {
    it(`${channel}: an endless streamed body gets 413 and the reject reply after at most 64 KiB + one chunk is read`, async () => {
      await registerMerchant(MERCHANT_ID)
      const body = countingStream(Infinity)
      const response = await callWorker(streamedNotify(channel, body.stream), {})
      expect({ status: response.status, body: await response.text() }).toEqual(TOO_LARGE[channel])
      expect(body.pulledBytes()).toBeLessThanOrEqual(NOTIFY_BODY_LIMIT + CHUNK)
      expect(body.cancelled()).toBe(true)
    })
  }

  it("to an unknown merchant too: 413 and the reject reply, not the unknown merchant's 404, after at most 64 KiB + one chunk", async () => {
    for (const channel of ['wechatpay.v2', 'wechatpay.v3', 'alipay'] as const) {
      for (const merchant of ['no-such-merchant', 'not.a.merchant.id']) {
        const body = countingStream(Infinity)
        const request = new Request(`https://gw.test/notify/${merchant}/${NOTIFY_PATH[channel]}`, { method: 'POST', body: body.stream })
        const response = await callWorker(request, {})
        expect({ channel, status: response.status, body: await response.text() }).toEqual({ channel, ...TOO_LARGE[channel] })
        expect(body.pulledBytes()).toBeLessThanOrEqual(NOTIFY_BODY_LIMIT + CHUNK)
      }
    }
    // Within the limit, an unknown merchant is still 404.
    const small = await callWorker(new Request(`https://gw.test/notify/no-such-merchant/alipay`, { method: 'POST', body: 'a=1' }), {})
    expect(small.status).toBe(404)
  })

  it('through the real Worker entry, an 8 MiB streamed body is refused long before its end', async () => {
    await registerMerchant(MERCHANT_ID)
    const total = 8 * 1024 * 1024
    const body = countingStream(total)
    const response = await exports.default.fetch(`https://gw.test/notify/${MERCHANT_ID}/wechatpay/v2`, {
      method: 'POST',
      body: body.stream,
      headers: { 'content-type': 'text/xml' },
    })
    expect({ status: response.status, body: await response.text() }).toEqual(TOO_LARGE['wechatpay.v2'])
    // The transport between caller and Worker may buffer a little; nowhere near the whole body.
    expect(body.pulledBytes()).toBeLessThan(total / 8)
  })

  it('a declared Content-Length over the limit is refused before any byte is read', async () => {
    await registerMerchant(MERCHANT_ID)
    const body = countingStream(Infinity)
    const request = new Request(`https://gw.test/notify/${MERCHANT_ID}/alipay`, {
      method: 'POST',
      body: body.stream,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(10 * 1024 * 1024) },
    })
    const response = await callWorker(request, {})
    expect({ status: response.status, body: await response.text() }).toEqual(TOO_LARGE.alipay)
    expect(body.pulledBytes()).toBe(0)
  })

  it('the limit is exact: 64 KiB is read and judged on its merits, one byte more is refused', async () => {
    await registerMerchant(MERCHANT_ID)
    const atLimit = `<xml>${' '.repeat(NOTIFY_BODY_LIMIT - '<xml></xml>'.length)}</xml>`
    expect(new TextEncoder().encode(atLimit).byteLength).toBe(NOTIFY_BODY_LIMIT)
    const judged = await notify('wechatpay.v2', MERCHANT_ID, { body: atLimit, headers: { 'content-type': 'text/xml' } })
    expect({ status: judged.status, body: await judged.text() }).toEqual(
      rejectReply('wechatpay.v2', 400, 'return_code must be SUCCESS or FAIL'),
    )
    const over = await notify('wechatpay.v2', MERCHANT_ID, { body: `${atLimit} `, headers: { 'content-type': 'text/xml' } })
    expect({ status: over.status, body: await over.text() }).toEqual(TOO_LARGE['wechatpay.v2'])
  })

  it('an oversized admin body is refused the same way, after at most 64 KiB + one chunk', async () => {
    const body = countingStream(Infinity)
    const request = new Request(`https://gw.test/admin/merchants/${MERCHANT_ID}`, {
      method: 'PUT',
      body: body.stream,
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    })
    const response = await callWorker(request, {})
    expect({ status: response.status, body: await response.text() }).toEqual(
      adminErrorReply(400, 'invalid_request', 'body: larger than 64 KiB'),
    )
    expect(body.pulledBytes()).toBeLessThanOrEqual(64 * 1024 + CHUNK)
    expect(body.cancelled()).toBe(true)
  })

  it('the gateway takes a genuine notification right after', async () => {
    await registerMerchant(MERCHANT_ID)
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v3')
    const response = await notify('wechatpay.v3', MERCHANT_ID, payment)
    expect(response.status).toBe(204)
    await vi.waitFor(() => expect(forwarded.map((c) => c.outTradeNo)).toEqual([payment.outTradeNo]))
  })

  it('an unauthenticated admin body is never read at all', async () => {
    const body = countingStream(Infinity)
    const request = new Request(`https://gw.test/admin/merchants/${MERCHANT_ID}`, {
      method: 'PUT',
      body: body.stream,
      headers: { 'content-type': 'application/json' },
    })
    const response = await callWorker(request, {})
    expect(response.status).toBe(401)
    expect(body.pulledBytes()).toBe(0)
  })
})
