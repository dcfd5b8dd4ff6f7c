/** @module The provider queries planned and made for this order: a field of the head record. */
import type { Head } from './head'
import type { ReconciliationRow, UnconfirmedPayment } from './records'

export class ReconciliationTable {
  constructor(private readonly head: Head) {}

  get(): ReconciliationRow | null {
    return this.head.read().reconciliation ?? null
  }

  /**
   * Plans a query at `at` (keeping an earlier plan), watching the order until `expiresAt`; with `unconfirmed`, the
   * payment notification the query is to confirm.
   */
  plan(at: number, expiresAt: number, unconfirmed?: UnconfirmedPayment): void {
    const current = this.get()
    const kept = unconfirmed ?? current?.unconfirmed
    this.set({
      nextQueryAt: current?.nextQueryAt === null || current?.nextQueryAt === undefined ? at : Math.min(current.nextQueryAt, at),
      queriesMade: current?.queriesMade ?? 0,
      expiresAt: Math.max(current?.expiresAt ?? expiresAt, expiresAt),
      lastQueryAt: current?.lastQueryAt ?? null,
      lastResult: current?.lastResult ?? null,
      ...(kept === undefined ? {} : { unconfirmed: kept }),
      ...(current?.reopened === undefined ? {} : { reopened: current.reopened }),
      ...(current?.reportedAt === undefined ? {} : { reportedAt: current.reportedAt }),
    })
  }

  /** Notes when a doubtful report planned the query (after `plan` or `planReopened`). */
  noteReport(reportedAt: number): void {
    this.set({ ...this.get()!, reportedAt })
  }

  /**
   * Plans a query (at `queryAt`) of a closed order that a report (at `reportedAt`) says was paid after all: asked about
   * although closed. The mark is the latest report's time: only a query sent after it answers it.
   */
  planReopened(reportedAt: number, queryAt: number, expiresAt: number): void {
    this.plan(queryAt, expiresAt)
    this.set({ ...this.get()!, reopened: reportedAt })
  }

  /** The provider answered about the closed order: it is asked about no more for that report. */
  endReopened(): void {
    this.forget('reopened')
  }

  /** A reconciliation row with nothing planned, for an on-demand query of an unregistered order. */
  ensure(expiresAt: number): void {
    if (this.get() === null) this.set({ nextQueryAt: null, queriesMade: 0, expiresAt, lastQueryAt: null, lastResult: null })
  }

  /** Watches the order until `expiresAt` at least. */
  extend(expiresAt: number): void {
    const current = this.get()
    if (current !== null && current.expiresAt < expiresAt) this.set({ ...current, expiresAt })
  }

  recordQuery(at: number, result: string, nextQueryAt: number | null): void {
    const current = this.get()
    if (current !== null) this.set({ ...current, queriesMade: current.queriesMade + 1, lastQueryAt: at, lastResult: result, nextQueryAt })
  }

  /** Forgets the payment notification kept awaiting confirmation. */
  dropUnconfirmed(): void {
    this.forget('unconfirmed')
  }

  /** No more queries: the order is settled (a payment awaiting confirmation no longer is). */
  stop(): void {
    const current = this.get()
    if (current === null || (current.nextQueryAt === null && current.unconfirmed === undefined && current.reopened === undefined)) return
    const { unconfirmed: _settled, reopened: _done, ...rest } = current
    this.set({ ...rest, nextQueryAt: null })
  }

  /** Removes one of the row's optional marks, writing nothing when it has none. */
  private forget(mark: 'unconfirmed' | 'reopened'): void {
    const current = this.get()
    if (current?.[mark] === undefined) return
    const { [mark]: _gone, ...rest } = current
    this.set(rest)
  }

  private set(row: ReconciliationRow): void {
    this.head.update((head) => {
      head.reconciliation = row
    })
  }
}
