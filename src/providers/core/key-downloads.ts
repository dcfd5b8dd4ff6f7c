/**
 * @module Verification keys a provider publishes for download (WeChat Pay's platform certificates), as a provider
 * descriptor offers them: whether a merchant wants them, how to fetch and authenticate them, and how they join
 * the merchant's section for verification. Scheduling, storage and rate limits are the merchant layer's.
 */
import type { QueryOptions } from './query-types'

/** One downloaded key, authenticated and decrypted. */
export interface DownloadedKey {
  /** The id messages name it by (WeChat: the platform certificate's serial, uppercase hex). */
  serial: string
  /** The key as downloaded: a PEM certificate. */
  certificatePem: string
  /** When it expires (ISO-8601): expired keys are dropped. */
  expiresAt: string
}

export interface KeyDownloads<Config> {
  /** Whether this merchant's section asks for downloaded keys. */
  enabled(config: Config): boolean
  /**
   * Downloads the provider's current keys and authenticates them (the answer's signature, the keys'
   * decryption). `known` are the keys downloaded before, which may have signed the answer. Expired keys are
   * left out. Throws `QueryFailed`.
   */
  download(config: Config, known: readonly DownloadedKey[], options: QueryOptions): Promise<DownloadedKey[]>
  /** The section as verification sees it: the downloaded keys beside the configured ones. */
  withDownloaded(config: Config, keys: readonly DownloadedKey[]): Config
  /** How long a download stays current: the schedule downloads again after this long. */
  readonly refreshIntervalMs: number
}
