/** @module A merchant as `GET /admin/merchants/{id}` shows it: the PUT body with every secret left out. */
import { defaultRegistry, type ProviderRegistry } from '../providers'
import { flagsOf, type MerchantFlag } from './schema'
import type { EndpointDisabledReason, ForwardConfig, MerchantConfig } from './types'

/** The admin API's GET shape; each provider section is its descriptor's public view. */
export type MerchantPublicView = {
  /** `disabled_at` (and `disabled_reason`) are present while the endpoint is disabled and nothing is sent to it. */
  forward: { url: string; disabled_at?: string; disabled_reason?: string }
  [provider: string]: unknown
} & Partial<Record<MerchantFlag, true>>

/** Why the forward URL is disabled: one disabled before reasons were kept was disabled by a 410 Gone. */
export function disabledReasonOf(forward: Pick<ForwardConfig, 'disabledReason'>): EndpointDisabledReason {
  return forward.disabledReason ?? 'gone'
}

/** The forward settings as an admin sees them: the URL and, when disabled, since when and why (never a secret). */
export function forwardView(forward: Pick<ForwardConfig, 'url' | 'disabledAt' | 'disabledReason'>) {
  return {
    url: forward.url,
    ...(forward.disabledAt === undefined ? {} : { disabled_at: forward.disabledAt, disabled_reason: disabledReasonOf(forward) }),
  }
}

/** Leaves out `forward.secret`, `forward.previousSecret` and every provider's secret fields. */
export function publicView(config: MerchantConfig, registry: ProviderRegistry = defaultRegistry): MerchantPublicView {
  const { forward } = config
  const view: MerchantPublicView = {
    forward: forwardView(forward),
    ...flagsOf(config),
  }
  for (const { descriptor, section } of registry.sectionsOf(config)) view[descriptor.provider] = descriptor.config.publicView(section)
  return view
}
