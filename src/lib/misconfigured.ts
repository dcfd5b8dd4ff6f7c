/**
 * @module An error that comes from how the gateway is set up, not from the request (a master key removed before the
 * reseal, a shard no longer listed). The admin edge answers it with a 500 whose message says what to change, and logs
 * its line at `error`: ids and names only, never a secret.
 */
import type { LogFields } from './log'

export abstract class Misconfigured extends Error {
  /** The line the edge logs for it (its `event` documented in docs/operations.md). */
  abstract readonly logFields: LogFields
}
