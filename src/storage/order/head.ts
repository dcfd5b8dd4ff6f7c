/**
 * @module The object's one `head` record: its singletons together (the order or the subject, where its events go,
 * the provider queries planned, the accepted notifications), so a transaction that touches several of them still
 * writes one row.
 */
import type { Exhaustion, ForwardTargetRow, NotificationRow, OrderRow, ReconciliationRow, SubjectRef } from './records'
import type { RecordStore } from './record-store'

export interface HeadRecord {
  order?: OrderRow
  subject?: SubjectRef & { createdAt: string }
  forward?: ForwardTargetRow & { updatedAt: string }
  reconciliation?: ReconciliationRow
  /**
   * The accepted notifications, by the provider's id: the dedupe set and their audit entries. In the head because an
   * accepted notification nearly always changes the order, whose row is written anyway: its audit costs no row.
   */
  accepted?: Record<string, NotificationRow>
  /** Set once the object was reduced to its tombstone (retention). */
  compactedAt?: string
  /**
   * Deliveries whose retries ran out and whose monitor could not be told yet (`delivery.exhausted`), as they were then
   * (a delivery id alone in heads written before those were kept).
   */
  exhaustedUntold?: Array<Exhaustion | string>
}

export class Head {
  constructor(private readonly records: RecordStore) {}

  /** The head as stored, frozen (shared by every read until the next write). */
  read(): HeadRecord {
    return this.records.get<HeadRecord>('head', '') ?? {}
  }

  /** Changes the head record (read, changed by `change`, written; inside a transaction, written once at its end). */
  update(change: (head: HeadRecord) => void): void {
    const head = this.records.getCopy<HeadRecord>('head', '') ?? {}
    change(head)
    this.records.put('head', '', head)
  }
}
