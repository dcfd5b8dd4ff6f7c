/**
 * @module `PATCH /admin/merchants/{id}`: a JSON merge patch (RFC 7396) of the PUT body, applied to the stored
 * merchant and validated as a whole, so one secret can be rotated without sending the others. The endpoint's
 * state (enabled or disabled) is not part of the body and is kept.
 */
import { applyMergePatch } from '../lib/merge-patch'
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
  const merged = applyMergePatch(merchantInputView(current.config, registry), patch)
  const input = await parseMerchantInput(merged, { allowLoopback }, registry)
  const { disabledAt, disabledReason } = current.config.forward
  const forward = { ...input.forward, ...(disabledAt === undefined ? {} : { disabledAt, ...(disabledReason ? { disabledReason } : {}) }) }
  const kept = { ...input, forward }
  // Over the version read above only: a save that landed in between is never silently undone.
  const saved = await saveMerchant(env, id, kept, { registry, expectedVersion: current.version })
  return { config: { id, ...kept }, version: saved.version }
}
