import { delay, http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { attemptDelivery, RESPONSE_SNIPPET_BYTES } from '../../src/delivery/attempt'
import { signWebhook } from '../../src/delivery/sign'
import { network } from '../msw'

const MERCHANT = 'https://merchant.example/hooks/paygate'
const SECRET = 'whsec_cGF5Z2F0ZS10ZXN0LXNlY3JldC1udW1iZXItb25lISE='
const BODY = JSON.stringify({ type: 'payment.succeeded', data: { out_trade_no: 'T1001', amount: 100 } })

async function signed(): Promise<Awaited<ReturnType<typeof signWebhook>>> {
  return signWebhook({ id: 'evt_attempt_test', timestamp: 1795860000, body: BODY, secrets: [SECRET] })
}

/** A merchant reply body of `total` bytes that is produced only as it is read, counting what was pulled. */
function meteredBody(total: number, chunkSize = 64 * 1024): { stream: ReadableStream; pulled: () => number } {
  let produced = 0
  const chunk = new Uint8Array(chunkSize).fill('x'.charCodeAt(0))
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (produced >= total) return controller.close()
        const part = chunk.subarray(0, Math.min(chunkSize, total - produced))
        produced += part.byteLength
        controller.enqueue(part.slice())
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulled: () => produced }
}

describe('attemptDelivery', () => {
  it('POSTs the exact body with the signed headers, JSON type and our user agent, and 200 is delivered', async () => {
    const headers = await signed()
    let seen: { method: string; headers: Headers; body: string } | undefined
    network.use(
      http.post(MERCHANT, async ({ request }) => {
        seen = { method: request.method, headers: request.headers, body: await request.text() }
        return HttpResponse.text('thanks')
      }),
    )
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers })
    expect(result).toMatchObject({ kind: 'delivered', statusCode: 200, responseSnippet: 'thanks' })
    expect(result).not.toHaveProperty('error')
    expect(seen?.method).toBe('POST')
    expect(seen?.body).toBe(BODY)
    expect(seen?.headers.get('content-type')).toBe('application/json')
    expect(seen?.headers.get('user-agent')).toBe('paygate/0.1')
    expect(seen?.headers.get('webhook-id')).toBe(headers['webhook-id'])
    expect(seen?.headers.get('webhook-timestamp')).toBe(headers['webhook-timestamp'])
    expect(seen?.headers.get('webhook-signature')).toBe(headers['webhook-signature'])
  })

  it('counts any 2xx as delivered', async () => {
    network.use(http.post(MERCHANT, () => new HttpResponse(null, { status: 204 })))
    expect(await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })).toMatchObject({
      kind: 'delivered',
      statusCode: 204,
      responseSnippet: '',
    })
  })

  it('retries a 500 and keeps the start of the reply', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.text('database down', { status: 500 })))
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })
    expect(result).toEqual({
      kind: 'retry',
      statusCode: 500,
      latencyMs: expect.any(Number),
      responseSnippet: 'database down',
    })
  })

  it('retries a 400 too: the merchant may fix its handler', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.json({ error: 'bad signature' }, { status: 400 })))
    expect(await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })).toMatchObject({
      kind: 'retry',
      statusCode: 400,
      responseSnippet: '{"error":"bad signature"}',
    })
  })

  it('passes on the merchant’s Retry-After in seconds', async () => {
    const tooMany = { status: 429, headers: { 'retry-after': '120' } }
    network.use(http.post(MERCHANT, () => new HttpResponse('slow down', tooMany)))
    expect(await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })).toMatchObject({
      kind: 'retry',
      statusCode: 429,
      retryAfter: 120,
    })
  })

  it('reports 410 as gone', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.text('endpoint removed', { status: 410 })))
    expect(await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })).toMatchObject({
      kind: 'gone',
      statusCode: 410,
      responseSnippet: 'endpoint removed',
    })
  })

  it('does not follow a redirect and retries instead', async () => {
    const target = 'https://elsewhere.example/collect'
    let targetCalls = 0
    network.use(
      http.post(MERCHANT, () => new HttpResponse(null, { status: 302, headers: { location: target } })),
      http.all(target, () => {
        targetCalls++
        return HttpResponse.text('followed')
      }),
    )
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })
    expect(result).toMatchObject({ kind: 'retry', statusCode: 302, error: 'redirect not followed' })
    expect(targetCalls).toBe(0)
  })

  it('keeps exactly the first KiB of a reply of several MB without reading the rest', async () => {
    const total = 8 * 1024 * 1024
    const reply = meteredBody(total)
    network.use(http.post(MERCHANT, () => new HttpResponse(reply.stream, { status: 200 })))
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })
    expect(result.kind).toBe('delivered')
    expect(result.responseSnippet).toBe('x'.repeat(RESPONSE_SNIPPET_BYTES))
    expect(reply.pulled()).toBeLessThan(total / 8)
  })

  it('leaves out a character cut in half at the KiB boundary', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.text(`${'a'.repeat(RESPONSE_SNIPPET_BYTES - 1)}支付成功`)))
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })
    expect(result.responseSnippet).toBe('a'.repeat(RESPONSE_SNIPPET_BYTES - 1))
  })

  it('retries with "timeout" when the merchant does not answer in time', async () => {
    network.use(
      http.post(MERCHANT, async () => {
        await delay(5_000)
        return HttpResponse.text('too late')
      }),
    )
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed(), timeoutMs: 50 })
    expect(result).toEqual({
      kind: 'retry',
      statusCode: null,
      latencyMs: expect.any(Number),
      responseSnippet: '',
      error: 'timeout',
    })
  })

  it('stops reading a body that stalls past the timeout and keeps the status', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('ok, processing'))
        // Never closes: a merchant that acknowledged, then hung.
      },
    })
    network.use(http.post(MERCHANT, () => new HttpResponse(stalled, { status: 200 })))
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed(), timeoutMs: 100 })
    expect(result).toMatchObject({ kind: 'delivered', statusCode: 200, responseSnippet: 'ok, processing' })
  })

  it('retries with "network error" when the connection fails', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.error()))
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed() })
    expect(result).toEqual({
      kind: 'retry',
      statusCode: null,
      latencyMs: expect.any(Number),
      responseSnippet: '',
      error: 'network error',
    })
  })

  it('measures latency with the injected clock', async () => {
    network.use(http.post(MERCHANT, () => HttpResponse.text('ok')))
    const ticks = [1_000, 1_250]
    const now = (): number => ticks.shift()!
    const result = await attemptDelivery({ url: MERCHANT, body: BODY, headers: await signed(), now })
    expect(result.latencyMs).toBe(250)
  })
})
