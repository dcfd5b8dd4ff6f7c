/** @module Statements on `notifications` (every one that reached the order, with its verdict) and `seen_notifications` (the dedupe set). */
import type { ChannelName } from '../../providers/core/types'
import { str, strOrNull, type Row } from './columns'
import type { NotificationRow } from './records'

function toNotification(r: Row): NotificationRow {
  return {
    id: str(r.id),
    channel: str(r.channel) as ChannelName,
    providerNotificationId: str(r.provider_notification_id),
    receivedAt: str(r.received_at),
    verdict: str(r.verdict) as NotificationRow['verdict'],
    reason: strOrNull(r.reason),
    source: str(r.source) as NotificationRow['source'],
    notificationType: strOrNull(r.notification_type),
  }
}

export class NotificationTables {
  constructor(private readonly sql: SqlStorage) {}

  hasSeen(providerNotificationId: string): boolean {
    return this.sql.exec('SELECT 1 FROM seen_notifications WHERE provider_notification_id = ?', providerNotificationId).toArray().length > 0
  }

  markSeen(providerNotificationId: string, now: string): void {
    this.sql.exec('INSERT INTO seen_notifications (provider_notification_id, accepted_at) VALUES (?, ?)', providerNotificationId, now)
  }

  record(row: NotificationRow): void {
    this.sql.exec(
      `INSERT INTO notifications (id, channel, provider_notification_id, received_at, verdict, reason, source, notification_type)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.channel,
      row.providerNotificationId,
      row.receivedAt,
      row.verdict,
      row.reason,
      row.source,
      row.notificationType ?? null,
    )
  }

  all(): NotificationRow[] {
    return this.sql.exec<Row>('SELECT * FROM notifications ORDER BY received_at, rowid').toArray().map(toNotification)
  }

  unprojected(limit: number): NotificationRow[] {
    return this.sql.exec<Row>('SELECT * FROM notifications WHERE projected = 0 ORDER BY rowid LIMIT ?', limit).toArray().map(toNotification)
  }

  markProjected(ids: string[]): void {
    for (const id of ids) this.sql.exec('UPDATE notifications SET projected = 1 WHERE id = ?', id)
  }
}
