/** @module The D1 projection: its records, the queue hand-off, and the consumer's write into a shard. */
export { applyToShard } from './apply'
export { enqueueProjection } from './queue'
export * from './records'
