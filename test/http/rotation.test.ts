/**
 * Rotating the gateway's own secrets without downtime: ADMIN_TOKEN_PREVIOUS is accepted beside ADMIN_TOKEN while
 * set; with MASTER_KEY_PREVIOUS set, merchants sealed under it keep working, `POST /admin/reseal` (the CLI's
 * `reseal`) seals every stored secret again under MASTER_KEY, after which the previous key can go.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { toBase64, utf8 } from '../../src/crypto/encoding'
import { masterKeyId, readMasterKey, sealedKeyId } from '../../src/crypto/sealed'
import { type MerchantReplica, merchantReplica } from '../../src/merchants/merchant-replica'
import { network } from '../msw'
import { callWorker, freshPayment, MERCHANT_ORIGIN, merchantBody, notifyRequest, ownKeys } from '../security/harness'

const NEW_MASTER_KEY = toBase64(utf8('a-new-master-key-of-32-bytes!!!!'))

function adminRequest(path: string, token: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${token}`)
  if (init.body !== undefined) headers.set('content-type', 'application/json')
  return new Request(`https://gw.test${path}`, { ...init, headers })
}

/** The key ids of every sealed value in the merchant's stored row. */
async function sealedKeyIds(merchantId: string): Promise<string[]> {
  const row = await env.DB.prepare('SELECT config FROM merchants WHERE id = ?').bind(merchantId).first<{ config: string }>()
  const stored = JSON.parse(row!.config) as { sealed: string[] } & Record<string, Record<string, string>>
  return stored.sealed.map((path) => {
    const [section, field] = path.split('.') as [string, string]
    return sealedKeyId(stored[section]![field]!) ?? 'v1'
  })
}

