/**
 * @module When an order object asks the provider about a registered order whose payment has not
 * been notified, or a registered refund not settled yet: first after 2 minutes, then backing off
 * (5, 15, 30 min, then hourly) until it expires. Pure and table-driven.
 */

/** Minutes after registration (or after the previous query) for each successive query. */
export const RECONCILE_SCHEDULE_MINUTES = [2, 5, 15, 30, 60] as const

/** Orders that say nothing about their expiry are watched for a day, like the providers' own retries. */
export const DEFAULT_ORDER_LIFETIME_MS = 24 * 3600 * 1000

/**
 * Registered refunds are watched for a week, on the same schedule: WeChat settles a refund to a bank
 * card within a few working days, balances within minutes.
 */
export const REFUND_LIFETIME_MS = 7 * 24 * 3600 * 1000

/**
 * A payment notification kept for confirmation by query (`confirmPaymentsByQuery`) whose queries keep failing is asked
 * about for a week after it arrived, as a refund is: the provider stopped retrying once it was accepted.
 */
export const UNCONFIRMED_WATCH_MS = REFUND_LIFETIME_MS

const MINUTE_MS = 60_000

/**
 * When the next query is due after `queriesMade` queries that found the order unpaid (or failed),
 * or null when that would be past the order's expiry. A last query at expiry catches a payment made
 * in the final minutes.
 */
export function nextQueryAt(queriesMade: number, lastAt: number, expiresAt: number): number | null {
  if (lastAt >= expiresAt) return null
  const index = Math.min(queriesMade, RECONCILE_SCHEDULE_MINUTES.length - 1)
  const due = lastAt + RECONCILE_SCHEDULE_MINUTES[index]! * MINUTE_MS
  return Math.min(due, expiresAt)
}
