/**
 * @module A durable copy of one merchant's stored row (secrets still sealed), one object per merchant id.
 * D1 is the merchant's home; this copy lets a cold isolate verify provider callbacks while D1 is
 * unreachable, so an outage of the admin database never turns into refused payments. It also keeps the
 * merchant's downloaded provider keys, and its alarm downloads them on schedule (`key-downloader.ts`).
 */
import { log } from '../lib/log'
import { DurableObject } from 'cloudflare:workers'
import type { ProviderRegistry } from '../providers'
import { KEY_TABLES, KeyDownloader, ON_DEMAND_INTERVAL_MS, type OnDemandDownload, type SealedDownloadedKey } from './key-downloader'
import type { MerchantConfig } from './types'

/** The `merchants` row as D1 holds it: `config` is the sealed JSON text, `version` its change counter. */
export interface StoredMerchantRow {
  config: string
  version: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS merchant (
  singleton      INTEGER PRIMARY KEY CHECK (singleton = 1),
  config         TEXT NOT NULL,
  version        INTEGER NOT NULL,
  replicated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchant_id (
  singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
  id         TEXT NOT NULL
);
`

export abstract class MerchantReplica extends DurableObject<Env> {
  /** The providers whose keys it downloads: its gateway's (`createGateway` in http/gateway.ts makes the class from them). */
  protected abstract readonly registry: ProviderRegistry
  #keys: KeyDownloader | null = null
  /**
   * Whether its tables exist. They are made by the first `put`, never by a read: while D1 is down the Worker asks the
   * replica of every merchant id a notification names, and one nobody registered must leave no object behind.
   */
  #stored: boolean

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#stored = hasTables(ctx.storage.sql)
    // A replica an older version made may lack tables added since (the downloaded keys'): made now, once it has any.
    if (this.#stored) {
      ctx.storage.sql.exec(SCHEMA)
      ctx.storage.sql.exec(KEY_TABLES)
    }
  }

  /** Made on first use, not in the constructor: a subclass's `registry` is set only after the constructor ran. */
  private get keys(): KeyDownloader {
    this.#keys ??= new KeyDownloader(this.ctx.storage.sql, this.env, this.registry)
    return this.#keys
  }

  /**
   * Keeps `row` unless a newer version is already here: two saves racing through different isolates
   * may reach the replica in either order, and D1's counter says which one is current. A merchant that
   * downloads provider keys gets a download now (the alarm); one that no longer does, none. Saved with other download
   * settings, its on-demand limit starts again (`restartOnDemand`).
   */
  async put(row: StoredMerchantRow, merchantId: string): Promise<{ version: number }> {
    if (!this.#stored) {
      this.ctx.storage.sql.exec(SCHEMA)
      this.ctx.storage.sql.exec(KEY_TABLES)
      this.#stored = true
    }
    this.ctx.storage.sql.exec(
      'INSERT INTO merchant_id (singleton, id) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET id = excluded.id',
      merchantId,
    )
    const before = this.current()
    const kept = this.ctx.storage.sql
      .exec<{ version: number }>(
        `INSERT INTO merchant (singleton, config, version, replicated_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (singleton) DO UPDATE
           SET config = excluded.config, version = excluded.version, replicated_at = excluded.replicated_at
           WHERE excluded.version >= merchant.version
         RETURNING version`,
        row.config,
        row.version,
        new Date().toISOString(),
      )
      .toArray()
    const current = this.current()!
    const merchant = await this.opened(current)
    // Every save seals afresh, so other text may still be the same settings: restartOnDemand compares them opened.
    if (merchant !== null && before !== null && current.config !== before.config) {
      this.keys.restartOnDemand(await this.opened(before), merchant)
    }
    if (this.keys.downloadsOf(merchant).length === 0) await this.ctx.storage.deleteAlarm()
    // A changed config may name other keys or another account: download now. Otherwise keep the schedule.
    else if (current.config !== before?.config || (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now())
    return { version: kept[0]?.version ?? current.version }
  }

  get(): StoredMerchantRow | null {
    return this.current()
  }

  /** The unexpired downloaded keys, sealed; the Worker opens them. */
  downloadedKeys(): SealedDownloadedKey[] {
    return this.#stored ? this.keys.keys(Date.now()) : []
  }

  /** A notification named a serial no key has: download `provider`'s keys now, at most once a minute. */
  async downloadForUnknownSerial(provider: string): Promise<OnDemandDownload> {
    const current = this.current()
    const merchant = current === null ? null : await this.opened(current)
    if (merchant === null) return { keys: this.downloadedKeys(), nextDownloadAt: Date.now() + ON_DEMAND_INTERVAL_MS }
    return this.keys.onDemand(merchant.id, merchant, provider, Date.now())
  }

  /**
   * The schedule: download, then come back when the keys are due again (or sooner after a failure). A save during the
   * download set the alarm for its own settings (at once, or none): that one stands.
   */
  override async alarm(): Promise<void> {
    const current = this.current()
    const merchant = current === null ? null : await this.opened(current)
    const next = merchant === null ? null : await this.keys.scheduled(merchant.id, merchant, Date.now())
    if (this.current()?.config !== current?.config) return
    if (next !== null) await this.ctx.storage.setAlarm(next)
  }

  /** The config opened with MASTER_KEY, or null when this replica does not know its merchant yet. */
  private async opened(row: StoredMerchantRow): Promise<MerchantConfig | null> {
    const id = this.ctx.storage.sql.exec<{ id: string }>('SELECT id FROM merchant_id').toArray()[0]?.id
    if (id === undefined) return null
    try {
      return await this.keys.openConfig(id, row.config)
    } catch {
      log('warn', { event: 'replica.config_unreadable', merchant_id: id })
      return null
    }
  }

  private current(): StoredMerchantRow | null {
    if (!this.#stored) return null
    const rows = this.ctx.storage.sql.exec<{ config: string; version: number }>('SELECT config, version FROM merchant').toArray()
    return rows[0] === undefined ? null : { config: rows[0].config, version: rows[0].version }
  }
}

/** Whether the object has its tables; reading `sqlite_master` stores nothing. */
function hasTables(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'merchant'").toArray().length > 0
}

export function merchantReplica(env: Env, merchantId: string): DurableObjectStub<MerchantReplica> {
  return env.MERCHANTS.getByName(merchantId)
}
