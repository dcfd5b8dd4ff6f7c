/**
 * @module Which kind of gateway this is: `ENVIRONMENT = "development"` (wrangler.toml's default `[vars]`, for `npm run
 * dev` and the tests) relaxes the rules a deployed gateway keeps: loopback URLs, short admin tokens.
 */
export function isDevelopment(env: Pick<Env, 'ENVIRONMENT'>): boolean {
  return env.ENVIRONMENT === 'development'
}
