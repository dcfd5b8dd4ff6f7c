/** @module Routes: provider callbacks under /notify, the admin API under /admin, errors mapped once. */
import { Router, type IRequestStrict } from 'itty-router'
import { requireAdmin } from './admin-auth'
import { AdminError, adminErrorResponse, json } from './responses'

type RouteArgs = [Env, ExecutionContext]
type RouteRequest = IRequestStrict & { params: Record<string, string> }

function toErrorResponse(error: unknown): Response {
  if (error instanceof AdminError) return adminErrorResponse(error)
  console.error('unhandled error', error instanceof Error ? error.name : typeof error)
  return json({ error: { code: 'internal', message: 'internal error' } }, 500)
}

export const router = Router<RouteRequest, RouteArgs>({
  catch: toErrorResponse,
})
  .all('/admin/*', async (request, env) => {
    await requireAdmin(request, env)
  })
  .all('/notify/*', () => {
    throw new AdminError('method_not_allowed', 'provider callbacks are POST requests')
  })
  .all('*', () => {
    throw new AdminError('not_found', 'no such endpoint')
  })
