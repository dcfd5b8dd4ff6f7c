/**
 * @module `npm run admin -- reseal`: every merchant's stored secrets sealed again under the current MASTER_KEY, page
 * by page, each row by compare-and-set. Rows already under the current key are left as they are, so it can be run
 * again safely. Order objects keep sealed copies of the forward secret; each seals its copy again the next time it
 * runs, since a resealed row has a newer version.
 */
import { listMerchantRows } from '../storage/admin-queries'
import { masterKeyring } from './master-keys'
import { resealMerchant, type StoredMerchant } from './sealing'
import { readStoredMerchant, writeStoredMerchant } from './store'

export interface ResealPage {
  resealed: number
  unchanged: number
  /** The `created_at` and `id` of the page's last merchant, to continue after; null at the end. */
  next: [createdAt: string, id: string] | null
}

/** Tries a row this many times when a concurrent save wins the compare-and-set. */
const ATTEMPTS = 3

async function resealOne(env: Env, id: string, first: { stored: StoredMerchant; version: number }, now: number): Promise<boolean> {
  const keys = masterKeyring(env)
  let row: { stored: StoredMerchant; version: number } | null = first
  for (let attempt = 0; attempt < ATTEMPTS && row !== null; attempt++) {
    const resealed = await resealMerchant(keys, id, row.stored)
    if (resealed === null) return false
    if ((await writeStoredMerchant(env, id, resealed, row.version, now)) !== null) return true
    row = await readStoredMerchant(env, id)
  }
  if (row === null) return false
  throw new Error(`merchant ${id}: not resealed, it kept changing`)
}

export async function resealMerchants(
  env: Env,
  options: { after: [string, string] | null; limit: number; now?: number },
): Promise<ResealPage> {
  const now = options.now ?? Date.now()
  const rows = await listMerchantRows(env.DB, { after: options.after, limit: options.limit + 1 })
  const shown = rows.slice(0, options.limit)
  let resealed = 0
  for (const row of shown) {
    if (await resealOne(env, row.id, { stored: JSON.parse(row.config) as StoredMerchant, version: row.version }, now)) resealed += 1
  }
  const last = shown[shown.length - 1]
  return { resealed, unchanged: shown.length - resealed, next: rows.length > options.limit && last ? [last.created_at, last.id] : null }
}
