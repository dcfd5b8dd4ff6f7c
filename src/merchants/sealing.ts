/**
 * @module A merchant's secrets at rest: every secret field sealed under MASTER_KEY (bound to the
 * merchant id), public fields in clear. The stored row lists the paths it sealed, so reading it back
 * needs no knowledge of providers; which fields are secrets comes from the provider descriptors.
 */
import { open, seal } from '../crypto/sealed'
import type { Bytes } from '../crypto/primitives'
import { defaultRegistry, type ProviderRegistry } from '../providers'
import type { MerchantConfig } from './types'

type Settings = Omit<MerchantConfig, 'id'>

/** The `merchants.config` column: the settings with each listed `section.field` holding its sealed envelope. */
export type StoredMerchant = Settings & { format: 1 | 2; sealed?: string[] }

export const STORED_FORMAT = 2

/** `forward.secret`, `forward.previousSecret` and each provider's secret fields, where present. */
function secretPaths(settings: Settings, registry: ProviderRegistry): string[] {
  const sections = settings as Record<string, unknown>
  const paths = ['forward.secret', 'forward.previousSecret']
  for (const { provider, config } of registry.providers) {
    if (Object.hasOwn(sections, provider)) paths.push(...config.secretFields.map((field) => `${provider}.${field}`))
  }
  return paths.filter((path) => typeof valueAt(settings, path) === 'string')
}

function valueAt(settings: Settings, path: string): unknown {
  const [section, field] = path.split('.') as [string, string]
  const parent = (settings as Record<string, unknown>)[section]
  return typeof parent === 'object' && parent !== null && Object.hasOwn(parent, field)
    ? (parent as Record<string, unknown>)[field]
    : undefined
}

/** A copy of `settings` with each `section.field` in `paths` passed through `change`. */
async function mapPaths<T extends Settings>(settings: T, paths: readonly string[], change: (value: string) => Promise<string>): Promise<T> {
  const copy: Record<string, unknown> = { ...settings }
  await Promise.all(
    paths.map(async (path) => {
      const [section, field] = path.split('.') as [string, string]
      const value = valueAt(settings, path)
      if (typeof value !== 'string') throw new RangeError(`stored merchant: ${path} is not a sealed value`)
      const changed = await change(value)
      copy[section] = { ...(copy[section] as Record<string, unknown>), [field]: changed }
    }),
  )
  return copy as T
}

export async function sealMerchant(masterKey: Bytes, id: string, settings: Settings, registry: ProviderRegistry): Promise<StoredMerchant> {
  const sealed = secretPaths(settings, registry)
  const stored = await mapPaths(settings, sealed, (secret) => seal(masterKey, id, secret))
  return { format: STORED_FORMAT, sealed, ...stored }
}

export async function openMerchant(masterKey: Bytes, id: string, stored: StoredMerchant): Promise<MerchantConfig> {
  const { format, sealed, ...settings } = stored
  // Rows written before the list was kept sealed exactly the default providers' secret fields.
  const paths = format === 1 ? secretPaths(settings, defaultRegistry) : (sealed ?? [])
  return { id, ...(await mapPaths(settings, paths, (envelope) => open(masterKey, id, envelope))) }
}
