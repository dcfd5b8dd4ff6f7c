/**
 * @module Which provider identities a merchant claims, and the rule that no two merchants claim one:
 * otherwise one genuine notification, posted to each merchant's URL, would pay orders at both. Each
 * provider's descriptor says what its identity keys are; the last part of a key may be `ANY` (a merchant
 * that accepts any seller), which overlaps every value there.
 */
import { log } from '../lib/log'
import type { ProviderRegistry } from '../providers'
import type { MerchantConfig } from './types'

/** The wildcard last segment of an identity key. */
export const ANY = '*'
const SEP = '\u001f'

/** Another merchant already claims an identity this merchant would claim. */
export class IdentityConflict extends Error {
  override readonly name = 'IdentityConflict'
  constructor(
    readonly provider: string,
    readonly otherMerchantId: string,
    readonly identity: readonly string[],
    fields: readonly string[] = [],
  ) {
    super(`the ${provider} identity (${describeIdentity(identity, fields)}) already belongs to merchant ${otherMerchantId}`)
  }
}

/** `mchid 1230000001, no subMchid`; `appId 2021…, no authAppId, any sellerId`: the parts by the names a merchant body gives them. */
function describeIdentity(parts: readonly string[], fields: readonly string[]): string {
  if (fields.length !== parts.length) return parts.join(' / ')
  return parts.map((part, i) => (part === '-' ? `no ${fields[i]}` : part === ANY ? `any ${fields[i]}` : `${fields[i]} ${part}`)).join(', ')
}

/** Every identity key of `config`, encoded for storage (`provider`, then the key's parts). */
export function identityKeysOf(config: Omit<MerchantConfig, 'id'>, registry: ProviderRegistry): string[] {
  const keys = new Set<string>()
  for (const { descriptor, section } of registry.sectionsOf(config)) {
    if (descriptor.identity === undefined) continue
    for (const key of descriptor.identity.keys(section)) keys.add([descriptor.provider, ...key].join(SEP))
  }
  return [...keys]
}

/** A stored identity key's provider and parts (the inverse of `identityKeysOf`'s encoding). */
function decodeIdentity(key: string): { provider: string; parts: string[] } {
  const [provider = '', ...parts] = key.split(SEP)
  return { provider, parts }
}

/**
 * The condition on a `merchant_identities` row of overlapping `key`, with its parameters numbered from `first`: the
 * same key, a wildcard `key` over any key under its prefix, or a wildcard over `key`'s last part. Migration 0015's
 * trigger keeps the same rule inside every write.
 */
function overlapOf(key: string, first: number): { where: string; params: string[] } {
  const cut = key.lastIndexOf(SEP) + 1
  const prefix = key.slice(0, cut)
  if (key.slice(cut) === ANY) return { where: `substr(identity, 1, length(?${first})) = ?${first}`, params: [prefix] }
  return { where: `identity IN (?${first}, ?${first + 1})`, params: [key, `${prefix}${ANY}`] }
}

/** The query that finds another merchant's key overlapping `key`. */
function overlapping(db: D1Database, merchantId: string, key: string): D1PreparedStatement {
  const { where, params } = overlapOf(key, 2)
  return db
    .prepare(`SELECT identity, merchant_id FROM merchant_identities WHERE merchant_id != ?1 AND ${where} LIMIT 1`)
    .bind(merchantId, ...params)
}

/** Throws `IdentityConflict` when another merchant claims one of `keys`. */
export async function checkIdentities(
  db: D1Database,
  merchantId: string,
  keys: readonly string[],
  registry: ProviderRegistry,
): Promise<void> {
  if (keys.length === 0) return
  const results = await db.batch<{ identity: string; merchant_id: string }>(keys.map((key) => overlapping(db, merchantId, key)))
  for (const { results: rows } of results) {
    const row = rows[0]
    if (row === undefined) continue
    const { provider, parts } = decodeIdentity(row.identity)
    throw new IdentityConflict(provider, row.merchant_id, parts, registry.provider(provider)?.identity?.fields)
  }
}

/**
 * Whether a merchant other than `merchantId` claims an identity of `provider` whose key starts with `parts` (a
 * WeChat Pay sub-merchant of a service provider's mchid): the overlap of a wildcard there. Throws when D1 cannot answer.
 */
export async function claimedByOthersUnder(
  db: D1Database,
  merchantId: string,
  provider: string,
  parts: readonly string[],
): Promise<boolean> {
  return (await overlapping(db, merchantId, [provider, ...parts, ANY].join(SEP)).first()) !== null
}

/** Marks a merchant as indexed even when it claims nothing; never overlaps a real key (those start with a name). */
const indexedMark = (merchantId: string): string => `${SEP}${merchantId}`

