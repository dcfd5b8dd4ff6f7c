/**
 * Merchants saved before identities were kept are indexed by the next save of any merchant
 * (indexUnclaimedMerchants). Two saves at once both index them; a save of the legacy merchant itself
 * while an indexing is out writes its own claims, which the old config's do not join; a legacy merchant
 * rewritten without a save meanwhile is read again and indexed.
 */
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { indexUnclaimedMerchants } from '../../src/merchants/identities'
import { masterKeyring } from '../../src/merchants/master-keys'
import { parseMerchantInput } from '../../src/merchants/schema'
import { sealMerchant } from '../../src/merchants/sealing'
import { defaultRegistry } from '../../src/providers'
import { admin, merchantBody, ownKeys } from '../security/harness'

/** Stores `merchantId` as an older version did: its sealed config in `merchants`, and no claims. */
async function saveAsLegacy(merchantId: string): Promise<void> {
  const input = await parseMerchantInput(merchantBody(merchantId, { identity: ownKeys(merchantId) }), { allowLoopback: false })
  const stored = await sealMerchant(masterKeyring(env), merchantId, input, defaultRegistry)
  const at = new Date().toISOString()
  await env.DB.prepare('INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)')
    .bind(merchantId, JSON.stringify(stored), at)
    .run()
}

const claimsOf = async (merchantId: string): Promise<string[]> =>
  (
    await env.DB.prepare('SELECT identity FROM merchant_identities WHERE merchant_id = ?1 ORDER BY identity')
      .bind(merchantId)
      .all<{ identity: string }>()
  ).results.map((row) => row.identity)

const put = (merchantId: string, body: unknown) => admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(body) })

/** The `merchant.identity_shared` lines logged while `run` runs. */
async function sharedLogged(run: () => Promise<unknown>): Promise<unknown[]> {
  const lines: string[] = []
  const spy = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => lines.push(String(line)))
  try {
    await run()
  } finally {
    spy.mockRestore()
  }
  return lines.map((line) => JSON.parse(line) as { event?: string }).filter((line) => line.event === 'merchant.identity_shared')
}

