/** @module Prefixed random identifiers (`evt_…`, `dlv_…`, `ntf_…`, `ntf_rej_…`), as Stripe and Svix name things. */

/** `ntf_rej`: a notification refused before it reached an object. */
export type IdPrefix = 'evt' | 'dlv' | 'ntf' | 'ntf_rej'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`
}

export function isoNow(ms: number): string {
  return new Date(ms).toISOString()
}
