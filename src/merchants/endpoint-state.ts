/**
 * @module Whether a merchant's forward endpoint is enabled: disabled by an operator, on a 410 Gone reply, or by the
 * circuit breaker; enabled again by an operator (or a PUT of the whole merchant). Stored in the merchant's row
 * (`forward.disabledAt`, `forward.disabledReason`), so every order object learns it with the merchant's version.
 */
import { errorSummary, log } from '../lib/log'
import { readStoredMerchant, ReplicaBehind, writeStoredMerchant } from './store'
import type { EndpointDisabledReason, ForwardConfig } from './types'

export interface EndpointChange {
  /** True when this call changed the state (false: it already was so, or the merchant is gone). */
  changed: boolean
  /** The forward settings after the call (secrets still sealed: only `url` and the state are meant to be read). */
  forward: ForwardConfig | null
}

/** How many times a compare-and-set lost to a concurrent save is tried again. */
const ATTEMPTS = 3

/** Runs before a change is written, each time: what must hold for the version about to be saved. */
type BeforeWrite = () => Promise<void>

async function change(
  env: Env,
  id: string,
  now: number,
  next: (forward: ForwardConfig) => ForwardConfig | null,
  beforeWrite?: BeforeWrite,
): Promise<EndpointChange> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const row = await readStoredMerchant(env, id)
    if (row === null) return { changed: false, forward: null }
    const forward = next(row.stored.forward)
    if (forward === null) return { changed: false, forward: row.stored.forward }
    if (beforeWrite !== undefined) await beforeWrite()
    let version: number | null
    try {
      version = await writeStoredMerchant(env, id, { ...row.stored, forward }, row.version, now)
    } catch (error) {
      if (!(error instanceof ReplicaBehind)) throw error
      // The change is stored: told as made (its notice must not be lost); the replica catches up at the next save.
      log('warn', { event: 'merchant.replica_behind', merchant_id: id, error: errorSummary(error.cause) })
      return { changed: true, forward }
    }
    if (version !== null) return { changed: true, forward }
  }
  throw new Error(`merchant ${id}: endpoint state not saved, the merchant kept changing`)
}

/**
 * Disables the endpoint. With `url`, only while that URL is still the configured one (a 410 or a breaker trip
 * about an endpoint the merchant has since replaced changes nothing).
 */
export function disableEndpoint(
  env: Env,
  id: string,
  options: { reason: EndpointDisabledReason; at: number; url?: string },
): Promise<EndpointChange> {
  return change(env, id, options.at, (forward) => {
    if (forward.disabledAt !== undefined) return null
    if (options.url !== undefined && forward.url !== options.url) return null
    return { ...forward, disabledAt: new Date(options.at).toISOString(), disabledReason: options.reason }
  })
}

/**
 * Enables the endpoint; events that failed meanwhile stay failed until recovered. `beforeWrite` runs once the endpoint
 * is read disabled, before each attempt to save it enabled (a disable landing in between makes it run again).
 */
export function enableEndpoint(env: Env, id: string, at: number, beforeWrite?: BeforeWrite): Promise<EndpointChange> {
  return change(
    env,
    id,
    at,
    (forward) => {
      if (forward.disabledAt === undefined) return null
      const { disabledAt: _at, disabledReason: _reason, ...enabled } = forward
      return enabled
    },
    beforeWrite,
  )
}
