/**
 * @module The bench's meter lines (`METER = "on"`): what one ingest or one alarm run of an order or subject object
 * wrote. An ingest's rows are measured around its transaction, which nothing interleaves with; an alarm run's are
 * what the instance wrote meanwhile minus the ingests that ran during its awaits.
 */
import { meter } from '../lib/log'
import type { StorageMeter } from '../storage/order'
import type { OrderContext } from './context'

type MeteredObject = 'order' | 'subject'

/** Measures a synchronous write step exactly. */
export function measured<T>(ctx: OrderContext, step: () => T): { result: T; rows: number } {
  const before = ctx.store.written().rows
  const result = step()
  return { result, rows: ctx.store.written().rows - before }
}

export function meterIngest(
  ctx: OrderContext,
  object: MeteredObject,
  fields: { verdict: string; new_order: boolean },
  step: StorageMeter,
): void {
  ctx.store.attribute(step)
  meter(ctx.env, { event: 'meter.object', object, op: 'ingest', ...fields, rows_written: step.rows, alarms_set: step.alarms })
}

export async function meterAlarm(ctx: OrderContext, object: MeteredObject, run: () => Promise<void>): Promise<void> {
  const from = ctx.store.reading()
  await run()
  const step = ctx.store.unattributedSince(from)
  meter(ctx.env, {
    event: 'meter.object',
    object,
    op: 'alarm',
    verdict: null,
    new_order: false,
    rows_written: step.rows,
    alarms_set: step.alarms,
  })
}