describe('ADMIN_TOKEN_PREVIOUS', () => {
  it('is accepted beside ADMIN_TOKEN while set, and never when empty', async () => {
    const rotated = { ADMIN_TOKEN: 'the-new-admin-token', ADMIN_TOKEN_PREVIOUS: env.ADMIN_TOKEN }
    for (const token of ['the-new-admin-token', env.ADMIN_TOKEN!]) {
      expect((await callWorker(adminRequest('/admin/merchants', token), rotated)).status).toBe(200)
    }
    expect((await callWorker(adminRequest('/admin/merchants', 'something-else'), rotated)).status).toBe(401)
    const done = { ADMIN_TOKEN: 'the-new-admin-token', ADMIN_TOKEN_PREVIOUS: '' }
    expect((await callWorker(adminRequest('/admin/merchants', env.ADMIN_TOKEN!), done)).status).toBe(401)
    expect((await callWorker(adminRequest('/admin/merchants', 'the-new-admin-token'), done)).status).toBe(200)
  })

  it('is logged when used (a warn line naming the route, never the token), so the clients still on it can be found', async () => {
    const rotated = { ADMIN_TOKEN: 'the-new-admin-token', ADMIN_TOKEN_PREVIOUS: env.ADMIN_TOKEN }
    const lines: string[] = []
    const spies = (['log', 'warn'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((line: unknown) => lines.push(String(line))),
    )
    try {
      expect((await callWorker(adminRequest('/admin/merchants', 'the-new-admin-token'), rotated)).status).toBe(200)
      expect(lines.filter((line) => line.includes('admin.previous_token'))).toEqual([])
      expect((await callWorker(adminRequest('/admin/merchants?limit=5', env.ADMIN_TOKEN!), rotated)).status).toBe(200)
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    const used = lines.filter((line) => line.includes('admin.previous_token')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(used).toEqual([expect.objectContaining({ event: 'admin.previous_token', method: 'GET', path: '/admin/merchants' })])
    expect(lines.join('\n')).not.toContain(env.ADMIN_TOKEN!)
  })
})

describe('a short ADMIN_TOKEN', () => {
  it('locks the API outside development (logged by name, never its value); development takes it', async () => {
    const short = 'dev-admin-token'
    const long = 'a-production-admin-token-of-32-chars!'
    const lines: string[] = []
    const spies = (['log', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((line: unknown) => lines.push(String(line))),
    )
    try {
      expect((await callWorker(adminRequest('/admin/merchants', short), { ADMIN_TOKEN: short, ENVIRONMENT: 'production' })).status).toBe(
        401,
      )
      expect((await callWorker(adminRequest('/admin/merchants', short), { ADMIN_TOKEN: short })).status).toBe(200)
      expect((await callWorker(adminRequest('/admin/merchants', long), { ADMIN_TOKEN: long, ENVIRONMENT: 'production' })).status).toBe(200)
      // A short previous token is refused as unset too, beside a long current one.
      const rotating = { ADMIN_TOKEN: long, ADMIN_TOKEN_PREVIOUS: short, ENVIRONMENT: 'production' }
      expect((await callWorker(adminRequest('/admin/merchants', short), rotating)).status).toBe(401)
      expect((await callWorker(adminRequest('/admin/merchants', long), rotating)).status).toBe(200)
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    const told = lines.filter((line) => line.includes('admin.token_too_short')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(told).toContainEqual(expect.objectContaining({ level: 'error', event: 'admin.token_too_short', secret: 'ADMIN_TOKEN' }))
    expect(told).toContainEqual(expect.objectContaining({ event: 'admin.token_too_short', secret: 'ADMIN_TOKEN_PREVIOUS' }))
    expect(lines.join('\n')).not.toContain(short)
  })
})

describe('MASTER_KEY_PREVIOUS and reseal', () => {
  it('keeps merchants sealed under the previous key working, and moves them all to the new key', async () => {
    network.use(http.post(`${MERCHANT_ORIGIN}/hooks/:merchantId`, () => HttpResponse.text('ok')))
    const ids = ['reseal-a', 'reseal-b', 'reseal-c']
    for (const id of ids) {
      const put = await callWorker(
        adminRequest(`/admin/merchants/${id}`, env.ADMIN_TOKEN!, {
          method: 'PUT',
          body: JSON.stringify(merchantBody(id, { identity: ownKeys(id) })),
        }),
        {},
      )
      expect(put.status).toBe(201)
    }
    const oldId = await masterKeyId(readMasterKey(env.MASTER_KEY))
    const newId = await masterKeyId(readMasterKey(NEW_MASTER_KEY))
    expect(await sealedKeyIds('reseal-a')).toEqual(Array(3).fill(oldId)) // forward.secret, apiV2Key, apiV3Key

    // The rotation begins: MASTER_KEY is the new key, MASTER_KEY_PREVIOUS the old one. Everything still works.
    const during = { MASTER_KEY: NEW_MASTER_KEY, MASTER_KEY_PREVIOUS: env.MASTER_KEY }
    const payment = freshPayment('alipay', { identity: ownKeys('reseal-b') })
    expect((await callWorker(notifyRequest('alipay', 'reseal-b', payment), during)).status).toBe(200)

    // Reseal, a page at a time.
    const pages: { resealed: number; unchanged: number; next_cursor: string | null }[] = []
    let cursor: string | null = null
    do {
      const response: Response = await callWorker(
        adminRequest('/admin/reseal', env.ADMIN_TOKEN!, {
          method: 'POST',
          body: JSON.stringify({ limit: 2, ...(cursor ? { cursor } : {}) }),
        }),
        during,
      )
      expect(response.status).toBe(200)
      const page = (await response.json()) as (typeof pages)[number]
      pages.push(page)
      cursor = page.next_cursor
    } while (cursor !== null)
    expect(pages.reduce((sum, p) => sum + p.resealed, 0)).toBe(3)
    for (const id of ids) expect(await sealedKeyIds(id)).toEqual(Array(3).fill(newId))

    // Run again: nothing left to do.
    const again = await callWorker(adminRequest('/admin/reseal', env.ADMIN_TOKEN!, { method: 'POST', body: '{}' }), during)
    expect(await again.json()).toEqual({ resealed: 0, unchanged: 3, unreadable: [], next_cursor: null })

    // The previous key removed: every merchant opens with the new key alone (GET re-opens the resealed rows).
    const after = { MASTER_KEY: NEW_MASTER_KEY, MASTER_KEY_PREVIOUS: undefined }
    for (const id of ids) expect((await callWorker(adminRequest(`/admin/merchants/${id}`, env.ADMIN_TOKEN!), after)).status).toBe(200)
    expect(
      (await callWorker(notifyRequest('alipay', 'reseal-c', freshPayment('alipay', { identity: ownKeys('reseal-c') })), after)).status,
    ).toBe(200)
  })

  it('brings a replica up to its row when an earlier reseal reached D1 and failed there: all its secrets under the new key', async () => {
    const id = 'reseal-replica'
    const body = JSON.stringify(merchantBody(id, { identity: ownKeys(id) }))
    expect((await callWorker(adminRequest(`/admin/merchants/${id}`, env.ADMIN_TOKEN!, { method: 'PUT', body }), {})).status).toBe(201)
    const replica = merchantReplica(env, id)
    // The replica refuses its next write (a transient failure), after D1's compare-and-set committed. RPC calls only
    // methods of the class, so the class's own is wrapped (and put back below).
    const replicaClass = await runInDurableObject(
      replica,
      (instance: MerchantReplica) => Object.getPrototypeOf(instance) as MerchantReplica,
    )
    const put = replicaClass.put
    let refused = false
    replicaClass.put = function (this: MerchantReplica, row, merchantId) {
      if (refused) return put.call(this, row, merchantId)
      refused = true
      return Promise.reject(new Error('replica unavailable'))
    }
    onTestFinished(() => {
      replicaClass.put = put
    })
    const during = { MASTER_KEY: NEW_MASTER_KEY, MASTER_KEY_PREVIOUS: env.MASTER_KEY }
    const reseal = () => callWorker(adminRequest('/admin/reseal', env.ADMIN_TOKEN!, { method: 'POST', body: '{}' }), during)
    expect((await reseal()).status).toBe(500)
    const d1Version = async () =>
      (await env.DB.prepare('SELECT version FROM merchants WHERE id = ?').bind(id).first<{ version: number }>())!.version
    expect((await replica.get())!.version).toBe((await d1Version()) - 1)

    // Run again, as the error asks: the row is current, and its replica is brought up to it.
    const again = (await (await reseal()).json()) as { resealed: number; unchanged: number }
    expect(again.resealed).toBe(1)
    const replicated = (await replica.get())!
    expect(replicated.version).toBe(await d1Version())
    const newId = await masterKeyId(readMasterKey(NEW_MASTER_KEY))
    const stored = JSON.parse(replicated.config) as { sealed: string[] } & Record<string, Record<string, string>>
    expect(stored.sealed.map((path) => sealedKeyId(stored[path.split('.')[0]!]![path.split('.')[1]!]!))).toEqual(Array(3).fill(newId))
    // And a third run has nothing left to do for it.
    const third = (await (await reseal()).json()) as { resealed: number; unchanged: number }
    expect(third.resealed).toBe(0)
  })

  it('with MASTER_KEY_PREVIOUS removed too early: says which merchants and what to set, and reseals the others', async () => {
    const put = (id: string, keys: Partial<Env>) =>
      callWorker(
        adminRequest(`/admin/merchants/${id}`, env.ADMIN_TOKEN!, {
          method: 'PUT',
          body: JSON.stringify(merchantBody(id, { identity: ownKeys(id) })),
        }),
        keys,
      )
    const OLDER_KEY = toBase64(utf8('an-older-master-key-of-32-bytes!'))
    expect((await put('reseal-orphan', { MASTER_KEY: OLDER_KEY })).status).toBe(201)
    expect((await put('reseal-stale', {})).status).toBe(201)
    // As a new isolate would see the row (this one keeps what it opened, by the row's text).
    await env.DB.prepare(`UPDATE merchants SET config = config || ' ' WHERE id = 'reseal-orphan'`).run()
    const rotated = { MASTER_KEY: NEW_MASTER_KEY, MASTER_KEY_PREVIOUS: env.MASTER_KEY }

    const shown = await callWorker(adminRequest('/admin/merchants/reseal-orphan', env.ADMIN_TOKEN!), rotated)
    expect([shown.status, await shown.json()]).toEqual([
      500,
      {
        error: {
          code: 'internal',
          message:
            'merchant reseal-orphan: its secrets are sealed under a master key that is neither MASTER_KEY nor MASTER_KEY_PREVIOUS: ' +
            'set MASTER_KEY_PREVIOUS to the key they were sealed under, then run npm run admin -- reseal',
        },
      },
    ])
    const reseal = await callWorker(adminRequest('/admin/reseal', env.ADMIN_TOKEN!, { method: 'POST', body: '{}' }), rotated)
    expect(reseal.status).toBe(200)
    const page = (await reseal.json()) as { unreadable: string[]; next_cursor: string | null }
    expect(page).toMatchObject({ unreadable: ['reseal-orphan'], next_cursor: null })
    expect(await sealedKeyIds('reseal-stale')).toEqual(Array(3).fill(await masterKeyId(readMasterKey(NEW_MASTER_KEY))))
  })

  it('refuses a reseal request it cannot read, naming the field', async () => {
    const response = await callWorker(
      adminRequest('/admin/reseal', env.ADMIN_TOKEN!, { method: 'POST', body: JSON.stringify({ limit: 1000 }) }),
      {},
    )
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('limit: an integer from 1 to 100')
  })
})
