/**
 * @module The deliveries: each is the `delivery` of its event record (so an event and its delivery are one row), the
 * attempts made listed in it. A lease (an attempt in flight) is kept in memory only: it matters while the instance
 * that made it runs, and a new instance has none in flight.
 */
import type { EventRecord, EventTable, StoredDelivery } from './events'
import type { AttemptRow, DeliveryRow, DeliveryStatus, FailureReason } from './records'

/** A delivery's fields an attempt (or a replay) sets; every change also clears the lease and bumps the version. */
export interface DeliveryChange {
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: number | null
  lastStatusCode: number | null
  lastError: string | null
  /** Set with `failed` only. */
  failureReason?: FailureReason | null
  /** The attempts made so far, when a whole retry schedule starts from here (an endpoint replaced, say). */
  retriesFrom?: number
}

/**
 * Attempts kept per delivery: more than a whole retry schedule (12), so only a delivery replayed or recovered again
 * and again drops its oldest; each can hold a 1 KiB reply, and the record stays small.
 */
export const KEPT_ATTEMPTS = 50

/**
 * When a pending delivery is next attempted (ISO-8601); null once it is delivered or failed, and while it waits behind
 * an earlier pending delivery (it goes once that one is settled, not at a time of its own).
 */
export function nextAttemptIso(delivery: Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'waitsFor'>): string | null {
  if (delivery.status !== 'pending' || delivery.nextAttemptAt === null || delivery.waitsFor !== null) return null
  return new Date(delivery.nextAttemptAt).toISOString()
}

/** Whether an attempt of the delivery is out now (`at`): its lease, which only the instance that made it holds, runs. */
export function inFlight(delivery: Pick<DeliveryRow, 'status' | 'leaseUntil'>, at: number): boolean {
  return delivery.status === 'pending' && delivery.leaseUntil !== null && delivery.leaseUntil > at
}

export class DeliveryTables {
  private readonly leases = new Map<string, number>()
  /** Deliveries a replay asked for while their attempt was out: if that attempt fails, they go again at once. */
  private readonly resends = new Set<string>()

  constructor(private readonly events: EventTable) {}

  add(id: string, eventSeq: number, dueAt: number, now: string): void {
    const event = this.events.record(eventSeq)
    if (event === null) throw new TypeError(`no event ${eventSeq} for delivery ${id}`)
    const delivery: StoredDelivery = {
      id,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: dueAt,
      lastStatusCode: null,
      lastError: null,
      failureReason: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
      attemptLog: [],
    }
    this.events.put({ ...event, delivery })
  }

  all(): DeliveryRow[] {
    const events = this.withDeliveries()
    const head = headOfLineId(events)
    return events.map((event) => this.toRow(event, head))
  }

  /** Every delivery with its attempts, in one pass over the events (what the projection sends). */
  allWithAttempts(): Array<DeliveryRow & { attemptLog: AttemptRow[] }> {
    const events = this.withDeliveries()
    const head = headOfLineId(events)
    return events.map((event) => ({
      ...this.toRow(event, head),
      attemptLog: event.delivery.attemptLog.map((a) => ({ deliveryId: event.delivery.id, ...a })),
    }))
  }

  get(id: string): DeliveryRow | null {
    const events = this.withDeliveries()
    const event = this.find(id, events)
    return event === null ? null : this.toRow(event, headOfLineId(events))
  }

  /**
   * The delivery that goes next: events reach the merchant in the order they happened, so the first one not delivered,
   * when it is pending. Null when there is none, or when it failed: the ones after it wait until it is sent again.
   */
  headOfLine(): DeliveryRow | null {
    const event = lineHead(this.withDeliveries())
    return event === undefined || event.delivery.status !== 'pending' ? null : this.toRow(event, event.delivery.id)
  }

  /** Deliveries still to be sent: due, retrying, or waiting behind an earlier one. */
  pending(): DeliveryRow[] {
    return this.all().filter((d) => d.status === 'pending')
  }

  lease(id: string, until: number): void {
    this.leases.set(id, until)
  }

  /** Whether a replay came while the delivery's attempt was out; forgets it. */
  takeResend(id: string): boolean {
    return this.resends.delete(id)
  }

  update(id: string, change: DeliveryChange, now: string): void {
    this.change(id, (d) => ({
      ...d,
      status: change.status,
      attempts: change.attempts,
      nextAttemptAt: change.nextAttemptAt,
      lastStatusCode: change.lastStatusCode,
      lastError: change.lastError,
      failureReason: change.status === 'failed' ? (change.failureReason ?? null) : null,
      ...(change.retriesFrom === undefined ? {} : { retriesFrom: change.retriesFrom }),
      version: d.version + 1,
      updatedAt: now,
    }))
  }

