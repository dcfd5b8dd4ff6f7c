/**
 * @module `PATCH /admin/merchants/{id}`: a JSON merge patch (RFC 7396) of the PUT body, applied to the stored
 * merchant and validated as a whole, so one secret can be rotated without sending the others. The endpoint's
 * state (enabled or disabled) is not part of the body and is kept.
 */
import { applyMergePatch } from '../lib/merge-patch'
import { ValidationError } from '../lib/validation'
import { defaultRegistry, type ProviderRegistry } from '../providers'
import { merchantInputView } from './input-view'
import { parseMerchantInput, type MerchantSchemaOptions } from './schema'
import { saveMerchant, type VersionedMerchant } from './store'

export interface PatchOptions extends MerchantSchemaOptions {
  registry?: ProviderRegistry
}

/**
 * The merchant after the patch of `current` (as just read, fresh, with its version). Throws `ValidationError`, and
 * `MerchantChanged` when a save landed since it was read.
 */
export async function patchMerchant(
  env: Env,
  current: VersionedMerchant,
  patch: unknown,
  options: PatchOptions,
): Promise<VersionedMerchant> {
  const { registry = defaultRegistry, allowLoopback } = options
  const { id } = current.config
  const before = merchantInputView(current.config, registry)
  const merged = applyMergePatch(before, patch)
  requireSecretsForNewUrls(registry, before, merged, patch)
  const input = await parseMerchantInput(merged, { allowLoopback }, registry)
  const { disabledAt, disabledReason } = current.config.forward
  const forward = { ...input.forward, ...(disabledAt === undefined ? {} : { disabledAt, ...(disabledReason ? { disabledReason } : {}) }) }
  const kept = { ...input, forward }
  // Over the version read above only: a save that landed in between is never silently undone.
  const saved = await saveMerchant(env, id, kept, { registry, expectedVersion: current.version })
  return { config: { id, ...kept }, version: saved.version }
}

const sectionOf = (body: unknown, name: string): Record<string, unknown> | undefined => {
  const section = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : undefined
}

/**
 * A patch that points a provider's API URL elsewhere gives again the secrets that URL receives in clear (the registry
 * says which): kept from storage, they would go to a URL of the caller's choosing, a way to read what the API never
 * shows. Back to the provider's own URL (the field removed) needs nothing.
 */
function requireSecretsForNewUrls(registry: ProviderRegistry, before: unknown, merged: unknown, patch: unknown): void {
  for (const descriptor of registry.providers) {
    const name = descriptor.provider
    const [old, now, given] = [sectionOf(before, name), sectionOf(merged, name), sectionOf(patch, name)]
    for (const { url, secrets } of descriptor.config.secretsSentTo ?? []) {
      if (now?.[url] === undefined || now[url] === old?.[url]) continue
      const kept = secrets.filter((secret) => now[secret] !== undefined && given?.[secret] === undefined)
      if (kept.length > 0) {
        throw new ValidationError(
          `${name}.${url}`,
          `a new URL receives ${kept.map((s) => `${name}.${s}`).join(', ')}: give ${kept.length === 1 ? 'it' : 'them'} again in the same request`,
        )
      }
    }
  }
}
