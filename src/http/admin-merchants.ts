/** @module Admin API: `PUT` and `GET /admin/merchants/{merchantId}` (create/replace, redacted read). */
import { isMerchantId, parseMerchantInput } from '../merchants/schema'
import { loadMerchant, publicView, saveMerchant } from '../merchants/store'
import { AdminError, json, readJsonBody } from './responses'

/** Creates (201) or replaces (200) a merchant; replies with its public view. */
export async function putMerchant(request: Request, env: Env, merchantId: string): Promise<Response> {
  if (!isMerchantId(merchantId)) throw new AdminError('invalid_request', 'merchantId: must match [A-Za-z0-9_-]{1,64}')
  const body = await readJsonBody(request)
  const input = await parseMerchantInput(body, { allowLoopback: env.ENVIRONMENT === 'development' })
  const { created } = await saveMerchant(env, merchantId, input)
  return json(publicView({ id: merchantId, ...input }), created ? 201 : 200)
}

/** The merchant's public view (every secret left out), read fresh from D1. */
export async function getMerchant(_request: Request, env: Env, merchantId: string): Promise<Response> {
  // An id that could never have been saved is simply not found.
  const config = isMerchantId(merchantId) ? await loadMerchant(env, merchantId, { fresh: true }) : null
  if (config === null) throw new AdminError('not_found', 'no such merchant')
  return json(publicView(config))
}
