/**
 * @module Why an attempt got no HTTP answer, as the attempt log and the admin API say it. Constants alone, so the
 * console's bundle takes the list (its words for each, dashboard/src/words.ts) without the code that sends.
 */
export const ATTEMPT_ERRORS = [
  'timeout',
  'network error',
  'redirect not followed',
  'dns lookup failed',
  'resolves to a refused address',
] as const
export type AttemptError = (typeof ATTEMPT_ERRORS)[number]
