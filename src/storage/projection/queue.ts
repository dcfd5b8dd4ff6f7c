/** @module Handing projection records to the projection queue (`PROJECTION`); the consumer writes them to D1. */
import { meter } from '../../lib/log'
import type { ProjectionRecord } from './records'

/** Throws when the queue does not take them; the caller keeps what it needs to send them again. */
export async function enqueueProjection(env: Env, records: readonly ProjectionRecord[]): Promise<void> {
  if (records.length === 0) return
  if (records.length === 1) await env.PROJECTION.send(records[0]!, { contentType: 'json' })
  else await env.PROJECTION.sendBatch(records.map((body) => ({ body, contentType: 'json' as const })))
  const kinds: Record<ProjectionRecord['kind'], number> = { object: 0, refusal: 0, duplicate: 0 }
  for (const record of records) kinds[record.kind] += 1
  meter(env, { event: 'meter.queue', messages: records.length, ...kinds })
}