/**
 * The statements that make `keys` this merchant's claims, to run in the same batch as its save. With `atVersion`,
 * they apply only while the merchant's row is still at that version: put them before a compare-and-set update in the
 * same batch, and a save that lost the race changes no claim either.
 */
export function claimStatements(db: D1Database, merchantId: string, keys: readonly string[], atVersion?: number): D1PreparedStatement[] {
  const claimed = [indexedMark(merchantId), ...keys]
  if (atVersion === undefined) {
    return [
      db.prepare('DELETE FROM merchant_identities WHERE merchant_id = ?1').bind(merchantId),
      ...claimed.map((key) => db.prepare('INSERT INTO merchant_identities (identity, merchant_id) VALUES (?2, ?1)').bind(merchantId, key)),
    ]
  }
  const stillAtVersion = 'EXISTS (SELECT 1 FROM merchants WHERE id = ?1 AND version = ?2)'
  return [
    db.prepare(`DELETE FROM merchant_identities WHERE merchant_id = ?1 AND ${stillAtVersion}`).bind(merchantId, atVersion),
    ...claimed.map((key) =>
      db
        .prepare(`INSERT INTO merchant_identities (identity, merchant_id) SELECT ?3, ?1 WHERE ${stillAtVersion}`)
        .bind(merchantId, atVersion, key),
    ),
  ]
}

/** Merchants indexed per D1 batch. */
const INDEX_PAGE = 100

/** How often a merchant left out of a pass (it changed meanwhile) is read again. */
const INDEX_RETRIES = 3

/**
 * Claims for merchants saved before identities were kept (their stored config has every public field): indexed on
 * the next save of any merchant, all of them before its check, first come first served. A claim overlapping one
 * another merchant took first is left out and logged (`merchant.identity_shared`): both were saved before the rule,
 * and still take its notifications; the next save of the one logged is refused with 409 naming the other.
 */
export async function indexUnclaimedMerchants(db: D1Database, registry: ProviderRegistry): Promise<void> {
  // A pass may leave a merchant out that changed meanwhile (a reseal, its endpoint disabled): it is read again, up to
  // INDEX_RETRIES times each (one rewritten on every pass is indexed by a later save); the others go on regardless.
  const leftOutTimes = new Map<string, number>()
  for (;;) {
    const givenUp = [...leftOutTimes].filter(([, times]) => times > INDEX_RETRIES).map(([id]) => id)
    const { results } = await db
      .prepare(
        `SELECT id, config, version FROM merchants
         WHERE id NOT IN (SELECT merchant_id FROM merchant_identities) AND id NOT IN (SELECT value FROM json_each(?2))
         LIMIT ?1`,
      )
      .bind(INDEX_PAGE, JSON.stringify(givenUp))
      .all<{ id: string; config: string; version: number }>()
    if (results.length === 0) return
    const claims = results.flatMap((row) =>
      [indexedMark(row.id), ...storedKeys(row.config, registry)].map((key) => ({ id: row.id, version: row.version, key })),
    )
    // OR IGNORE: another save indexing the same merchant at once already inserted it. The version guard: a save of
    // the merchant since the read above wrote its own claims, which the old config's must not join.
    const inserted = await db.batch(
      claims.map(({ id, version, key }) => {
        const { where, params } = overlapOf(key, 4)
        return db
          .prepare(
            `INSERT OR IGNORE INTO merchant_identities (identity, merchant_id) SELECT ?1, ?2
             WHERE EXISTS (SELECT 1 FROM merchants WHERE id = ?2 AND version = ?3)
               AND NOT EXISTS (SELECT 1 FROM merchant_identities WHERE merchant_id != ?2 AND ${where}) RETURNING identity`,
          )
          .bind(key, id, version, ...params)
      }),
    )
    const leftOut = claims.filter((_, i) => inserted[i]?.results.length === 0)
    // A merchant whose mark this pass did not insert changed meanwhile (its claims are old) or was indexed by another
    // save at once (which logs it). For the others, inserted with their mark in one transaction, a claim left out is
    // one another merchant's overlapping claim keeps out.
    const markLeftOut = new Set(leftOut.filter(({ id, key }) => key === indexedMark(id)).map(({ id }) => id))
    for (const { id, key } of leftOut.filter(({ id }) => !markLeftOut.has(id))) {
      const { provider, parts } = decodeIdentity(key)
      log('warn', { event: 'merchant.identity_shared', merchant_id: id, provider, identity: parts.join(' / ') })
    }
    for (const id of markLeftOut) leftOutTimes.set(id, (leftOutTimes.get(id) ?? 0) + 1)
  }
}

/** A stored row's keys; none for a row that no longer parses (it is marked indexed, and never blocks a save). */
function storedKeys(config: string, registry: ProviderRegistry): string[] {
  try {
    return identityKeysOf(JSON.parse(config) as Omit<MerchantConfig, 'id'>, registry)
  } catch {
    return []
  }
}
