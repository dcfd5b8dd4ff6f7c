/**
 * @module The retention walk: once after upgrading, each order and subject object D1 knows of for a merchant is asked
 * to set its retention date, which objects stored by an earlier version never set (`OrderObject.scheduleRetention`).
 */
import { errorSummary, log } from '../lib/log'
import { shardFor } from '../storage/shards'
import {
  STORED_OBJECT_KINDS,
  storedObjectsAfter,
  type StoredObjectKey,
  type StoredObjectKind,
  type StoredObjectRow,
} from '../storage/stored-objects'
import { callStoredObjects, requireMerchant } from './admin-common'
import { cursorText, isTextPair, walkPosition, type CursorScope } from './list-params'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { MAX_RETENTION_OBJECTS } from './routes-operations'

/** Where the walk stands: the orders first, then the subjects, each after the key of the last object taken. */
interface RetentionPosition {
  walk: StoredObjectKind
  after: StoredObjectKey | null
}

const START: RetentionPosition = { walk: 'orders', after: null }

function isRetentionPosition(value: unknown): value is RetentionPosition {
  const { walk, after } = (typeof value === 'object' && value !== null ? value : {}) as { walk?: unknown; after?: unknown }
  return STORED_OBJECT_KINDS.includes(walk as StoredObjectKind) && (after === null || isTextPair(after))
}

const keyOf = (row: StoredObjectRow): StoredObjectKey => [row.provider, row.out_trade_no ?? row.subject_key ?? '']

/** Up to `limit` objects from `from` on (orders, then subjects), and where the next page starts (null: none left). */
async function retentionPage(db: D1Database, merchantId: string, from: RetentionPosition, limit: number) {
  const taken: StoredObjectRow[] = []
  let { walk, after } = from
  for (;;) {
    const want = limit - taken.length
    const found = await storedObjectsAfter(db, walk, merchantId, after, want + 1)
    taken.push(...found.slice(0, want))
    if (found.length > want) return { taken, next: { walk, after: keyOf(taken.at(-1)!) } }
    if (walk === 'subjects') return { taken, next: null }
    walk = 'subjects'
    after = null
    if (taken.length === limit) return { taken, next: { walk, after } }
  }
}

export const scheduleRetention: Handler<AdminRoutes['scheduleRetention']> = async ({ params, body, env }) => {
  const { merchantId } = params
  await requireMerchant(env, merchantId)
  const scope: CursorScope = { list: 'retention', merchantId }
  const from = walkPosition(body.cursor, scope, isRetentionPosition) ?? START
  const { taken, next } = await retentionPage(await shardFor(env, merchantId), merchantId, from, body.limit ?? MAX_RETENTION_OBJECTS)
  let firstError: unknown = null
  // One object that cannot be reached does not stop the walk: it is counted, and a later walk asks it again.
  const outcomes = await callStoredObjects(env, merchantId, taken, (object) =>
    object.scheduleRetention().then(
      (set) => (set ? 'scheduled' : 'unchanged'),
      (error: unknown) => {
        firstError ??= error
        return 'failed'
      },
    ),
  )
  const scheduled = outcomes.filter((o) => o === 'scheduled').length
  const failed = outcomes.filter((o) => o === 'failed').length
  log(failed === 0 ? 'info' : 'warn', {
    event: 'retention.scheduled',
    merchant_id: merchantId,
    outcome: failed === 0 ? 'done' : 'partial',
    checked: taken.length,
    scheduled,
    failed,
    ...(failed === 0 ? {} : { error: errorSummary(firstError) }),
  })
  return json({ checked: taken.length, scheduled, failed, next_cursor: next === null ? null : cursorText(scope, next) })
}
