/**
 * @module The CLI's client of the admin API, typed by the OpenAPI document: `openapi-types.ts` is generated from
 * docs/openapi.json by `npm run openapi` (and a test fails when it is stale), openapi-fetch makes the calls.
 */
import createClient from 'openapi-fetch'
import type { CliConfig } from './config.ts'
import type { components, paths } from './openapi-types.ts'

export type Schemas = components['schemas']

export type AdminClient = ReturnType<typeof createAdminClient>

export function createAdminClient(config: CliConfig) {
  return createClient<paths>({ baseUrl: config.url, headers: { authorization: `Bearer ${config.token}` } })
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
