/** @module Admin API: `PUT` and `GET /admin/merchants/{merchantId}` (create/replace, redacted read). */
import { withDownloadedKeys } from '../merchants/downloaded-keys'
import { publicView } from '../merchants/public-view'
import { isMerchantId, parseMerchantInput } from '../merchants/schema'
import { loadMerchant, saveMerchant } from '../merchants/store'
import type { ProviderRegistry } from '../providers'
import { AdminError, json, readJsonBody } from './responses'

/** Creates (201) or replaces (200) a merchant; replies with its public view. */
export async function putMerchant(request: Request, env: Env, merchantId: string, registry: ProviderRegistry): Promise<Response> {
  if (!isMerchantId(merchantId)) throw new AdminError('invalid_request', 'merchantId: must match [A-Za-z0-9_-]{1,64}')
  const body = await readJsonBody(request)
  const input = await parseMerchantInput(body, { allowLoopback: env.ENVIRONMENT === 'development' }, registry)
  const { created } = await saveMerchant(env, merchantId, input, { registry })
  return json(publicView({ id: merchantId, ...input }, registry), created ? 201 : 200)
}

/** The merchant's public view (every secret left out), read fresh from D1 and its replica's downloaded keys. */
export async function getMerchant(_request: Request, env: Env, merchantId: string, registry: ProviderRegistry): Promise<Response> {
  // An id that could never have been saved is simply not found.
  const config = isMerchantId(merchantId) ? await loadMerchant(env, merchantId, { fresh: true }) : null
  if (config === null) throw new AdminError('not_found', 'no such merchant')
  // Downloaded keys are shown beside the configured ones, each with its source.
  return json(publicView(await withDownloadedKeys(env, config, Date.now(), { registry, fresh: true }), registry))
}
