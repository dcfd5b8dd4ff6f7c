/** @module Test helper for the projection queue: a batch of records through the real Worker's queue handler. */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../src/index'
import type { ProjectionRecord } from '../../src/storage/projection'

/** Delivers `records` as one batch of the projection queue (fresh message ids) and returns what the handler acked. */
export async function consumeProjection(records: ProjectionRecord[], overrides: Partial<Env> = {}) {
  const batch = createMessageBatch<ProjectionRecord>(
    'paygate-projection',
    records.map((body, i) => ({ id: `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  )
  const ctx = createExecutionContext()
  await worker.queue!(batch as MessageBatch, { ...env, ...overrides }, ctx)
  return getQueueResult(batch, ctx)
}
