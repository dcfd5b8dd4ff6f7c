/**
 * Optional vars that wrangler.toml does not declare, so `wrangler types` (worker-configuration.d.ts) cannot list them:
 * declared here, optional, for both `Env` and `cloudflare:workers`. (The optional secrets, ADMIN_TOKEN_PREVIOUS,
 * MASTER_KEY_PREVIOUS, OPS_WEBHOOK_URL and OPS_WEBHOOK_SECRET, are listed in wrangler.toml and generated there.)
 */
interface OptionalBindings {
  /** `on`: log the rows and transactions each storage step wrote (`meter.*` lines, read by `npm run bench`). */
  METER?: string
}

interface Env extends OptionalBindings {}

declare namespace Cloudflare {
  interface Env extends OptionalBindings {}
}
