/**
 * `D1_SHARDS` set up wrong, as an operator adding a shard can leave it (found by a black-box audit): a listed name that
 * is no D1 binding, or a database without the projection's tables, is never given to a new merchant (a merchant keeps
 * its shard, so it would be stuck there); reads of every shard leave an unbound one out; and a merchant whose shard is
 * no longer listed gets a 500 that says which shard and what to do, not "internal error".
 */
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { assignShard } from '../../src/storage/shards'
import { capturedLines } from '../support/console-capture'
import { callWorker, ownKeys, registerMerchant } from '../security/harness'

const now = () => new Date().toISOString()
const shardOf = (merchantId: string) =>
  env.DB.prepare('SELECT shard FROM merchant_shards WHERE merchant_id = ?').bind(merchantId).first<{ shard: string }>()

async function adminWith(path: string, overrides: Partial<Env>, init: RequestInit = {}) {
  const headers = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
  const response = await callWorker(new Request(`https://gw.test${path}`, { ...init, headers }), overrides)
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } }
}

describe('a misconfigured shard', () => {
  it('that is no D1 binding, or has no projection tables, is never given to a new merchant, however empty', async () => {
    // Neither holds a merchant, DB holds every merchant of this file: by load alone, either would be picked. This file
    // has not migrated DB_SHARD_1: a shard added before its migrations were applied.
    const wrong = { ...env, D1_SHARDS: 'DB,DB_MISSING,DB_SHARD_1' } as Env
    expect(await assignShard(wrong, 'shard-new-1', now())).toBe('DB')
    expect(await shardOf('shard-new-1')).toEqual({ shard: 'DB' })
    const unusable = (shard: string) =>
      capturedLines.some((line) => line.includes('"event":"shard.unusable"') && line.includes(`"shard":"${shard}"`))
    expect([unusable('DB_MISSING'), unusable('DB_SHARD_1')]).toEqual([true, true])
    // Migrated, the empty shard takes the next new merchant; a merchant given one keeps it, whatever is listed.
    await applyD1Migrations(env.DB_SHARD_1, env.TEST_MIGRATIONS)
    expect(await assignShard(wrong, 'shard-new-2', now())).toBe('DB_SHARD_1')
    expect(await assignShard({ ...env, D1_SHARDS: 'DB,DB_MISSING' } as Env, 'shard-new-2', now())).toBe('DB_SHARD_1')
    await env.DB.prepare("DELETE FROM merchant_shards WHERE merchant_id IN ('shard-new-1', 'shard-new-2')").run()
  })

  it('that is no D1 binding is left out of the reads of every shard: an unknown delivery is 404, the endpoints page lists', async () => {
    await registerMerchant('shard-listed', { identity: ownKeys('shard-listed') })
    const unbound = { D1_SHARDS: 'DB,DB_MISSING' } as unknown as Partial<Env>
    expect(await adminWith('/admin/deliveries/dlv_0123456789abcdef0123456789abcdef', unbound)).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    })
    const endpoints = await adminWith('/admin/endpoints?limit=100', unbound)
    expect(endpoints.status).toBe(200)
    expect(capturedLines.some((line) => line.includes('"event":"shard.unbound"') && line.includes('DB_MISSING'))).toBe(true)
  })

  it('no longer listed: its merchant’s reads answer a 500 naming the shard and what to do', async () => {
    await registerMerchant('shard-unlisted', { identity: ownKeys('shard-unlisted') })
    await env.DB.prepare('INSERT OR REPLACE INTO merchant_shards (merchant_id, shard, assigned_at) VALUES (?, ?, ?)')
      .bind('shard-unlisted', 'DB_SHARD_1', now())
      .run()
    for (const path of ['deliveries', 'notifications', 'stats']) {
      // D1_SHARDS as shipped (DB alone), while the map says DB_SHARD_1.
      expect(await adminWith(`/admin/merchants/shard-unlisted/${path}`, {})).toEqual({
        status: 500,
        body: {
          error: {
            code: 'internal',
            message:
              "merchant shard-unlisted's lists and stats are on shard DB_SHARD_1, which D1_SHARDS does not list: list it " +
              'again (what was projected meanwhile waits in the dead-letter queue: then npm run admin -- projection redrive)',
          },
        },
      })
    }
    expect(capturedLines.some((line) => line.includes('"event":"admin.shard_unavailable"') && line.includes('shard-unlisted'))).toBe(true)
    await env.DB.prepare("DELETE FROM merchant_shards WHERE merchant_id = 'shard-unlisted'").run()
  })
})
