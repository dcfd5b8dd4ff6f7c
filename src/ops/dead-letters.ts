/**
 * @module Projection records that ran out of retries (D1 down for longer than the queue retries), parked in one
 * Durable Object's SQLite (no D1 needed) until an operator re-drives them: `POST /admin/projection/redrive` puts them
 * back on the projection queue, oldest first, and forgets only those the queue took. Re-drives run one at a time, so
 * two at once send each record once: an object's state is version-guarded in D1, but a duplicate's count is added
 * each time it arrives.
 */
import { DurableObject } from 'cloudflare:workers'
import { log } from '../lib/log'
import { enqueueProjection, type ProjectionRecord } from '../storage/projection'

const CREATE = `CREATE TABLE IF NOT EXISTS parked (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  body       TEXT NOT NULL,
  parked_at  INTEGER NOT NULL
)`

/** Parked records read at a time by a re-drive: one `sendBatch`'s worth at most. */
const REDRIVE_PAGE = 100

export interface RedriveResult {
  redriven: number
  remaining: number
}

/** How much is parked, and since when (epoch ms), without sending anything. */
export interface ParkedStatus {
  parked: number
  oldestParkedAt: number | null
}

export class ProjectionDeadLetters extends DurableObject<Env> {
  /** The re-drive running now: the next waits for it, then reads only what it left parked. */
  private redriving: Promise<unknown> = Promise.resolve()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(CREATE)
  }

  park(records: ProjectionRecord[], at: number): number {
    this.ctx.storage.transactionSync(() => {
      for (const record of records)
        this.ctx.storage.sql.exec('INSERT INTO parked (body, parked_at) VALUES (?, ?)', JSON.stringify(record), at)
    })
    log('warn', { event: 'projection.dead_lettered', records: records.length })
    return this.count()
  }

  count(): number {
    return this.status().parked
  }

  /**
   * Rows are added at the end and taken from the front only, so they are one run of `seq`s: counted from its two
   * ends, in two index lookups however much is parked (a long D1 outage is when it fills, and each park asks).
   */
  status(): ParkedStatus {
    const row = this.ctx.storage.sql
      .exec<{ n: number | null; oldest: number | null }>(
        `SELECT (SELECT max(seq) FROM parked) - (SELECT min(seq) FROM parked) + 1 AS n,
                (SELECT parked_at FROM parked ORDER BY seq LIMIT 1) AS oldest`,
      )
      .one()
    return { parked: row.n ?? 0, oldestParkedAt: row.oldest }
  }

  /**
   * Sends up to `limit` parked records back to the projection queue, oldest first, a page at a time: a record may be
   * close to a queue message's 128 KB, so a re-drive of a thousand must not read them all at once.
   */
  redrive(limit: number): Promise<RedriveResult> {
    // Its rows are deleted only after the queue took them, and the object takes other calls while the send is out.
    const run = this.redriving.then(() => this.redriveNow(limit))
    this.redriving = run.catch(() => undefined)
    return run
  }

  private async redriveNow(limit: number): Promise<RedriveResult> {
    let redriven = 0
    while (redriven < limit) {
      const rows = this.ctx.storage.sql
        .exec<{ seq: number; body: string }>('SELECT seq, body FROM parked ORDER BY seq LIMIT ?', Math.min(REDRIVE_PAGE, limit - redriven))
        .toArray()
      if (rows.length === 0) break
      for (const chunk of sendableChunks(rows)) {
        await enqueueProjection(
          this.env,
          chunk.map((row) => JSON.parse(row.body) as ProjectionRecord),
        )
        this.ctx.storage.sql.exec('DELETE FROM parked WHERE seq <= ?', chunk.at(-1)!.seq)
      }
      redriven += rows.length
    }
    return { redriven, remaining: this.count() }
  }
}

/** One `sendBatch` takes at most 100 messages and 256 KB: chunks that stay under both, in order. */
function sendableChunks<T extends { body: string }>(rows: readonly T[]): T[][] {
  const chunks: T[][] = []
  let chunk: T[] = []
  let bytes = 0
  for (const row of rows) {
    const size = new TextEncoder().encode(row.body).length + 100
    if (chunk.length > 0 && (chunk.length === 100 || bytes + size > 240_000)) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(row)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}

export function deadLetterStub(env: Env): DurableObjectStub<ProjectionDeadLetters> {
  return env.DEAD_LETTERS.getByName('projection') as DurableObjectStub<ProjectionDeadLetters>
}

export async function parkDeadLetters(batch: MessageBatch<ProjectionRecord>, env: Env): Promise<void> {
  await deadLetterStub(env).park(
    batch.messages.map((m) => m.body),
    Date.now(),
  )
  batch.ackAll()
}
