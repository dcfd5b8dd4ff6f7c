/**
 * @module The admin API's audit trail: one `admin.change` log line per change it made (every method but GET, once it
 * succeeded), saying which route, whose merchant, which fields the body named and which token signed it in; never a
 * value, so no secret and no URL (whose query may hold one) reaches the log.
 */
import type { LogFields } from '../lib/log'
import type { RouteSpec } from './route-spec'

/** Which of the gateway's admin tokens signed a request in. */
export type AdminTokenUsed = 'current' | 'previous'

/** More than a body names is cut here (a whole merchant names a few dozen). */
const MAX_FIELDS = 64
const MAX_FIELD_LENGTH = 80

/** The dotted paths of a JSON body's leaves (a list is a leaf): names only. */
export function fieldPaths(body: unknown): string[] {
  const paths: string[] = []
  const walk = (node: unknown, path: string): void => {
    if (paths.length > MAX_FIELDS) return
    if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [key, child] of Object.entries(node)) walk(child, path === '' ? key : `${path}.${key}`)
      return
    }
    if (path !== '') paths.push(path.length > MAX_FIELD_LENGTH ? `${path.slice(0, MAX_FIELD_LENGTH)}…` : path)
  }
  walk(body, '')
  return paths.length > MAX_FIELDS ? [...paths.slice(0, MAX_FIELDS), '…'] : paths
}

export function adminChange(spec: RouteSpec, params: Record<string, unknown>, rawBody: unknown, token: AdminTokenUsed): LogFields {
  const merchantId = typeof params.merchantId === 'string' ? params.merchantId : null
  return {
    event: 'admin.change',
    method: spec.method.toUpperCase(),
    route: spec.path,
    merchant_id: merchantId,
    ...(typeof params.deliveryId === 'string' ? { delivery_id: params.deliveryId } : {}),
    ...(typeof params.outTradeNo === 'string' ? { out_trade_no: params.outTradeNo } : {}),
    // A log field is a scalar: the names, comma-separated.
    fields: rawBody === undefined ? '' : fieldPaths(rawBody).join(','),
    token,
  }
}
