/** @module A merchant as `GET /admin/merchants/{id}` shows it: the PUT body with every secret left out. */
import { defaultRegistry, type ProviderRegistry } from '../providers'
import type { MerchantConfig } from './types'

/** The admin API's GET shape; each provider section is its descriptor's public view. */
export interface MerchantPublicView {
  /** `disabled_at` (and `disabled_reason`) are present while the endpoint is disabled and nothing is sent to it. */
  forward: { url: string; disabled_at?: string; disabled_reason?: string }
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
    forward: {
      url: forward.url,
      ...(forward.disabledAt === undefined ? {} : { disabled_at: forward.disabledAt, disabled_reason: forward.disabledReason ?? 'gone' }),
    },
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
