/**
 * @module The merchant replica's part in downloaded provider keys (WeChat Pay platform certificates): it downloads
 * them on a schedule (its alarm) and on demand (a notification naming an unknown serial, at most once a minute per
 * provider), keeps them sealed under MASTER_KEY beside the merchant's config, and drops expired ones. One replica
 * per merchant, so its downloads and their rate limit are per merchant.
 */
import { errorName, log } from '../lib/log'
import { QueryFailed, type DownloadedKey, type KeyDownload, type ProviderRegistry } from '../providers'
import type { MasterKeyring } from '../crypto/sealed'
import { masterKeyring } from './master-keys'
import { openMerchant, type StoredMerchant } from './sealing'
import type { MerchantConfig } from './types'

export const KEY_TABLES = `
CREATE TABLE IF NOT EXISTS downloaded_keys (
  provider            TEXT NOT NULL,
  serial              TEXT NOT NULL,
  sealed_certificate  TEXT NOT NULL,
  expires_at          TEXT NOT NULL,
  downloaded_at       TEXT NOT NULL,
  PRIMARY KEY (provider, serial)
);
CREATE TABLE IF NOT EXISTS key_downloads (
  provider      TEXT PRIMARY KEY,
  attempted_at  INTEGER NOT NULL,
  succeeded_at  INTEGER,
  outcome       TEXT NOT NULL
);
`

/** An unknown serial downloads again at most this often (per merchant and provider). */
export const ON_DEMAND_INTERVAL_MS = 60_000
/** After a failed scheduled download, the next try. */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000
/** A download while a provider waits for the reply (it wants one within 5 s). */
const ON_DEMAND_TIMEOUT_MS = 3_000

/** A downloaded key as the replica keeps it: the certificate sealed under MASTER_KEY, bound to the merchant. */
export interface SealedDownloadedKey {
  provider: string
  serial: string
  sealedCertificate: string
  expiresAt: string
}

export interface OnDemandDownload {
  /** The keys the replica holds now: downloaded afresh, or as they were when the last try was under a minute ago. */
  keys: SealedDownloadedKey[]
  /** When an unknown serial may download again: until then, asking again brings no keys but the schedule's. */
  nextDownloadAt: number
}

/** What a download of `download` is made with (account, keys, API base): another value is another download. */
function settingsOf(download: KeyDownload): string {
  return JSON.stringify(download.section)
}

