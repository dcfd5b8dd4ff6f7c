/**
 * @module What a provider folder exports: one descriptor naming its channels (notify adapters), its
 * merchant-config section and its order-query clients. The registry and everything above it are
 * built from a list of these.
 */
import type * as z from 'zod'
import type { ConfigContext } from './config-fields'
import type { KeyDownloads } from './key-downloads'
import type { OrderQueryClient } from './query-types'
import type { RefundQueryClient } from './refund-query'
import type { ChannelAdapter } from './types'

/** A certificate a config section holds, for the `certificate.expiring` operational webhook. */
export interface SectionCertificate {
  /** What it is, in the section's words (`platformPublicKeys.<serial>`). */
  name: string
  /** ISO-8601 instant after which it no longer verifies. */
  expiresAt: string
}

/** A provider's section of the merchant config (`PUT /admin/merchants/{id}` under the provider's name). */
export interface ConfigSection<Config> {
  /**
   * The section's wire shape: checked before `parse` (types, required and unknown fields), and the
   * section's schema in the admin API's OpenAPI document.
   */
  readonly schema: z.ZodObject
  /** Validates the admin API's section into the stored shape; throws `ValidationError` naming the field. */
  parse(value: unknown, context: ConfigContext): Promise<Config>
  /** Top-level string fields that hold secrets: sealed at rest, never shown, never logged. */
  readonly secretFields: readonly (keyof Config & string)[]
  /**
   * Secrets the provider's API receives in clear (not a signature made with them), by the field of the URL they are sent
   * to: a PATCH that points that URL elsewhere must give them again, or it would send a stored secret, which the API
   * never shows, to a URL of the caller's choosing.
   */
  readonly secretsSentTo?: readonly { url: keyof Config & string; secrets: readonly (keyof Config & string)[] }[]
  /** The section as `GET /admin/merchants/{id}` shows it: every secret left out. */
  publicView(config: Config): Record<string, unknown>
  /** Fields `publicView` adds that no PUT sets (derived, as keys' expiries): documented, and ignored in a PUT body. */
  readonly viewOnly?: z.ZodRawShape
  /** The section as a PUT body would carry it, secrets included: what a PATCH (JSON merge patch) applies to. */
  inputView(config: Config): Record<string, unknown>
  /** The certificates it holds (reads public fields only: works on a stored, still-sealed config too). */
  certificates?(config: Config): SectionCertificate[]
}

/**
 * What tells a provider's merchants apart. `keys`: one per combination of the ids a notification names (its last part
 * may be `'*'`, any value); no two merchants may share a key, since one genuine notification would match both.
 * `fields`: what each part of a key is, as the merchant body names it, for the message of a conflict (`-` in a key
 * reads as "no <field>", `*` as "any <field>").
 */
export interface ProviderIdentity<Config> {
  readonly fields: readonly string[]
  readonly keys: (config: Config) => readonly (readonly string[])[]
}

export interface ProviderDescriptor<
  Name extends string = string,
  // biome-ignore lint/suspicious/noExplicitAny: a list of descriptors mixes every provider's config type
  Config = any,
  Channels extends readonly ChannelAdapter<Config>[] = readonly ChannelAdapter<Config>[],
> {
  /** The provider's name: the merchant-config key, the `provider` of its orders and events. */
  readonly provider: Name
  /** Its notify channels; each channel's name is the provider's, or the provider's and a version (`<provider>.v3`). */
  readonly channels: Channels
  readonly config: ConfigSection<Config>
  /** Order-query clients, the preferred first; empty when the provider cannot be asked. */
  readonly queries: readonly OrderQueryClient[]
  /**
   * Verification keys the provider publishes for download, when it does. A notification its adapters refuse
   * with `unknown_serial` is verified again after an on-demand download.
   */
  readonly keyDownloads?: KeyDownloads<Config>
  /** The identities a merchant with this section claims; no two merchants may share one. */
  readonly identity?: ProviderIdentity<Config>
  /** Refund-query clients, the preferred first; absent when the provider's refunds cannot be asked about. */
  readonly refundQueries?: readonly RefundQueryClient[]
}

/** Keeps the literal names of a descriptor (`Provider` and `Channel` are derived from them). */
export function defineProvider<const Name extends string, Config, const Channels extends readonly ChannelAdapter<Config>[]>(
  descriptor: ProviderDescriptor<Name, Config, Channels>,
): ProviderDescriptor<Name, Config, Channels> {
  return descriptor
}

/** The config section type of a descriptor. */
export type ConfigOf<D> = D extends ProviderDescriptor<string, infer Config> ? Config : never

/** The provider sections of a merchant config, one optional key per provider in the list. */
export type ProviderSections<Providers extends readonly ProviderDescriptor[]> = {
  [D in Providers[number] as D['provider']]?: ConfigOf<D>
}
