/**
 * @module The projection queue's consumer: each batch is grouped by the merchants' shards and written as one D1
 * transaction per shard (`applyToShard`). A shard that fails retries only its own messages, with backoff; after the
 * queue's max_retries they go to the dead-letter queue, whose consumer parks them (`ProjectionDeadLetters`) for
 * `POST /admin/projection/redrive`. Successful deliveries in the batch tell each merchant's monitor once (the
 * endpoint's health), instead of every order object telling it after every delivery.
 */
import { errorSummary, log, meter } from '../lib/log'
import { applyToShard, type ProjectionRecord } from '../storage/projection'
import { groupByShard, shardDatabase } from '../storage/shards'
import { reportDeliveryRun } from './monitor'

/** The queues of wrangler.toml's `[[queues.consumers]]`. */
export const PROJECTION_QUEUE = 'paygate-projection'
export const DEAD_LETTER_QUEUE = 'paygate-projection-dead'

/** Seconds before a failed message is tried again: 10 s, doubling, at most 5 minutes. */
function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, attempts - 1))
}

export async function consumeProjection(batch: MessageBatch<ProjectionRecord>, env: Env): Promise<void> {
  let byShard: Map<string, Message<ProjectionRecord>[]>
  try {
    const grouped = await groupByShard(env, batch.messages, (m) => m.body.merchantId)
    byShard = grouped.groups
    if (grouped.unlisted.length > 0) {
      // Their merchants' shard was taken out of D1_SHARDS: they wait (then the dead-letter queue) until it is back.
      const merchants = [...new Set(grouped.unlisted.map((m) => m.body.merchantId))]
      log('warn', {
        event: 'projection.deferred',
        reason: 'shard not in D1_SHARDS',
        records: grouped.unlisted.length,
        merchant_ids: merchants.join(','),
      })
      for (const message of grouped.unlisted) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) })
    }
  } catch (error) {
    log('warn', { event: 'projection.deferred', reason: 'shard map unreadable', error: errorSummary(error) })
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) })
    return
  }
  for (const [shard, messages] of byShard) {
    try {
      const written = await applyToShard(
        shardDatabase(env, shard),
        messages.map((m) => m.body),
      )
      for (const message of messages) message.ack()
      meter(env, {
        event: 'meter.d1',
        shard,
        transactions: written.transactions,
        rows_written: written.rowsWritten,
        records: messages.length,
      })
      for (const [merchantId, success] of written.successes) {
        await reportDeliveryRun(env, {
          merchantId,
          url: success.url,
          attempts: [{ at: success.at, ok: true }],
          goneUrl: null,
          exhausted: [],
        })
      }
    } catch (error) {
      log('warn', { event: 'projection.deferred', shard, records: messages.length, error: errorSummary(error) })
      for (const message of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) })
    }
  }
}
