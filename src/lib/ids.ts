/** @module Prefixed random identifiers (`evt_…`, `dlv_…`, `ntf_…`), as Stripe and Svix name things. */

export type IdPrefix = 'evt' | 'dlv' | 'ntf'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`
}

export function isoNow(ms: number): string {
  return new Date(ms).toISOString()
}
