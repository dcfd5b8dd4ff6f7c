/**
 * @module `npm run admin -- reseal`: every merchant's stored secrets sealed again under the current MASTER_KEY, page
 * by page, each row by compare-and-set, then its replica. Rows already under the current key are left as they are
 * (their replica is brought up to them when a save failed there), so it can be run again safely. Order objects keep
 * sealed copies of the forward secret; each seals its copy again the next time it runs, since a resealed row has a
 * newer version.
 */
import { MasterKeyUnknown } from '../crypto/sealed'
import { listMerchantRows } from '../storage/admin-queries'
import { masterKeyring } from './master-keys'
import { merchantReplica } from './merchant-replica'
import { resealMerchant, type StoredMerchant } from './sealing'
import { readStoredMerchant, replicate, writeStoredMerchant } from './store'

export interface ResealPage {
  resealed: number
  unchanged: number
  /** Merchants whose secrets open with neither MASTER_KEY nor MASTER_KEY_PREVIOUS: left as they are, the rest go on. */
  unreadable: string[]
  /** The `created_at` and `id` of the page's last merchant, to continue after; null at the end. */
  next: [createdAt: string, id: string] | null
}

/** Tries a row this many times when a concurrent save wins the compare-and-set. */
const ATTEMPTS = 3

type ResealOutcome = 'resealed' | 'unchanged' | 'unreadable'

async function resealOne(env: Env, id: string, first: { stored: StoredMerchant; version: number }, now: number): Promise<ResealOutcome> {
  const keys = masterKeyring(env)
  let row: { stored: StoredMerchant; version: number } | null = first
  for (let attempt = 0; attempt < ATTEMPTS && row !== null; attempt++) {
    const resealed = await resealMerchant(keys, id, row.stored).catch((error: unknown) => {
      if (error instanceof MasterKeyUnknown) return 'unreadable' as const
      throw error
    })
    if (resealed === 'unreadable') return resealed
    if (resealed === null) return (await catchUpReplica(env, id, row)) ? 'resealed' : 'unchanged'
    if ((await writeStoredMerchant(env, id, resealed, row.version, now)) !== null) return 'resealed'
    row = await readStoredMerchant(env, id)
  }
  if (row === null) return 'unchanged'
  throw new Error(`merchant ${id}: not resealed, it kept changing`)
}

/**
 * A row already under the current key whose replica is older: a save (an earlier reseal's, say) that reached D1 and
 * failed at the replica. The replica answers while D1 is down, so it gets the row too; true when it needed it.
 */
async function catchUpReplica(env: Env, id: string, row: { stored: StoredMerchant; version: number }): Promise<boolean> {
  const replica = merchantReplica(env, id)
  const replicated = await replica.get()
  if (replicated !== null && replicated.version >= row.version) return false
  await replicate(env, id, { config: JSON.stringify(row.stored), version: row.version })
  return true
}

export async function resealMerchants(
  env: Env,
  options: { after: [string, string] | null; limit: number; now?: number },
): Promise<ResealPage> {
  const now = options.now ?? Date.now()
  const rows = await listMerchantRows(env.DB, { after: options.after, limit: options.limit + 1 })
  const shown = rows.slice(0, options.limit)
  const counts = { resealed: 0, unchanged: 0 }
  const unreadable: string[] = []
  for (const row of shown) {
    const outcome = await resealOne(env, row.id, { stored: JSON.parse(row.config) as StoredMerchant, version: row.version }, now)
    if (outcome === 'unreadable') unreadable.push(row.id)
    else counts[outcome] += 1
  }
  const last = shown[shown.length - 1]
  return { ...counts, unreadable, next: rows.length > options.limit && last ? [last.created_at, last.id] : null }
}
