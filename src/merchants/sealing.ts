/**
 * @module A merchant's secrets at rest: every secret field sealed under MASTER_KEY (bound to the
 * merchant id), public fields in clear. The stored row lists the paths it sealed, so reading it back
 * needs no knowledge of providers; which fields are secrets comes from the provider descriptors.
 */
import type { MasterKeyring } from '../crypto/sealed'
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

export async function sealMerchant(
  keys: MasterKeyring,
  id: string,
  settings: Settings,
  registry: ProviderRegistry,
): Promise<StoredMerchant> {
  const sealed = secretPaths(settings, registry)
  const stored = await mapPaths(settings, sealed, (secret) => keys.seal(id, secret))
  return { format: STORED_FORMAT, sealed, ...stored }
}

/** The paths a stored row sealed: listed in it, or for rows written before the list, the default providers' secret fields. */
function sealedPaths(stored: StoredMerchant): string[] {
  const { format, sealed, ...settings } = stored
  return format === 1 ? secretPaths(settings, defaultRegistry) : (sealed ?? [])
}

export async function openMerchant(keys: MasterKeyring, id: string, stored: StoredMerchant): Promise<MerchantConfig> {
  const { format: _format, sealed: _sealed, ...settings } = stored
  return { id, ...(await mapPaths(settings, sealedPaths(stored), (envelope) => keys.open(id, envelope))) }
}

/**
 * The row with every sealed value sealed again under the current key, or null when all of them already are
 * (a reseal run twice changes nothing the second time). Public fields are kept exactly as stored.
 */
export async function resealMerchant(keys: MasterKeyring, id: string, stored: StoredMerchant): Promise<StoredMerchant | null> {
  const paths = sealedPaths(stored)
  const current = await Promise.all(paths.map(async (path) => keys.sealsWithCurrent(String(valueAt(stored, path)))))
  if (stored.format === STORED_FORMAT && current.every(Boolean)) return null
  const { format: _format, sealed: _sealed, ...settings } = stored
  const resealed = await mapPaths(settings, paths, async (envelope) => keys.seal(id, await keys.open(id, envelope)))
  return { format: STORED_FORMAT, sealed: paths, ...resealed }
}