export class KeyDownloader {
  /** The download running per provider, with the settings it runs with (one made with older settings is not joined). */
  private readonly inFlight = new Map<string, { settings: string; run: Promise<boolean> }>()

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly registry: ProviderRegistry,
  ) {}

  keys(now: number): SealedDownloadedKey[] {
    return this.sql
      .exec<{ provider: string; serial: string; sealed_certificate: string; expires_at: string }>(
        'SELECT provider, serial, sealed_certificate, expires_at FROM downloaded_keys ORDER BY provider, serial',
      )
      .toArray()
      .filter((row) => Date.parse(row.expires_at) > now)
      .map((row) => ({ provider: row.provider, serial: row.serial, sealedCertificate: row.sealed_certificate, expiresAt: row.expires_at }))
  }

  /** The downloads this merchant's config asks for; forgets the keys of providers it no longer downloads for. */
  downloadsOf(merchant: MerchantConfig | null): KeyDownload[] {
    const wanted = merchant === null ? [] : this.registry.keyDownloadsOf(merchant)
    const kept = wanted.map((download) => download.provider)
    for (const { provider } of this.sql.exec<{ provider: string }>('SELECT DISTINCT provider FROM downloaded_keys').toArray()) {
      if (!kept.includes(provider)) this.sql.exec('DELETE FROM downloaded_keys WHERE provider = ?', provider)
    }
    return wanted
  }

  async openConfig(merchantId: string, storedConfig: string): Promise<MerchantConfig> {
    return openMerchant(masterKeyring(this.env), merchantId, JSON.parse(storedConfig) as StoredMerchant)
  }

  /** A notification named a serial nobody knows: download now, unless the last try was under a minute ago. */
  async onDemand(merchantId: string, merchant: MerchantConfig, provider: string, now: number): Promise<OnDemandDownload> {
    const download = this.downloadsOf(merchant).find((candidate) => candidate.provider === provider)
    const last = this.lastAttemptAt(provider)
    const due = download !== undefined && (last === null || now - last >= ON_DEMAND_INTERVAL_MS)
    if (due) await this.run(merchantId, download, now, ON_DEMAND_TIMEOUT_MS)
    // A minute after the last try (the one just made, or one still running that this call joined).
    const nextDownloadAt = (this.lastAttemptAt(provider) ?? now) + ON_DEMAND_INTERVAL_MS
    return { keys: this.keys(due ? Date.now() : now), nextDownloadAt }
  }

  /**
   * The merchant was saved: for each provider whose download settings changed (another account, a fixed APIv3 key),
   * the on-demand limit starts again, since the last try was made with the old ones and says nothing of the new ones.
   * The next unknown serial downloads at once (or the download the save scheduled counts as the first try).
   */
  restartOnDemand(before: MerchantConfig | null, after: MerchantConfig): void {
    const earlier = new Map((before === null ? [] : this.registry.keyDownloadsOf(before)).map((d) => [d.provider, settingsOf(d)]))
    for (const download of this.registry.keyDownloadsOf(after)) {
      if (earlier.get(download.provider) !== settingsOf(download)) {
        this.sql.exec('DELETE FROM key_downloads WHERE provider = ?', download.provider)
      }
    }
  }

  private lastAttemptAt(provider: string): number | null {
    const row = this.sql.exec<{ attempted_at: number }>('SELECT attempted_at FROM key_downloads WHERE provider = ?', provider).toArray()[0]
    return row?.attempted_at ?? null
  }

  /** The scheduled run: every provider the merchant downloads for. Returns when to run next, or null for never. */
  async scheduled(merchantId: string, merchant: MerchantConfig | null, now: number): Promise<number | null> {
    // Expired keys go whether or not the download works.
    this.sql.exec('DELETE FROM downloaded_keys WHERE expires_at <= ?', new Date(now).toISOString())
    const downloads = this.downloadsOf(merchant)
    let next: number | null = null
    for (const download of downloads) {
      const succeeded = await this.run(merchantId, download, now)
      const due = now + (succeeded ? download.downloads.refreshIntervalMs : RETRY_AFTER_FAILURE_MS)
      next = next === null ? due : Math.min(next, due)
    }
    return next
  }

  /** One download, shared by whoever asks while it runs. Never throws: the outcome is recorded instead. */
  private run(merchantId: string, download: KeyDownload, now: number, timeoutMs?: number): Promise<boolean> {
    const settings = settingsOf(download)
    const running = this.inFlight.get(download.provider)
    if (running !== undefined && running.settings === settings) return running.run
    const run: Promise<boolean> = this.download(merchantId, download, now, timeoutMs).finally(() => {
      if (this.inFlight.get(download.provider)?.run === run) this.inFlight.delete(download.provider)
    })
    this.inFlight.set(download.provider, { settings, run })
    return run
  }

  private async download(
    merchantId: string,
    { provider, downloads, section }: KeyDownload,
    now: number,
    timeoutMs?: number,
  ): Promise<boolean> {
    this.sql.exec(
      `INSERT INTO key_downloads (provider, attempted_at, outcome) VALUES (?, ?, 'running')
       ON CONFLICT (provider) DO UPDATE SET attempted_at = excluded.attempted_at, outcome = excluded.outcome`,
      provider,
      now,
    )
    const keyring = masterKeyring(this.env)
    try {
      const { opened: known, unopenable } = await openKeys(
        this.keys(now).filter((key) => key.provider === provider),
        keyring,
        merchantId,
      )
      const fresh = await downloads.download(section, known, { now, ...(timeoutMs === undefined ? {} : { timeoutMs }) })
      const sealed = await Promise.all(fresh.map(async (key) => ({ ...key, sealed: await keyring.seal(merchantId, key.certificatePem) })))
      const at = new Date(now).toISOString()
      for (const key of sealed) {
        this.sql.exec(
          `INSERT INTO downloaded_keys (provider, serial, sealed_certificate, expires_at, downloaded_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (provider, serial) DO UPDATE
             SET sealed_certificate = excluded.sealed_certificate, expires_at = excluded.expires_at, downloaded_at = excluded.downloaded_at`,
          provider,
          key.serial,
          key.sealed,
          key.expiresAt,
          at,
        )
      }
      // A key no master key opens that the provider no longer lists would never be sealed again: it goes.
      const listed = new Set(fresh.map((key) => key.serial))
      for (const key of unopenable) {
        if (!listed.has(key.serial)) this.sql.exec('DELETE FROM downloaded_keys WHERE provider = ? AND serial = ?', provider, key.serial)
      }
      this.sql.exec("UPDATE key_downloads SET succeeded_at = ?, outcome = 'ok' WHERE provider = ?", now, provider)
      return true
    } catch (error) {
      // Reason codes and short messages only: QueryFailed never carries keys or signatures.
      const outcome = error instanceof QueryFailed ? `${error.reason}: ${error.message}` : 'unexpected error'
      // The log line carries the reason code alone; the short message stays in this object's row for the admin API.
      log('warn', {
        event: 'key_download.failed',
        merchant_id: merchantId,
        provider,
        reason: error instanceof QueryFailed ? error.reason : errorName(error),
      })
      this.sql.exec('UPDATE key_downloads SET outcome = ? WHERE provider = ?', outcome.slice(0, 200), provider)
      return false
    }
  }
}

/** A downloaded key, opened. */
export type OpenedKey = DownloadedKey & { provider: string }

/**
 * The keys the master keys open, and those they no longer open (sealed under a key since deleted: `MASTER_KEY_PREVIOUS`
 * removed before they were sealed again). Those are left out, with a warning, rather than made the reason to verify
 * with none: a notification signed with one asks for a download, which seals it again if the provider still lists
 * it, or drops it if not.
 */
export async function openKeys(
  sealed: readonly SealedDownloadedKey[],
  keyring: Pick<MasterKeyring, 'open'>,
  merchantId: string,
): Promise<{ opened: OpenedKey[]; unopenable: SealedDownloadedKey[] }> {
  const tried = await Promise.all(
    sealed.map((key) =>
      keyring.open(merchantId, key.sealedCertificate).then(
        (certificatePem): OpenedKey => ({ provider: key.provider, serial: key.serial, certificatePem, expiresAt: key.expiresAt }),
        () => null,
      ),
    ),
  )
  const opened = tried.filter((key): key is OpenedKey => key !== null)
  const unopenable = sealed.filter((_, index) => tried[index] === null)
  if (unopenable.length > 0) log('warn', { event: 'downloaded_keys.unopenable', merchant_id: merchantId, keys: unopenable.length })
  return { opened, unopenable }
}
