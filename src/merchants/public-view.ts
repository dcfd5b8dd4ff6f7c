/** @module A merchant as `GET /admin/merchants/{id}` shows it: the PUT body with every secret left out. */
import { defaultRegistry, type ProviderRegistry } from '../providers'
import type { MerchantConfig } from './types'

/** The admin API's GET shape; each provider section is its descriptor's public view. */
export interface MerchantPublicView {
  /** `disabled_at` is present when the endpoint answered 410 Gone and nothing is sent to it. */
  forward: { url: string; disabled_at?: string }
  requireRegisteredOrders?: boolean
  confirmPaymentsByQuery?: boolean
  keepRejectedBodies?: boolean
  [provider: string]: unknown
}

/** Leaves out `forward.secret`, `forward.previousSecret` and every provider's secret fields. */
export function publicView(config: MerchantConfig, registry: ProviderRegistry = defaultRegistry): MerchantPublicView {
  const { forward } = config
  const sections = config as Record<string, unknown>
  const view: MerchantPublicView = {
    forward: { url: forward.url, ...(forward.disabledAt === undefined ? {} : { disabled_at: forward.disabledAt }) },
    ...(config.requireRegisteredOrders === true ? { requireRegisteredOrders: true } : {}),
    ...(config.confirmPaymentsByQuery === true ? { confirmPaymentsByQuery: true } : {}),
    ...(config.keepRejectedBodies === true ? { keepRejectedBodies: true } : {}),
  }
  for (const descriptor of registry.providers) {
    const section = Object.hasOwn(sections, descriptor.provider) ? sections[descriptor.provider] : undefined
    if (section !== undefined) view[descriptor.provider] = descriptor.config.publicView(section)
  }
  return view
}