  /**
   * Sends `id` again (a replay): pending, due at `dueAt`, and ahead of it every earlier delivery of the line not yet
   * delivered, since the line goes in order: one that failed, or one waiting for its next retry. Otherwise the replay
   * would wait behind them, up to a day. One being sent now (`id` too) keeps its attempt, whose result resetting the row
   * would lose: a success is the replay, a failure goes again at once (`takeResend`).
   */
  requeue(id: string, dueAt: number, now: string): void {
    const target = this.get(id)
    if (target === null) return
    const earlier = this.all().filter((d) => d.eventSeq < target.eventSeq && (d.status === 'failed' || d.status === 'pending'))
    const line = [...earlier, target]
    for (const d of line) if (inFlight(d, dueAt)) this.resends.add(d.id)
    this.sendAgain(
      line.filter((d) => !inFlight(d, dueAt)),
      dueAt,
      now,
    )
  }

  /** Sends again every failed delivery of the line up to event `seq` (a recovery, a later event); how many. */
  requeueFailedThrough(seq: number, dueAt: number, now: string): number {
    // A first event has nothing before it: no read of the others on a new order's path.
    if (seq < 1) return 0
    const failed = this.failedThrough(seq)
    this.sendAgain(failed, dueAt, now)
    return failed.length
  }

  /** Failed deliveries, oldest first. */
  failed(): DeliveryRow[] {
    return this.all().filter((d) => d.status === 'failed')
  }

  /** Failed deliveries created within [since, until), oldest first. */
  failedBetween(since: string, until: string): DeliveryRow[] {
    return this.failed().filter((d) => d.createdAt >= since && d.createdAt < until)
  }

  /** Adds an attempt to the delivery's log, which keeps the latest `KEPT_ATTEMPTS` (the count of all is `attempts`). */
  recordAttempt(row: AttemptRow): void {
    const { deliveryId, ...attempt } = row
    this.change(deliveryId, (d) => ({ ...d, attemptLog: [...d.attemptLog, attempt].slice(-KEPT_ATTEMPTS) }), false)
  }

  attempts(deliveryId: string): AttemptRow[] {
    return (this.find(deliveryId)?.delivery.attemptLog ?? []).map((a) => ({ deliveryId, ...a }))
  }

  private failedThrough(seq: number): DeliveryRow[] {
    return this.failed().filter((d) => d.eventSeq <= seq)
  }

  /** Pending again, each with a whole retry schedule from here; attempts and last status kept. */
  private sendAgain(deliveries: readonly DeliveryRow[], dueAt: number, now: string): void {
    if (deliveries.length === 0) return
    const headBefore = headOfLineId(this.withDeliveries())
    for (const { id } of deliveries) {
      this.change(id, (d) => ({
        ...d,
        status: 'pending',
        retriesFrom: d.attempts,
        nextAttemptAt: dueAt,
        lastError: null,
        failureReason: null,
        version: d.version + 1,
        updatedAt: now,
      }))
    }
    // The delivery that was next, if it is pending and no longer next, now waits (no time of its own): a new version,
    // so the projection, which keeps only newer versions, shows that too.
    const events = this.withDeliveries()
    const former = headBefore === null || headBefore === headOfLineId(events) ? null : this.find(headBefore, events)
    if (former?.delivery.status === 'pending')
      this.change(former.delivery.id, (d) => ({ ...d, version: d.version + 1, updatedAt: now }), false)
  }

  private change(id: string, next: (d: StoredDelivery) => StoredDelivery, releaseLease = true): void {
    const event = this.find(id)
    if (event === null) return
    if (releaseLease) {
      this.leases.delete(id)
      this.resends.delete(id)
    }
    this.events.put({ ...event, delivery: next(event.delivery) })
  }

  private withDeliveries(): Array<EventRecord & { delivery: StoredDelivery }> {
    return this.events.allRecords().filter((e): e is EventRecord & { delivery: StoredDelivery } => e.delivery !== null)
  }

  private find(id: string, events = this.withDeliveries()): (EventRecord & { delivery: StoredDelivery }) | null {
    return events.find((e) => e.delivery.id === id) ?? null
  }

  private toRow(event: EventRecord & { delivery: StoredDelivery }, headOfLine: string | null): DeliveryRow {
    const d = event.delivery
    return {
      id: d.id,
      eventSeq: event.seq,
      eventId: event.id,
      eventType: event.type,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      failureReason: d.failureReason,
      ...(d.retriesFrom === undefined ? {} : { retriesFrom: d.retriesFrom }),
      leaseUntil: this.leases.get(d.id) ?? null,
      waitsFor: d.status === 'pending' && headOfLine !== d.id ? headOfLine : null,
      version: d.version,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    }
  }
}

/** The first delivery not delivered, in event order: the one every later delivery waits behind. */
function lineHead<E extends { delivery: StoredDelivery }>(events: readonly E[]): E | undefined {
  return events.find((e) => e.delivery.status !== 'delivered')
}

function headOfLineId(events: ReadonlyArray<{ delivery: StoredDelivery }>): string | null {
  return lineHead(events)?.delivery.id ?? null
}
