import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import type { MerchantInput } from '../../src/merchants/schema'
import { MerchantConfigUnreadable, loadMerchant, saveMerchant } from '../../src/merchants/store'
import { publicView } from '../../src/merchants/public-view'
import { ownIds } from '../security/signing'

const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`
const OLD_SECRET = `whsec_${btoa('previous-secret-32-bytes-long!!!')}`
const { platformCertA, publicKeyMode } = keys.wechatpay

function input(overrides: Partial<MerchantInput> = {}): MerchantInput {
  return {
    forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET, previousSecret: OLD_SECRET },
    wechatpay: {
      appid: keys.wechatpay.appid,
      mchid: keys.wechatpay.mchid,
      apiV2Key: keys.wechatpay.apiV2Key,
      v2SignTypes: ['MD5', 'HMAC-SHA256'],
      apiV3Key: keys.wechatpay.apiV3Key,
      platformPublicKeys: {
        [platformCertA.serial]: platformCertA.publicKeyPem,
        [publicKeyMode.id]: publicKeyMode.publicKeyPem,
      },
    },
    alipay: {
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      signType: 'RSA2',
    },
    ...overrides,
  }
}

/**
 * `input` with provider ids of merchant `id`'s own: no two merchants may claim one provider identity, and
 * store-sealed holds the fixtures'.
 */
function ownInput(id: string, overrides: Partial<MerchantInput> = {}): MerchantInput {
  const base = input(overrides)
  const { wechat, alipay } = ownIds(id)
  return {
    ...base,
    ...(base.wechatpay ? { wechatpay: { ...base.wechatpay, appid: wechat.appid, mchid: wechat.mchid } } : {}),
    ...(base.alipay ? { alipay: { ...base.alipay, appId: alipay.appId, sellerId: alipay.sellerId } } : {}),
  }
}

const SECRETS = [SECRET, OLD_SECRET, keys.wechatpay.apiV2Key, keys.wechatpay.apiV3Key]

async function row(id: string): Promise<{ config: string; version: number; created_at: string; updated_at: string }> {
  const found = await env.DB.prepare('SELECT config, version, created_at, updated_at FROM merchants WHERE id = ?1')
    .bind(id)
    .first<{ config: string; version: number; created_at: string; updated_at: string }>()
  expect(found).not.toBeNull()
  return found!
}

describe('merchant store (D1)', () => {
  it('keeps no secret in plaintext in the D1 row', async () => {
    await saveMerchant(env, 'store-sealed', input())
    const { config } = await row('store-sealed')
    for (const secret of SECRETS) {
      expect(config).not.toContain(secret)
      // Not in base64 either (the secrets are ASCII, so any plain encoding would show one of these).
      expect(config).not.toContain(btoa(secret).slice(0, 24))
    }
    expect(config).toContain(keys.wechatpay.mchid)
  })

  it('opens every secret again on load', async () => {
    await saveMerchant(env, 'store-roundtrip', ownInput('store-roundtrip'))
    const loaded = await loadMerchant(env, 'store-roundtrip', { fresh: true })
    expect(loaded).toEqual({ id: 'store-roundtrip', ...ownInput('store-roundtrip') })
  })

  it('returns null for a merchant that does not exist', async () => {
    expect(await loadMerchant(env, 'store-nobody')).toBeNull()
  })

  it('reports creation, then replacement with a new version and the original created_at', async () => {
    const first = await saveMerchant(env, 'store-versions', ownInput('store-versions'), { now: Date.parse('2026-11-01T00:00:00Z') })
    expect(first).toEqual({ created: true, version: 1 })
    const replacement = ownInput('store-versions', { alipay: undefined })
    const second = await saveMerchant(env, 'store-versions', replacement, { now: Date.parse('2026-11-02T00:00:00Z') })
    expect(second).toEqual({ created: false, version: 2 })
    const stored = await row('store-versions')
    expect(stored.version).toBe(2)
    expect(stored.created_at).toBe('2026-11-01T00:00:00.000Z')
    expect(stored.updated_at).toBe('2026-11-02T00:00:00.000Z')
    expect((await loadMerchant(env, 'store-versions'))?.alipay).toBeUndefined()
  })

  describe('a save racing another save (a PUT, or a PATCH over the version it read)', () => {
    /**
     * `env` whose first write to the merchants or their claims first runs `meanwhile`: another admin's save landing
     * after this save's checks, just before its write.
     */
    function racing(meanwhile: () => Promise<unknown>): Env {
      let raced = false
      const beforeWrite = async () => {
        if (raced) return
        raced = true
        await meanwhile()
      }
      const writes = new WeakSet<D1PreparedStatement>()
      const isWrite = (sql: string) => /^\s*(UPDATE merchants|INSERT INTO merchant_identities|DELETE FROM merchant_identities)/.test(sql)
      const db = Object.create(env.DB) as D1Database
      db.prepare = (sql) => {
        const statement = env.DB.prepare(sql)
        if (!isWrite(sql)) return statement
        const bind = statement.bind.bind(statement)
        statement.bind = (...values) => {
          const bound = bind(...values)
          writes.add(bound)
          const first = bound.first.bind(bound) as () => Promise<unknown>
          bound.first = (async () => {
            await beforeWrite()
            return first()
          }) as D1PreparedStatement['first']
          return bound
        }
        return statement
      }
      db.batch = async (statements) => {
        if (statements.some((statement) => writes.has(statement))) await beforeWrite()
        return env.DB.batch(statements)
      }
      return { ...env, DB: db }
    }
    const mchidOf = async (id: string) => (await loadMerchant(env, id, { fresh: true }))?.wechatpay?.mchid
    const claimsOf = async (id: string) =>
      (await env.DB.prepare('SELECT identity FROM merchant_identities WHERE merchant_id = ?1 ORDER BY identity').bind(id).all()).results

    it("is refused with the other merchant's name when that merchant took the id meanwhile, and changes nothing", async () => {
      await saveMerchant(env, 'race-a', ownInput('race-a'))
      await saveMerchant(env, 'race-b', ownInput('race-b'))
      const { version } = await row('race-a')
      const claimsBefore = await claimsOf('race-a')
      const wanted = { ...ownInput('race-a').wechatpay!, mchid: '1999999999' }
      const takenMeanwhile = racing(() =>
        saveMerchant(env, 'race-b', { ...ownInput('race-b'), wechatpay: { ...ownInput('race-b').wechatpay!, mchid: '1999999999' } }),
      )
      const saving = saveMerchant(takenMeanwhile, 'race-a', { ...ownInput('race-a'), wechatpay: wanted }, { expectedVersion: version })
      await expect(saving).rejects.toMatchObject({
        name: 'IdentityConflict',
        otherMerchantId: 'race-b',
        message: 'the wechatpay identity (mchid 1999999999, no subMchid) already belongs to merchant race-b',
      })
      expect(await mchidOf('race-a')).toBe(ownInput('race-a').wechatpay?.mchid)
      expect(await mchidOf('race-b')).toBe('1999999999')
      expect(await claimsOf('race-a')).toEqual(claimsBefore)
    })

    it('names the parts of the identity as the merchant body does: a sub-merchant by its service provider and subMchid', async () => {
      const partner = (id: string) => ({
        ...ownInput(id),
        wechatpay: { ...ownInput(id).wechatpay!, mchid: '1230000777', subMchid: '1900000777' },
      })
      await saveMerchant(env, 'sub-one', partner('sub-one'))
      await expect(saveMerchant(env, 'sub-two', partner('sub-two'))).rejects.toMatchObject({
        name: 'IdentityConflict',
        message: 'the wechatpay identity (mchid 1230000777, subMchid 1900000777) already belongs to merchant sub-one',
      })
    })

    it('is refused when another merchant took an overlapping claim meanwhile (one of the sellers its wildcard takes)', async () => {
      await saveMerchant(env, 'race-d', ownInput('race-d'))
      await saveMerchant(env, 'race-e', ownInput('race-e'))
      const claimsBefore = await claimsOf('race-e')
      const sharedApp = '2021009999999999'
      const oneSeller = racing(() =>
        saveMerchant(env, 'race-d', { ...ownInput('race-d'), alipay: { ...ownInput('race-d').alipay!, appId: sharedApp } }),
      )
      // No sellerId: race-e would take the app's notifications for every seller, race-d's included.
      const { sellerId: _, ...everySeller } = { ...ownInput('race-e').alipay!, appId: sharedApp }
      const saving = saveMerchant(oneSeller, 'race-e', { ...ownInput('race-e'), alipay: everySeller })
      await expect(saving).rejects.toMatchObject({ name: 'IdentityConflict', otherMerchantId: 'race-d' })
      expect((await loadMerchant(env, 'race-d', { fresh: true }))?.alipay?.appId).toBe(sharedApp)
      expect((await loadMerchant(env, 'race-e', { fresh: true }))?.alipay).toEqual(ownInput('race-e').alipay)
      expect(await claimsOf('race-e')).toEqual(claimsBefore)
    })

    it('is refused as changed meanwhile when the merchant itself was saved since, and leaves that save and its claims', async () => {
      await saveMerchant(env, 'race-c', ownInput('race-c'))
      const { version } = await row('race-c')
      const other = { ...ownInput('race-c').wechatpay!, mchid: '1888888888' }
      const savedMeanwhile = racing(() => saveMerchant(env, 'race-c', { ...ownInput('race-c'), wechatpay: other }))
      const stale = { ...ownInput('race-c').wechatpay!, mchid: '1777777777' }
      const saving = saveMerchant(savedMeanwhile, 'race-c', { ...ownInput('race-c'), wechatpay: stale }, { expectedVersion: version })
      await expect(saving).rejects.toMatchObject({ name: 'MerchantChanged' })
      expect(await mchidOf('race-c')).toBe('1888888888')
      const claims = JSON.stringify(await claimsOf('race-c'))
      expect(claims).toContain('1888888888')
      expect(claims).not.toContain('1777777777')
    })
  })

  it('sees its own saves at once and other isolates’ saves after the cache TTL', async () => {
    const t0 = Date.parse('2026-11-25T10:00:00Z')
    const urlAt = async (now: number, fresh = false): Promise<string | undefined> =>
      (await loadMerchant(env, 'store-cache', { now, fresh }))?.forward.url
    await saveMerchant(env, 'store-cache', ownInput('store-cache'), { now: t0 })
    expect(await urlAt(t0)).toBe('https://merchant.example/hooks/payments')

    // A save in this isolate invalidates the cached entry.
    await saveMerchant(env, 'store-cache', ownInput('store-cache', { forward: { url: 'https://merchant.example/v2', secret: SECRET } }))
    expect(await urlAt(t0 + 1)).toBe('https://merchant.example/v2')

    // Another isolate's save changes only D1: this isolate keeps its copy until the TTL has passed.
    const other = await row('store-cache')
    const changed = other.config.replace('https://merchant.example/v2', 'https://merchant.example/v3')
    await env.DB.prepare('UPDATE merchants SET config = ?1, version = version + 1 WHERE id = ?2').bind(changed, 'store-cache').run()
    expect(await urlAt(t0 + 10_000)).toBe('https://merchant.example/v2')
    expect(await urlAt(t0 + 30_001)).toBe('https://merchant.example/v3')
    // `fresh` always reads D1.
    await env.DB.prepare('UPDATE merchants SET config = ?1 WHERE id = ?2').bind(other.config, 'store-cache').run()
    expect(await urlAt(t0 + 30_002, true)).toBe('https://merchant.example/v2')
  })

  it('hands out frozen configs, so no caller can change what others see', async () => {
    await saveMerchant(env, 'store-frozen', ownInput('store-frozen'))
    const loaded = await loadMerchant(env, 'store-frozen')
    expect(Object.isFrozen(loaded)).toBe(true)
    expect(Object.isFrozen(loaded?.wechatpay?.platformPublicKeys)).toBe(true)
    expect(Object.isFrozen(loaded?.wechatpay?.v2SignTypes)).toBe(true)
  })

  it('will not open a row sealed for merchant A as merchant B', async () => {
    await saveMerchant(env, 'store-owner-a', ownInput('store-owner-a'))
    const sealedForA = await row('store-owner-a')
    await env.DB.prepare('INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)')
      .bind('store-owner-b', sealedForA.config, new Date().toISOString())
      .run()
    const error: unknown = await loadMerchant(env, 'store-owner-b', { fresh: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MerchantConfigUnreadable)
    for (const secret of SECRETS) expect(String((error as Error).message)).not.toContain(secret)
  })
})

describe('public view', () => {
  it('leaves out every secret and shows the public fields', () => {
    const view = publicView({ id: 'acme', ...input() })
    expect(view).toEqual({
      forward: { url: 'https://merchant.example/hooks/payments' },
      wechatpay: {
        appid: keys.wechatpay.appid,
        mchid: keys.wechatpay.mchid,
        v2SignType: ['MD5', 'HMAC-SHA256'],
        platformPublicKeys: {
          [platformCertA.serial]: platformCertA.publicKeyPem,
          [publicKeyMode.id]: publicKeyMode.publicKeyPem,
        },
        // Contract part 2: every platform key with its source (a key given as SPKI has no known expiry).
        platformKeys: [
          { serial: platformCertA.serial, source: 'configured', expires_at: null },
          { serial: publicKeyMode.id, source: 'configured', expires_at: null },
        ],
      },
      alipay: {
        appId: keys.alipay.appId,
        sellerId: keys.alipay.sellerId,
        alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
        signType: 'RSA2',
      },
    })
    const text = JSON.stringify(view)
    for (const secret of SECRETS) expect(text).not.toContain(secret)
  })

  it('shows a single v2 sign type as written, and none for a v3-only merchant', () => {
    const base = input()
    const single = publicView({ id: 'a', ...base, wechatpay: { ...base.wechatpay!, v2SignTypes: ['HMAC-SHA256'] } })
    expect((single.wechatpay as Record<string, unknown>).v2SignType).toBe('HMAC-SHA256')
    const { apiV2Key: _dropped, ...v3Only } = base.wechatpay!
    const v3 = publicView({ id: 'a', ...base, wechatpay: { ...v3Only, v2SignTypes: [] } })
    expect(v3.wechatpay).not.toHaveProperty('v2SignType')
  })
})