/** `env.DB`, except that its first `batch` runs `meanwhile` before the batch itself: a write racing an indexing. */
function racingFirstBatch(meanwhile: () => Promise<void>): { db: D1Database; raced: () => boolean } {
  let raced = false
  const db = new Proxy(env.DB, {
    get(target, name) {
      if (name === 'batch' && !raced) {
        return async (statements: D1PreparedStatement[]) => {
          raced = true
          await meanwhile()
          return target.batch(statements)
        }
      }
      const value = Reflect.get(target, name)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { db, raced: () => raced }
}

afterEach(async () => {
  await env.DB.batch([env.DB.prepare('DELETE FROM merchant_identities'), env.DB.prepare('DELETE FROM merchants')])
})

describe('indexing merchants saved before identities were kept', () => {
  it('two indexings at once both finish, index the merchant once, and log no merchant as sharing its own identity', async () => {
    await saveAsLegacy('legacy-twice')
    const shared = await sharedLogged(() =>
      Promise.all([indexUnclaimedMerchants(env.DB, defaultRegistry), indexUnclaimedMerchants(env.DB, defaultRegistry)]),
    )
    expect(shared).toEqual([])
    const claims = await claimsOf('legacy-twice')
    expect(claims.length).toBeGreaterThan(1)
    expect(new Set(claims).size).toBe(claims.length)
  })

  it('two saves at once while a legacy merchant waits to be indexed: both created', async () => {
    await saveAsLegacy('legacy-waiting')
    const [first, second] = await Promise.all([
      put('saved-once', merchantBody('saved-once', { identity: ownKeys('saved-once') })),
      put('saved-too', merchantBody('saved-too', { identity: ownKeys('saved-too') })),
    ])
    expect([first.status, second.status]).toEqual([201, 201])
    expect((await claimsOf('legacy-waiting')).length).toBeGreaterThan(1)
  })

  it('a legacy merchant rewritten without a save while an indexing is out (a reseal, its endpoint disabled) is indexed all the same', async () => {
    const legacy = 'legacy-rewritten'
    await saveAsLegacy(legacy)
    // As writeStoredMerchant does: the row's version moves on, no claim is written.
    const racing = racingFirstBatch(async () => {
      await env.DB.prepare('UPDATE merchants SET version = version + 1 WHERE id = ?1').bind(legacy).run()
    })
    await indexUnclaimedMerchants(racing.db, defaultRegistry)
    expect(racing.raced()).toBe(true)
    expect((await claimsOf(legacy)).length).toBeGreaterThan(1)
  })

  it('a save of the legacy merchant while an indexing is out keeps only the claims it saved, and logs nothing about the old ones', async () => {
    const legacy = 'legacy-resaved'
    await saveAsLegacy(legacy)
    const oldMchid = ownKeys(legacy).wechat.mchid
    const renamed = { ...ownKeys(legacy), wechat: { ...ownKeys(legacy).wechat, mchid: '1900077001' } }
    const taker = { ...ownKeys('legacy-taker'), wechat: { ...ownKeys('legacy-taker').wechat, mchid: oldMchid } }
    // An indexing that read the legacy row, then waits while the merchant is saved with another mchid, and another
    // merchant takes the old one: free now.
    const racing = racingFirstBatch(async () => {
      expect((await put(legacy, merchantBody(legacy, { identity: renamed }))).status).toBe(200)
      expect((await put('legacy-taker', merchantBody('legacy-taker', { identity: taker, providers: ['wechatpay'] }))).status).toBe(201)
    })
    const shared = await sharedLogged(() => indexUnclaimedMerchants(racing.db, defaultRegistry))
    expect(racing.raced()).toBe(true)
    expect(shared).toEqual([])
    const claims = await claimsOf(legacy)
    expect(claims.some((claim) => claim.includes('1900077001'))).toBe(true)
    expect(claims.some((claim) => claim.includes(oldMchid))).toBe(false)
  })

  describe('past a page of merchants', () => {
    const unindexed = async () =>
      (await env.DB.prepare('SELECT count(*) AS n FROM merchants WHERE id NOT IN (SELECT merchant_id FROM merchant_identities)').first<{
        n: number
      }>())!.n
    const saveManyAsLegacy = async (count: number) => {
      for (let i = 0; i < count; i++) await saveAsLegacy(`legacy-many-${String(i).padStart(4, '0')}`)
    }

    it('two indexings at once: when each returns, every legacy merchant is indexed', async () => {
      await saveManyAsLegacy(450)
      const left: number[] = []
      await Promise.all([
        indexUnclaimedMerchants(env.DB, defaultRegistry).then(async () => left.push(await unindexed())),
        indexUnclaimedMerchants(env.DB, defaultRegistry).then(async () => left.push(await unindexed())),
      ])
      expect(left).toEqual([0, 0])
    }, 120_000)

    it('a reseal rewriting one more legacy row during each batch: every one is indexed when the indexing returns', async () => {
      await saveManyAsLegacy(450)
      const rewritten: string[] = []
      const db = new Proxy(env.DB, {
        get(target, name) {
          if (name === 'batch') {
            return async (statements: D1PreparedStatement[]) => {
              // As writeStoredMerchant does to a row it reseals: version + 1, no claims; each row once.
              const next = await target
                .prepare(
                  `SELECT id FROM merchants WHERE id NOT IN (SELECT merchant_id FROM merchant_identities)
                   AND id NOT IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT 1`,
                )
                .bind(JSON.stringify(rewritten))
                .first<{ id: string }>()
              if (next !== null) {
                rewritten.push(next.id)
                await target.prepare('UPDATE merchants SET version = version + 1 WHERE id = ?1').bind(next.id).run()
              }
              return target.batch(statements)
            }
          }
          const value = Reflect.get(target, name)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      await indexUnclaimedMerchants(db, defaultRegistry)
      expect(rewritten.length).toBeGreaterThan(4)
      expect(await unindexed()).toBe(0)
    }, 120_000)
  })
})
