/**
 * @module The outbox: one `event` record per state change, keyed by its sequence number (events reach the merchant
 * in that order), carrying what the merchant receives and its delivery's state with the attempts made.
 */
import type { ChannelName } from '../../providers/core/types'
import type { AttemptRow, DeliveryRow, EventRow, EventType } from './records'
import type { RecordStore } from './record-store'

/**
 * A delivery as its event record holds it: the row without what its event gives, nor what the object's other records
 * decide (its lease, what it waits behind), with the attempts made.
 */
export interface StoredDelivery extends Omit<DeliveryRow, 'eventSeq' | 'eventId' | 'eventType' | 'leaseUntil' | 'waitsFor'> {
  attemptLog: Omit<AttemptRow, 'deliveryId'>[]
}

export interface EventRecord extends EventRow {
  delivery: StoredDelivery | null
}

/** Keys sort as numbers do. */
const eventKey = (seq: number): string => String(seq).padStart(12, '0')

export class EventTable {
  constructor(private readonly records: RecordStore) {}

  /** Returns the new event's `seq`, the key its delivery refers to. */
  add(event: Omit<EventRow, 'seq'>): number {
    // The keys are the seqs, zero-padded: the last one is read without parsing any event.
    const seq = Number(this.records.lastKey('event') ?? 0) + 1
    this.put({ ...event, seq, delivery: null })
    return seq
  }

  all(): EventRow[] {
    return this.records.list<EventRecord>('event').map(({ value }) => toEvent(value))
  }

  get(seq: number): EventRow {
    const record = this.record(seq)
    if (record === null) throw new TypeError(`no event ${seq}`)
    return toEvent(record)
  }

  record(seq: number): EventRecord | null {
    return this.records.get<EventRecord>('event', eventKey(seq))
  }

  allRecords(): EventRecord[] {
    return this.records.list<EventRecord>('event').map(({ value }) => value)
  }

  put(record: EventRecord): void {
    this.records.put('event', eventKey(record.seq), record)
  }

  /**
   * Drops the events the merchant received (their verified provider fields) and their attempts; D1 keeps their rows.
   * An event whose delivery failed for good stays, with its attempts: it is kept for replay and recovery.
   */
  compact(): void {
    for (const record of this.allRecords()) {
      if (record.delivery?.status === 'pending' || record.delivery?.status === 'failed') continue
      this.records.delete('event', eventKey(record.seq))
    }
  }
}

function toEvent(record: EventRecord): EventRow {
  return {
    seq: record.seq,
    id: record.id,
    type: record.type as EventType,
    channel: record.channel as ChannelName,
    body: record.body,
    createdAt: record.createdAt,
  }
}
