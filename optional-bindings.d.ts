/**
 * Optional secrets and vars. `wrangler types` (worker-configuration.d.ts) lists the required secrets only, so the
 * ones the gateway reads when they are set are declared here, optional, for both `Env` and `cloudflare:workers`.
 */
interface OptionalBindings {
  /** The admin token being rotated out: accepted beside ADMIN_TOKEN while set. */
  ADMIN_TOKEN_PREVIOUS?: string
  /** The master key being rotated out: opens values sealed under it until `npm run admin -- reseal`. */
  MASTER_KEY_PREVIOUS?: string
  /** Where operational webhooks go (`delivery.exhausted`, `endpoint.disabled`, …); none are sent without it. */
  OPS_WEBHOOK_URL?: string
  /** The Standard Webhooks secret (`whsec_…`) operational webhooks are signed with. */
  OPS_WEBHOOK_SECRET?: string
  /** `on`: log the rows and transactions each storage step wrote (`meter.*` lines, read by `npm run bench`). */
  METER?: string
}

interface Env extends OptionalBindings {}

declare namespace Cloudflare {
  interface Env extends OptionalBindings {}
}
