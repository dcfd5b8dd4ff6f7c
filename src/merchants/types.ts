/** @module A merchant's configuration as the gateway uses it: secrets opened, keys normalized. */
import type { DefaultProviders, ProviderSections } from '../providers'

export interface ForwardConfig {
  url: string
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string
  /** The secret being rotated out; while set, events carry a signature for each. */
  previousSecret?: string
  /**
   * Set while the endpoint is disabled (ISO-8601): nothing is sent there until it is enabled again
   * (`…/endpoint/enable`, or the merchant saved again with PUT).
   */
  disabledAt?: string
  /** Why: it answered 410 Gone, every attempt failed for 5 days (circuit breaker), or an operator disabled it. */
  disabledReason?: EndpointDisabledReason
}

export type EndpointDisabledReason = 'gone' | 'failing' | 'manual'

/** What every merchant has, whichever providers it uses. */
export type MerchantBase = {
  id: string
  forward: ForwardConfig
  /**
   * The merchant registers every order's amount before the buyer pays: a payment notification for an
   * order it never registered is then doubtful, and is confirmed by an order query before it counts.
   */
  requireRegisteredOrders?: boolean
  /**
   * Every payment notification is confirmed by an order query before it is forwarded (the provider's
   * signed answer pays the order). Takes effect only for providers whose query keys the merchant has.
   */
  confirmPaymentsByQuery?: boolean
  /**
   * Rejected notifications keep their raw body (signatures cut short; bounded in size and age) so an
   * operator can see why one failed: `GET …/notifications/{id}`.
   */
  keepRejectedBodies?: boolean
}

/**
 * A merchant: the common part and one section per provider it uses, keyed by the provider's name.
 * Typed for the default providers; a gateway built with more keeps their sections the same way.
 */
export type MerchantConfig = MerchantBase & ProviderSections<DefaultProviders>
