/**
 * @module Routes, built from the gateway's providers: one notify route per channel (and its 405), the admin API
 * under /admin served from its route specs (each request validated by its spec's schemas), the dashboard's files
 * under /dashboard, and every domain error mapped to its reply here, once.
 */
import { Router, type IRequestStrict } from 'itty-router'
import { errorName, log } from '../lib/log'
import { ValidationError, validate } from '../lib/validation'
import { IdentityConflict } from '../merchants/identities'
import { Misconfigured } from '../lib/misconfigured'
import { MerchantChanged } from '../merchants/store'
import type { ChannelAdapter, ProviderRegistry } from '../providers'
import { adminChange, type AdminTokenUsed } from './admin-audit'
import { requireAdmin } from './admin-auth'
import { adminHandlers } from './admin-handlers'
import { serveDashboard } from './dashboard'
import { handleNotify } from './notify'
import { AdminError, adminErrorResponse, json, readJsonBody } from './responses'
import { bodyOptional, routerPath, type Handler, type RouteSpec } from './route-spec'
import { adminRoutes, type OperationId } from './routes'

type RouteArgs = [Env, ExecutionContext]
/** `signedInWith`: set by the admin check, for the audit line of a change. */
type RouteRequest = IRequestStrict & { params: Record<string, string>; signedInWith?: AdminTokenUsed }

function toErrorResponse(error: unknown): Response {
  if (error instanceof AdminError) return adminErrorResponse(error)
  if (error instanceof ValidationError) return adminErrorResponse(new AdminError('invalid_request', error.message))
  if (error instanceof IdentityConflict) return adminErrorResponse(new AdminError('conflict', error.message))
  if (error instanceof MerchantChanged) return adminErrorResponse(new AdminError('conflict', error.message))
  if (error instanceof Misconfigured) {
    // The gateway's setup, not the request: still a 500, but one that says what to change.
    log('error', error.logFields)
    return adminErrorResponse(new AdminError('internal', error.message))
  }
  log('error', { event: 'admin.unhandled_error', error: errorName(error) })
  return json({ error: { code: 'internal', message: 'internal error' } }, 500)
}

function methodNotAllowed(): never {
  throw new AdminError('method_not_allowed', 'provider callbacks are POST requests')
}

const notifyPath = (adapter: ChannelAdapter): string => `/notify/:merchantId/${adapter.path}`

/**
 * A path value, percent-decoded exactly once (itty-router hands them over raw): `/orders/A%7C1` names
 * the order `A|1`, as a notification for `A|1` does.
 */
function param(request: RouteRequest, name: string): string {
  const decoded = decodeOnce(request.params[name] ?? '')
  if (decoded === null) throw new AdminError('invalid_request', `${name}: not a valid percent-encoded path segment`)
  return decoded
}

function decodeOnce(raw: string): string | null {
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

/** The query parameters a spec names (the first value of each), others ignored. */
function queryOf(request: Request, spec: RouteSpec): Record<string, string | undefined> {
  const params = new URL(request.url).searchParams
  return Object.fromEntries(Object.keys(spec.query?.shape ?? {}).map((name) => [name, params.get(name) ?? undefined]))
}

/** Validates a request against its spec, then hands the parsed parts to the handler. */
function serve(spec: RouteSpec, handler: Handler<RouteSpec>, registry: ProviderRegistry) {
  const emptyIsObject = bodyOptional(spec)
  return async (request: RouteRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
    const rawParams = Object.fromEntries(Object.keys(spec.params?.shape ?? {}).map((name) => [name, param(request, name)]))
    const params = spec.params ? validate(spec.params, rawParams, 'path') : {}
    const query = spec.query ? validate(spec.query, queryOf(request, spec), 'query') : {}
    const rawBody = spec.body ? await readJsonBody(request, emptyIsObject) : undefined
    const body = spec.body ? validate(spec.body, rawBody) : {}
    const response = await handler({ params, query, body, rawBody, request, env, ctx, registry } as Parameters<Handler<RouteSpec>>[0])
    // At warn: kept where LOG_LEVEL drops the info lines of every notification (changes are few).
    if (spec.method !== 'get' && response.ok) log('warn', adminChange(spec, params, rawBody, request.signedInWith ?? 'current'))
    return response
  }
}

export function buildRouter(registry: ProviderRegistry) {
  const router = Router<RouteRequest, RouteArgs>({ catch: toErrorResponse })
  for (const adapter of registry.channels) {
    // Percent-decoded once, as in the admin paths (contract): /notify/de%6Do/… is demo's. Undecodable: unknown.
    router.post(notifyPath(adapter), (request, env, ctx) =>
      handleNotify(adapter, decodeOnce(request.params.merchantId ?? '') ?? '', request, env, ctx, registry),
    )
  }
  const specs = Object.entries(adminRoutes(registry)) as [OperationId, RouteSpec][]
  const handlers = adminHandlers as Record<OperationId, Handler<RouteSpec>>
  // The OpenAPI document needs no token; everything else under /admin does.
  for (const [id, spec] of specs.filter(([, spec]) => spec.auth === false)) {
    router[spec.method](routerPath(spec.path), serve(spec, handlers[id], registry))
  }
  router.all('/admin/*', async (request, env) => {
    request.signedInWith = await requireAdmin(request, env)
  })
  for (const [id, spec] of specs.filter(([, spec]) => spec.auth !== false)) {
    router[spec.method](routerPath(spec.path), serve(spec, handlers[id], registry))
  }
  for (const adapter of registry.channels) router.all(notifyPath(adapter), methodNotAllowed)
  router.get('/dashboard', serveDashboard).get('/dashboard/*', serveDashboard)
  return router.all('*', () => {
    throw new AdminError('not_found', 'no such endpoint')
  })
}
