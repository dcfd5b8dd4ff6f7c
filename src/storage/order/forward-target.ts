/** @module Statements on `forward_target`: where this merchant's events go, secrets sealed, newest merchant version wins. */
import { num, str, strOrNull, type Row } from './columns'
import type { ForwardTargetRow } from './records'

export class ForwardTargetTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): ForwardTargetRow | null {
    const r = this.sql.exec<Row>('SELECT * FROM forward_target WHERE singleton = 1').toArray()[0]
    return r
      ? {
          url: str(r.url),
          sealedSecret: str(r.sealed_secret),
          sealedPreviousSecret: strOrNull(r.sealed_previous_secret),
          merchantVersion: num(r.merchant_version),
          disabledAt: strOrNull(r.disabled_at),
        }
      : null
  }

  /** Stores `target` unless the stored copy comes from the same or a newer merchant version. */
  save(target: ForwardTargetRow, now: string): void {
    this.sql.exec(
      `INSERT INTO forward_target (singleton, url, sealed_secret, sealed_previous_secret, merchant_version, disabled_at, updated_at)
       VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret,
         sealed_previous_secret = excluded.sealed_previous_secret, merchant_version = excluded.merchant_version,
         disabled_at = excluded.disabled_at, updated_at = excluded.updated_at
       WHERE excluded.merchant_version > forward_target.merchant_version`,
      target.url,
      target.sealedSecret,
      target.sealedPreviousSecret,
      target.merchantVersion,
      target.disabledAt,
      now,
    )
  }

  disable(now: string): void {
    // Until settings with a newer version arrive: saving the merchant again re-enables it.
    this.sql.exec('UPDATE forward_target SET disabled_at = coalesce(disabled_at, ?) WHERE singleton = 1', now)
  }
}
