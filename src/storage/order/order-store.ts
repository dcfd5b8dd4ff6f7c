/**
 * @module The order (or subject) object's records, one group per kind. All calls are synchronous, so a caller can
 * compose them inside one `transaction`, which writes each record it changed once, when it commits.
 */
import { DeliveryTables } from './deliveries'
import { deliveryIdsOf, type DeliveryHolder } from './delivery-id'
import { EventTable } from './events'
import { ForwardTargetTable } from './forward-target'
import { Head } from './head'
import { NotificationTables } from './notifications'
import { OrderStateTable } from './order-state'
import { ReconciliationTable } from './reconciliation'
import { RecordStore } from './record-store'
import type { Exhaustion } from './records'
import { RefundTable } from './refunds'
import { SubjectTable } from './subject'

/** Rows written and alarms set (each billed as a row). */
export interface StorageMeter {
  rows: number
  alarms: number
}

export class OrderStore {
  readonly order: OrderStateTable
  readonly notifications: NotificationTables
  readonly refunds: RefundTable
  readonly events: EventTable
  readonly deliveries: DeliveryTables
  readonly reconciliation: ReconciliationTable
  readonly forwardTarget: ForwardTargetTable
  readonly subject: SubjectTable
  private readonly records: RecordStore
  private readonly head: Head
  private alarmsSet = 0
  private attributedRows = 0
  private attributedAlarms = 0
  /** Makes the ids of new deliveries; null for a store opened only to read. */
  private readonly deliveryIds: (() => string) | null

  /** `holder`: the object this store is, which the ids of its deliveries name; a store opened only to read needs none. */
  constructor(
    private readonly storage: DurableObjectStorage,
    holder: DeliveryHolder | null = null,
  ) {
    this.deliveryIds = holder === null ? null : deliveryIdsOf(holder)
    this.records = new RecordStore(storage)
    this.head = new Head(this.records)
    this.order = new OrderStateTable(this.head)
    this.notifications = new NotificationTables(this.records, this.head)
    this.refunds = new RefundTable(this.records)
    this.events = new EventTable(this.records)
    this.deliveries = new DeliveryTables(this.events)
    this.reconciliation = new ReconciliationTable(this.head)
    this.forwardTarget = new ForwardTargetTable(this.head)
    this.subject = new SubjectTable(this.head)
  }

  /** Whether the records table exists, as the object's schema read found it (saves the store reading it again). */
  knowTable(present: boolean): void {
    this.records.knowTable(present)
  }

  /** One SQLite transaction: all of `work`'s writes or none, each record written once. */
  transaction<T>(work: () => T): T {
    return this.records.transaction(work)
  }

  /** An id for a new delivery of this object's: one that names the object (delivery-id.ts). */
  newDeliveryId(): string {
    if (this.deliveryIds === null) throw new TypeError('a store opened without its object cannot name a delivery')
    return this.deliveryIds()
  }

  /** Whether this object has stored anything. */
  exists(): boolean {
    return this.records.exists()
  }

  /** Whether an alarm run still owes something: a delivery not made, an order query planned, a refund held or asked about. */
  hasWorkLeft(): boolean {
    return (
      this.deliveries.pending().length > 0 ||
      (this.reconciliation.get()?.nextQueryAt ?? null) !== null ||
      this.refunds.rows().some((r) => r.nextQueryAt !== null || r.held !== null)
    )
  }

  /**
   * Deliveries whose retries ran out that the merchant's monitor has not been told of yet, as they were then: one sent
   * again since (a later event, a replay) is still told of as it ran out.
   */
  exhaustedUntold(): Exhaustion[] {
    return (this.head.read().exhaustedUntold ?? []).flatMap((kept) => {
      if (typeof kept !== 'string') return [kept]
      const delivery = this.deliveries.get(kept)
      return delivery === null ? [] : [exhaustion(delivery)]
    })
  }

  /** Keeps `untold` as not told yet (none: all told); writes the head only when that changes. */
  keepExhaustedUntold(untold: readonly Exhaustion[]): void {
    const before = this.head.read().exhaustedUntold ?? []
    if (before.length === 0 && untold.length === 0) return
    const kept = untold.map(exhaustion)
    if (JSON.stringify(before) === JSON.stringify(kept)) return
    this.head.update((head) => {
      if (kept.length === 0) delete head.exhaustedUntold
      else head.exhaustedUntold = kept
    })
  }

  /** When the object was reduced to its tombstone (ISO-8601), or null. */
  compactedAt(): string | null {
    return this.head.read().compactedAt ?? null
  }

  /**
   * Reduces a settled order to its tombstone: the head (order, refunds' totals, forward target) and the accepted
   * notifications' ids stay, so a late duplicate is still one and a late refund still applies once; the audit trail
   * of refusals and duplicates, and the settled events with their bodies (the raw provider fields) and attempts, go.
   */
  compact(now: string): void {
    this.transaction(() => {
      this.notifications.compact()
      this.events.compact()
      this.head.update((head) => {
        head.compactedAt = now
      })
    })
  }

  /** Sets the object's alarm (Cloudflare bills each as a row written, so the meter counts them). */
  async setAlarm(at: number): Promise<void> {
    // Counted when asked for: an alarm run that awaited meanwhile sees at once that someone set the alarm.
    this.alarmsSet += 1
    await this.storage.setAlarm(at)
  }

  /** What this instance has written so far (rows, index and schema entries included, and alarms set): the bench's meter. */
  written(): StorageMeter {
    return { rows: this.records.rowsWritten(), alarms: this.alarmsSet }
  }

  /** One write step's own share (an ingest), so a step running around it (an alarm) does not count it too. */
  attribute(step: StorageMeter): void {
    this.attributedRows += step.rows
    this.attributedAlarms += step.alarms
  }

  /** What was written since `since` (a reading of `written`) by no attributed step. */
  unattributedSince(since: StorageMeter & { attributed: StorageMeter }): StorageMeter {
    const now = this.written()
    return {
      rows: now.rows - since.rows - (this.attributedRows - since.attributed.rows),
      alarms: now.alarms - since.alarms - (this.attributedAlarms - since.attributed.alarms),
    }
  }

  /** A reading to measure a step from, with `unattributedSince`. */
  reading(): StorageMeter & { attributed: StorageMeter } {
    return { ...this.written(), attributed: { rows: this.attributedRows, alarms: this.attributedAlarms } }
  }
}

/** What is kept of a delivery whose retries ran out (a row's other fields are not part of it). */
function exhaustion(delivery: Exhaustion): Exhaustion {
  const { id, eventId, eventType, attempts, lastStatusCode, lastError } = delivery
  return { id, eventId, eventType, attempts, lastStatusCode, lastError }
}
