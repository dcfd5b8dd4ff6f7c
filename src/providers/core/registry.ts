/**
 * @module The providers a gateway speaks, looked up by name: built once from a descriptor list and
 * read-only after. Every lookup goes through a `Map`, so no external name (a path segment, a JSON
 * field) can reach an inherited property.
 */
import type { ProviderDescriptor } from './descriptor'
import type { OrderQueryClient } from './query-types'
import type { RefundQueryClient } from './refund-query'
import type { ChannelAdapter, CombinedPaymentRef, MerchantSections } from './types'
import { ownValue } from '../../lib/own'
import type { KeyDownloads } from './key-downloads'

const PROVIDER_NAME = /^[a-z][a-z0-9]{1,31}$/

/** A provider whose keys a merchant downloads, and the merchant's section for it. */
export interface KeyDownload {
  provider: string
  downloads: KeyDownloads<unknown>
  section: unknown
}
const PATH = /^[a-z0-9]+(?:\/[a-z0-9]+)*$/

export class ProviderRegistry {
  readonly providers: readonly ProviderDescriptor[]
  readonly channels: readonly ChannelAdapter[]
  private readonly byProvider = new Map<string, ProviderDescriptor>()
  private readonly byChannel = new Map<string, ChannelAdapter>()

  constructor(providers: readonly ProviderDescriptor[]) {
    const paths = new Set<string>()
    for (const descriptor of providers) {
      const { provider } = descriptor
      if (!PROVIDER_NAME.test(provider)) throw new TypeError(`provider name ${provider} must match ${PROVIDER_NAME}`)
      if (this.byProvider.has(provider)) throw new TypeError(`provider ${provider} is listed twice`)
      this.byProvider.set(provider, descriptor)
      for (const adapter of descriptor.channels) {
        const { channel, path } = adapter
        if (adapter.provider !== provider || (channel !== provider && !channel.startsWith(`${provider}.`))) {
          throw new TypeError(`channel ${channel} does not belong to provider ${provider}`)
        }
        if (this.byChannel.has(channel)) throw new TypeError(`channel ${channel} is listed twice`)
        if (!PATH.test(path) || paths.has(path)) throw new TypeError(`channel ${channel}: path ${path} is invalid or taken`)
        paths.add(path)
        this.byChannel.set(channel, adapter)
      }
    }
    this.providers = [...providers]
    this.channels = [...this.byChannel.values()]
  }

  provider(name: string): ProviderDescriptor | undefined {
    return this.byProvider.get(name)
  }

  channel(name: string): ChannelAdapter | undefined {
    return this.byChannel.get(name)
  }

  /** Provider names, in the order the gateway lists them. */
  providerNames(): string[] {
    return [...this.byProvider.keys()]
  }

  /** The providers this merchant has a config section for. */
  configuredProviders(merchant: MerchantSections): string[] {
    return this.sectionsOf(merchant).map(({ descriptor }) => descriptor.provider)
  }

  /** The key downloads this merchant's sections turn on (`keyDownloads.enabled`), each with its section. */
  keyDownloadsOf(merchant: MerchantSections): KeyDownload[] {
    return this.sectionsOf(merchant).flatMap(({ descriptor, section }) => {
      const downloads = descriptor.keyDownloads as KeyDownloads<unknown> | undefined
      return downloads?.enabled(section) ? [{ provider: descriptor.provider, downloads, section }] : []
    })
  }

  /** Each provider the merchant has a config section for, with that section, in the gateway's order. */
  sectionsOf(merchant: MerchantSections): { descriptor: ProviderDescriptor; section: unknown }[] {
    return this.providers.flatMap((descriptor) => {
      const section = ownValue(merchant, descriptor.provider)
      return section === undefined ? [] : [{ descriptor, section }]
    })
  }

  /**
   * A provider named directly, or through one of its channels; undefined for any other name.
   */
  providerNamed(name: string): string | undefined {
    return this.byProvider.get(name)?.provider ?? this.byChannel.get(name)?.provider
  }

  /**
   * The client that can query this merchant's orders with `provider`, or null when none is configured. For a sub-order
   * of a combined payment (`combine`), only a client that asks through its combine (`queriesCombined`): never the
   * ordinary order query.
   */
  queryClientFor(merchant: MerchantSections, provider: string, combine?: CombinedPaymentRef): OrderQueryClient | null {
    for (const client of this.byProvider.get(provider)?.queries ?? []) {
      if (client.isConfigured(merchant) && (combine === undefined || client.queriesCombined(combine))) return client
    }
    return null
  }

  /**
   * The combine of a sub-order the merchant names (registering or syncing it before any notification): on the
   * channel of `provider` whose query client asks about combined payments; null when none does (a provider without
   * combined payments; WeChat Pay v2's combined query is gone, so a named combine is asked about on v3).
   */
  combinedPaymentOf(provider: string, combineOutTradeNo: string): CombinedPaymentRef | null {
    for (const client of this.byProvider.get(provider)?.queries ?? []) {
      const combine = { channel: client.channel, combineOutTradeNo }
      if (client.queriesCombined(combine)) return combine
    }
    return null
  }

  /** Whether one of `provider`'s query clients asks about sub-orders of this combine, keys or not. */
  queriesCombined(provider: string, combine: CombinedPaymentRef): boolean {
    return (this.byProvider.get(provider)?.queries ?? []).some((client) => client.queriesCombined(combine))
  }

  /** The client that can query this merchant's refunds with `provider`, or null when none is configured. */
  refundQueryClientFor(merchant: MerchantSections, provider: string): RefundQueryClient | null {
    for (const client of this.byProvider.get(provider)?.refundQueries ?? []) {
      if (client.isConfigured(merchant)) return client
    }
    return null
  }
}
