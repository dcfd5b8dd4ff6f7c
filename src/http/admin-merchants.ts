/** @module Admin API for merchants: list, create or replace (`PUT`), read, and change some fields (`PATCH`). */
import { withDownloadedKeys } from '../merchants/downloaded-keys'
import { publicView } from '../merchants/public-view'
import { isMerchantId, type MerchantInput, parseMerchantInput } from '../merchants/schema'
import { patchMerchant as applyPatch } from '../merchants/patch'
import { loadMerchant, MerchantChanged, readStoredMerchant, ReplicaBehind, saveMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import type { ProviderRegistry } from '../providers'
import { noticeExpiringCertificates } from '../ops/certificates'
import { beforeEnabling, monitorStub, reportEndpointChange } from '../ops/monitor'
import { listMerchantRows } from '../storage/admin-queries'
import { endpointHealthTimes, requireMerchant } from './admin-common'
import { listAfter, page, type CursorScope } from './list-params'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { DEFAULT_LIMIT } from './schemas'
import { allowsLoopback } from '../lib/outbound-url'

type Routes = AdminRoutes

export const listMerchants: Handler<Routes['listMerchants']> = async ({ query, env, registry }) => {
  const limit = query.limit ?? DEFAULT_LIMIT
  const scope: CursorScope = { list: 'merchants', merchantId: null }
  const rows = await listMerchantRows(env.DB, { after: listAfter(query.cursor, scope), limit: limit + 1 })
  const { rows: shown, nextCursor } = page(rows, limit, (row) => [row.created_at, row.id], scope)
  return json({
    merchants: shown.map((row) => {
      // The stored row, secrets still sealed: only its public fields are read.
      const stored = JSON.parse(row.config) as Omit<MerchantConfig, 'id'>
      return {
        id: row.id,
        forward: { url: stored.forward.url, disabled_at: stored.forward.disabledAt ?? null },
        providers: registry.configuredProviders(stored),
        created_at: row.created_at,
        updated_at: row.updated_at,
      }
    }),
    next_cursor: nextCursor,
  })
}

/** Creates (201) or replaces (200) a merchant; replies with its public view. Replacing enables its endpoint again. */
export const putMerchant: Handler<Routes['putMerchant']> = async ({ params, rawBody, env, ctx, registry }) => {
  const { merchantId } = params
  if (!isMerchantId(merchantId)) throw new AdminError('invalid_request', 'merchantId: must match [A-Za-z0-9_-]{1,64}')
  const input = await parseMerchantInput(rawBody, { allowLoopback: allowsLoopback(env) }, registry)
  const { created } = await replaceMerchant(env, merchantId, input, registry)
  ctx.waitUntil(noticeExpiringCertificates(env, registry, merchantId, input, Date.now()).catch(() => 0))
  return json(publicView({ id: merchantId, ...input }, registry), created ? 201 : 200)
}

/** How many times a replace that lost to a change landing meanwhile (a disable, another save) reads again. */
const REPLACE_ATTEMPTS = 3

/**
 * Saves `input` over the row as it was read, so the endpoint state it replaces is the one it saw: a disable landing
 * in between is replaced and told as enabled, not silently undone, and of two saves enabling at once one tells it.
 */
async function replaceMerchant(
  env: Env,
  merchantId: string,
  input: MerchantInput,
  registry: ProviderRegistry,
): Promise<{ created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const current = await readStoredMerchant(env, merchantId)
    // Replacing enables a disabled endpoint: its failing streak ends first, and the enable is told once D1 has it.
    const enabling = await beforeEnabling(env, merchantId, current?.stored.forward)
    const tellEnabled = () => reportEndpointChange(env, { merchantId, state: 'enabled', url: input.forward.url })
    try {
      const saved = await saveMerchant(env, merchantId, input, {
        registry,
        ...(current === null ? {} : { expectedVersion: current.version }),
      })
      if (enabling) await tellEnabled()
      return saved
    } catch (error) {
      if (error instanceof MerchantChanged && attempt < REPLACE_ATTEMPTS) continue
      // Saved, its replica not: the save fails loudly (saved again, it catches up), the enable it made is still told.
      if (error instanceof ReplicaBehind && enabling) await tellEnabled()
      throw error
    }
  }
}

/** The merchant's public view (every secret left out), read fresh from D1 with its replica's downloaded keys, and its endpoint's health. */
export const getMerchant: Handler<Routes['getMerchant']> = async ({ params, env, registry }) => {
  const { merchantId } = params
  // An id that could never have been saved is simply not found.
  const config = isMerchantId(merchantId) ? await loadMerchant(env, merchantId, { fresh: true }) : null
  if (config === null) throw new AdminError('not_found', 'no such merchant')
  // Downloaded keys are shown beside the configured ones, each with its source.
  const view = publicView(await withDownloadedKeys(env, config, Date.now(), { registry, fresh: true }), registry)
  return json({ ...view, ...(await endpointHealth(env, merchantId)) })
}

/** A JSON merge patch of the PUT body, validated as a whole; the endpoint stays as it was. */
export const patchMerchant: Handler<Routes['patchMerchant']> = async ({ params, rawBody, env, ctx, registry }) => {
  const { merchantId } = params
  const current = await requireMerchant(env, merchantId)
  const patched = await applyPatch(env, current, rawBody, { allowLoopback: allowsLoopback(env), registry })
  ctx.waitUntil(noticeExpiringCertificates(env, registry, merchantId, patched.config, Date.now()).catch(() => 0))
  return json(publicView(patched.config, registry))
}

/** What the merchant's monitor knows of its endpoint: failing since when, last success and failure. */
async function endpointHealth(env: Env, merchantId: string): Promise<{ endpoint_health?: Record<string, string | null> }> {
  const health = await monitorStub(env, merchantId)
    .health()
    .catch(() => null)
  if (health === null) return {}
  return { endpoint_health: endpointHealthTimes(health) }
}
