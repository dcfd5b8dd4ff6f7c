/**
 * @module A durable copy of one merchant's stored row (secrets still sealed), one object per merchant id.
 * D1 is the merchant's home; this copy lets a cold isolate verify provider callbacks while D1 is
 * unreachable, so an outage of the admin database never turns into refused payments.
 */
import { DurableObject } from 'cloudflare:workers'

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
`

export class MerchantReplica extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(SCHEMA)
  }

  /**
   * Keeps `row` unless a newer version is already here: two saves racing through different isolates
   * may reach the replica in either order, and D1's counter says which one is current.
   */
  put(row: StoredMerchantRow): { version: number } {
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
    return { version: kept[0]?.version ?? this.current()!.version }
  }

  get(): StoredMerchantRow | null {
    return this.current()
  }

  private current(): StoredMerchantRow | null {
    const rows = this.ctx.storage.sql.exec<{ config: string; version: number }>('SELECT config, version FROM merchant').toArray()
    return rows[0] === undefined ? null : { config: rows[0].config, version: rows[0].version }
  }
}

export function merchantReplica(env: Env, merchantId: string): DurableObjectStub<MerchantReplica> {
  return env.MERCHANTS.getByName(merchantId)
}
