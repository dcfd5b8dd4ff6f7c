/**
 * The admin API's audit trail (from a security review: a leaked token could repoint a merchant's events and leave no
 * trace): every change it makes logs one `admin.change` line naming the route, the merchant, the fields its body named
 * and the token that signed it in, never a value; reads and refused requests log none.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { fieldPaths } from '../../src/http/admin-audit'
import { admin, callWorker, merchantBody, ownKeys, registerMerchant } from '../security/harness'

/** The lines of `event` logged while `work` runs, and everything logged meanwhile as text. */
async function linesLogged(event: string, work: () => Promise<unknown>): Promise<{ lines: Record<string, unknown>[]; text: string }> {
  const captured: string[] = []
  const spies = (['log', 'warn', 'error'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((line: unknown) => captured.push(String(line))),
  )
  try {
    await work()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  const lines = captured.filter((line) => line.includes(`"${event}"`)).map((line) => JSON.parse(line) as Record<string, unknown>)
  return { lines, text: captured.join('\n') }
}

describe('admin.change', () => {
  it('is one line per change: route, merchant, the fields named and the token, never a value', async () => {
    const M = 'audit-trail'
    await registerMerchant(M, { identity: ownKeys(M) })
    const url = 'https://elsewhere.example/hooks?token=do-not-log-me'
    const { lines, text } = await linesLogged('admin.change', async () => {
      expect((await admin(`/admin/merchants/${M}`)).status).toBe(200)
      const patch = await admin(`/admin/merchants/${M}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ forward: { url } }),
      })
      expect(patch.status).toBe(200)
      // Refused: nothing changed, nothing logged as a change.
      const refused = await admin(`/admin/merchants/${M}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ forward: { url: 'not a url' } }),
      })
      expect(refused.status).toBe(400)
      expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
      const rotated = { ADMIN_TOKEN: 'a-new-admin-token-of-32-characters!', ADMIN_TOKEN_PREVIOUS: env.ADMIN_TOKEN }
      const enable = new Request(`https://gw.test/admin/merchants/${M}/endpoint/enable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      })
      expect((await callWorker(enable, rotated)).status).toBe(200)
    })
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'admin.change',
        method: 'PATCH',
        route: '/admin/merchants/{merchantId}',
        merchant_id: M,
        fields: 'forward.url',
        token: 'current',
      }),
      expect.objectContaining({ method: 'POST', route: '/admin/merchants/{merchantId}/endpoint/disable', merchant_id: M, fields: '' }),
      expect.objectContaining({ method: 'POST', route: '/admin/merchants/{merchantId}/endpoint/enable', token: 'previous' }),
    ])
    expect(text).not.toContain('elsewhere.example')
    expect(text).not.toContain('do-not-log-me')
  })

  it("names a whole merchant's fields on a PUT, secrets by name only", async () => {
    const M = 'audit-put'
    const body = merchantBody(M, { identity: ownKeys(M) })
    const { lines, text } = await linesLogged('admin.change', async () => {
      expect((await admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(body) })).status).toBe(201)
    })
    expect(lines).toHaveLength(1)
    expect(String(lines[0]!.fields).split(',')).toEqual(expect.arrayContaining(['forward.url', 'forward.secret', 'wechatpay.apiV3Key']))
    expect(text).not.toContain(body.forward.secret)
  })
})

describe('admin.refused', () => {
  it('is one line per refused sign-in: why, the route and the client address, never the token nor the query', async () => {
    const guess = 'a-guessed-token-that-is-long-enough-to-try'
    const request = (path: string, authorization?: string): Request =>
      new Request(`https://gw.test${path}`, {
        headers: { 'cf-connecting-ip': '203.0.113.9', ...(authorization === undefined ? {} : { authorization }) },
      })
    const { lines, text } = await linesLogged('admin.refused', async () => {
      expect((await callWorker(request('/admin/merchants'), {})).status).toBe(401)
      expect((await callWorker(request('/admin/merchants?token=in-the-query', `Bearer ${guess}`), {})).status).toBe(401)
      expect((await callWorker(request('/admin/merchants', `Bearer ${guess}`), { ADMIN_TOKEN: '' })).status).toBe(401)
      // Signed in: nothing refused. The OpenAPI document needs no token: nothing refused either.
      expect((await admin('/admin/merchants')).status).toBe(200)
      expect((await callWorker(request('/admin/openapi.json'), {})).status).toBe(200)
    })
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        reason: 'no_bearer_token',
        method: 'GET',
        path: '/admin/merchants',
        client_ip: '203.0.113.9',
      }),
      expect.objectContaining({ reason: 'token_not_accepted', path: '/admin/merchants' }),
      expect.objectContaining({ reason: 'admin_token_unset' }),
    ])
    expect(text).not.toContain(guess)
    expect(text).not.toContain('in-the-query')
  })

  it("quotes at most 200 characters of a probe's path", async () => {
    const path = `/admin/${'x'.repeat(500)}`
    const { lines } = await linesLogged('admin.refused', () => callWorker(new Request(`https://gw.test${path}`), {}))
    expect(lines).toHaveLength(1)
    expect(String(lines[0]!.path)).toBe(path.slice(0, 200))
  })
})

describe('fieldPaths', () => {
  it('gives the dotted names of the leaves (a list is one), and cuts a body that names too many', () => {
    expect(fieldPaths({ a: 1, b: { c: 'x', d: [1, 2], e: {} }, f: null })).toEqual(['a', 'b.c', 'b.d', 'b.e', 'f'])
    expect(fieldPaths({})).toEqual([])
    const many = fieldPaths(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])))
    expect(many).toHaveLength(65)
    expect(many.at(-1)).toBe('…')
  })
})
