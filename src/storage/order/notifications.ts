/**
 * @module The audit trail: every notification that reached the object, with its verdict. The accepted ones are the
 * dedupe set, kept in the head record by the provider's notification id (an accepted notification changes the order,
 * whose row is written anyway, so its audit entry costs no row); the others (duplicates, refusals) are one
 * `notification` record each.
 */
import type { Head } from './head'
import type { NotificationRow } from './records'
import type { RecordStore } from './record-store'

export class NotificationTables {
  constructor(
    private readonly records: RecordStore,
    private readonly head: Head,
  ) {}

  hasSeen(providerNotificationId: string): boolean {
    return Object.hasOwn(this.head.read().accepted ?? {}, providerNotificationId)
  }

  /** Records a notification; an accepted one also marks its provider id seen. */
  record(row: NotificationRow): void {
    if (row.verdict === 'accepted') {
      this.head.update((head) => {
        head.accepted = { ...head.accepted, [row.providerNotificationId]: row }
      })
    } else {
      this.records.put('notification', row.id, row)
    }
  }

  /** Oldest first. */
  all(): NotificationRow[] {
    const others = this.records.list<NotificationRow>('notification').map((entry) => entry.value)
    return [...Object.values(this.head.read().accepted ?? {}), ...others].sort((a, b) =>
      a.receivedAt === b.receivedAt ? (a.id < b.id ? -1 : 1) : a.receivedAt < b.receivedAt ? -1 : 1,
    )
  }

  /** Drops the trail but the accepted entries: they are the dedupe set, so a late duplicate is still one. */
  compact(): void {
    for (const { key } of this.records.list<NotificationRow>('notification')) this.records.delete('notification', key)
  }
}
