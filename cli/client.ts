/**
 * @module The CLI's client of the admin API, typed by the OpenAPI document: `openapi-types.ts` is generated from
 * docs/openapi.json by `npm run openapi` (and a test fails when it is stale), openapi-fetch makes the calls.
 */
import createClient from 'openapi-fetch'
import type { CliConfig } from './config.ts'
import type { components, operations, paths } from './openapi-types.ts'

export type Schemas = components['schemas']

/** An operation's query parameters as the document types them (its enums: statuses, types, providers…). */
export type Query<Operation extends keyof operations> = NonNullable<operations[Operation]['parameters']['query']>

export type AdminClient = ReturnType<typeof createAdminClient>

/** How long one request may take before the CLI gives up on it (the admin API answers in well under a second). */
const REQUEST_TIMEOUT_MS = 30_000

export function createAdminClient(config: CliConfig, timeoutMs = REQUEST_TIMEOUT_MS) {
  return createClient<paths>({
    baseUrl: config.url,
    headers: { authorization: `Bearer ${config.token}` },
    fetch: (request) => adminFetch(request, config.url, timeoutMs),
  })
}

/**
 * No answer from the admin API, the request's outcome told apart by `code`: `unreachable` (nothing was sent),
 * `no_reply` (sent, no reply in time: it may have been carried out), `not_the_gateway` (another server answered).
 */
export abstract class NoAnswer extends Error {
  abstract readonly code: 'unreachable' | 'no_reply' | 'not_the_gateway'
}

/** A reply that is not the admin API's JSON: another server (a proxy's login page, a wrong PAYGATE_URL) answered. */
export class NotTheGateway extends NoAnswer {
  override readonly name = 'NotTheGateway'
  readonly code = 'not_the_gateway'
}

/** The gateway could not be reached: nothing was sent. The message says why. */
export class Unreachable extends NoAnswer {
  override readonly name = 'Unreachable'
  readonly code = 'unreachable'
}

/** The request went out and no reply came in time: it may have been carried out. */
export class NoReply extends NoAnswer {
  override readonly name = 'NoReply'
  readonly code = 'no_reply'
}

async function adminFetch(request: Request, gateway: string, timeoutMs: number): Promise<Response> {
  let response: Response
  try {
    // No redirect is followed: the token would go along to wherever it points.
    response = await fetch(request, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      // Sent, maybe carried out: only what the gateway now shows can say.
      throw new NoReply(
        `no reply from the gateway at ${gateway} within ${timeoutMs / 1000} s: the request may have been carried out; ` +
          'look (a get or a list) before running it again',
      )
    }
    throw new Unreachable(`cannot reach the gateway at ${gateway} (${causeOf(error)}): is it running, and is PAYGATE_URL its origin?`)
  }
  if (response.status >= 300 && response.status < 400) {
    throw new NotTheGateway(
      `${gateway} answered HTTP ${response.status}, a redirect${redirectTarget(response.headers.get('location'), gateway)}: ` +
        "the CLI follows none (the token would go along); set PAYGATE_URL to the gateway's own origin",
    )
  }
  const type = response.headers.get('content-type') ?? ''
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new NotTheGateway(
      `${gateway} answered HTTP ${response.status} with ${type === '' ? 'no content type' : type}, not the admin API's JSON: ` +
        "is PAYGATE_URL the gateway's origin (http(s)://host[:port], without /admin), and is nothing in front of it asking to sign in?",
    )
  }
  return response
}

/** Where a redirect points, as ` to <origin>` (its origin only: a path may hold anything), or nothing. */
function redirectTarget(location: string | null, gateway: string): string {
  try {
    return location === null ? '' : ` to ${new URL(location, gateway).origin}`
  } catch {
    return ''
  }
}

/** A failed fetch's cause in a few words: its code (ECONNREFUSED, ENOTFOUND, a TLS error) and message. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code
  const message = cause?.message ?? (error as Error).message
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}

/** An error reply of the admin API (`{"error": {"code", "message"}}`), or a reply that is not one. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    // Assigned, not parameter properties: Node runs this file by stripping types only.
    this.status = status
    this.code = code
  }
}

interface Reply<Data> {
  data?: Data
  error?: unknown
  response: Response
}

/** The reply's body, or an `ApiError` for any reply that is not a success. */
export async function unwrap<Data>(call: Promise<Reply<Data>>): Promise<Data> {
  const { data, error, response } = await call
  if (response.ok && data !== undefined) return data
  const shaped = error as { error?: { code?: string; message?: string } } | undefined
  throw new ApiError(response.status, shaped?.error?.code ?? 'http_error', shaped?.error?.message ?? `HTTP ${response.status}`)
}
