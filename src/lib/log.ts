/**
 * @module Structured logs: one JSON object per line, so Workers Logs (`[observability]`) indexes every field. Callers
 * pass ids, codes and outcomes only: never a secret, a key, a full signature, a body or a decrypted resource.
 * `LOG_LEVEL` sets the least severe level written (docs/operations.md#logs).
 */
import { env } from 'cloudflare:workers'

export type LogLevel = 'info' | 'warn' | 'error'

const SEVERITY: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 }

/**
 * The least severe level written, from `LOG_LEVEL`: `warn` drops the per-notification and per-delivery info lines,
 * `error` keeps errors only. Unset or unknown is `info`: a typo never hides a line.
 */
export function lowestLevel(configured: string | undefined): LogLevel {
  const level = configured?.trim().toLowerCase()
  return level === 'warn' || level === 'error' ? level : 'info'
}

/** The contract's fields first; any other field is a short scalar (a status code, a count, a duration). */
export interface LogFields {
  /** What happened, dot-separated: `notification`, `delivery.attempt`, `endpoint.disabled`, … */
  event: string
  merchant_id?: string | null
  channel?: string
  out_trade_no?: string | null
  notification_id?: string | null
  delivery_id?: string
  outcome?: string
  reason?: string | null
  [field: string]: string | number | boolean | null | undefined
}

export function log(level: LogLevel, fields: LogFields): void {
  if (SEVERITY[level] < SEVERITY[lowestLevel(env.LOG_LEVEL)]) return
  write(level, fields)
}

function write(level: LogLevel, fields: LogFields): void {
  const line = JSON.stringify({ level, ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

/**
 * An error as a log field: its name and the start of its message. Only for errors of our own code and the
 * platform's (D1, RPC); a message that could quote a request is logged by name alone (`errorName`).
 */
export function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return typeof error
  return `${error.name}: ${error.message.slice(0, 200)}`
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

/** The bench's meters (rows and transactions written): logged only when the Worker runs with `METER = "on"`, whatever `LOG_LEVEL` says. */
export function meter(config: { METER?: string }, fields: LogFields): void {
  if (config.METER === 'on') write('info', fields)
}
