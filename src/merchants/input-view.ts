/**
 * @module A merchant as the PUT body that would create it again, secrets included: what a PATCH (JSON merge
 * patch) applies to before the result is validated as a whole. Never sent anywhere.
 */
import { defaultRegistry, type ProviderRegistry } from '../providers'
import { flagsOf } from './schema'
import type { MerchantConfig } from './types'

export function merchantInputView(config: MerchantConfig, registry: ProviderRegistry = defaultRegistry): Record<string, unknown> {
  const { url, secret, previousSecret } = config.forward
  const view: Record<string, unknown> = {
    forward: { url, secret, ...(previousSecret === undefined ? {} : { previousSecret }) },
    ...flagsOf(config),
  }
  for (const { descriptor, section } of registry.sectionsOf(config)) view[descriptor.provider] = descriptor.config.inputView(section)
  return view
}
