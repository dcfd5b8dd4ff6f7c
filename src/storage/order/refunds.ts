/**
 * @module Each refund of the order (registered, notified, queried, settled) as one `refund` record keyed by its
 * `out_refund_no`, with the refund events already emitted for it, so the same report twice changes nothing.
 */
import { blankRefund, type RefundRow } from './records'
import type { RecordStore } from './record-store'

interface RefundRecord extends RefundRow {
  /** The outcomes whose event was emitted (succeeded, failed, closed), with the amount it carried. */
  applied: Array<{ outcome: string; amount: number }>
  /** When the gateway first heard of it, as a number: rows() keep that order. */
  heard: number
  updatedAt: string
}

export class RefundTable {
  constructor(private readonly records: RecordStore) {}

  has(outRefundNo: string, outcome: string): boolean {
    return this.stored(outRefundNo)?.applied.some((a) => a.outcome === outcome) ?? false
  }

  /** Notes that `outcome`'s event was emitted for this refund (once). */
  record(outRefundNo: string, outcome: string, amount: number): void {
    const stored = this.stored(outRefundNo)
    if (stored?.applied.some((a) => a.outcome === outcome)) return
    const base = stored ?? { ...emptyRefund(outRefundNo, outcome), applied: [], heard: this.nextHeard(), updatedAt: '' }
    this.records.put('refund', outRefundNo, { ...base, applied: [...base.applied, { outcome, amount }] })
  }

  get(outRefundNo: string): RefundRow | null {
    const stored = this.stored(outRefundNo)
    return stored === null ? null : toRow(stored)
  }

  /** Every refund, in the order the gateway first heard of them. */
  rows(): RefundRow[] {
    return this.all().map(toRow)
  }

  save(row: RefundRow, now: string): void {
    const stored = this.stored(row.outRefundNo)
    this.records.put('refund', row.outRefundNo, {
      ...row,
      applied: stored?.applied ?? [],
      heard: stored?.heard ?? this.nextHeard(),
      updatedAt: now,
    })
  }

  /** Refunds whose next query is due at `now`, oldest plan first. */
  due(now: number, limit: number): RefundRow[] {
    return this.rows()
      .filter((r) => r.nextQueryAt !== null && r.nextQueryAt <= now)
      .sort((a, b) => a.nextQueryAt! - b.nextQueryAt!)
      .slice(0, limit)
  }

  /** When the next refund query is planned (epoch ms), or null. */
  nextQueryAt(): number | null {
    const planned = this.rows().flatMap((r) => (r.nextQueryAt === null ? [] : [r.nextQueryAt]))
    return planned.length === 0 ? null : Math.min(...planned)
  }

  private stored(outRefundNo: string): RefundRecord | null {
    return this.records.get<RefundRecord>('refund', outRefundNo)
  }

  private all(): RefundRecord[] {
    return this.records
      .list<RefundRecord>('refund')
      .map((entry) => entry.value)
      .sort((a, b) => a.heard - b.heard)
  }

  private nextHeard(): number {
    return this.all().reduce((max, r) => Math.max(max, r.heard), 0) + 1
  }
}

/** A refund known only from the event emitted for it (a legacy object's applied refunds): settled as that outcome. */
function emptyRefund(outRefundNo: string, outcome: string): RefundRow {
  return { ...blankRefund(outRefundNo), status: outcome === 'succeeded' ? 'succeeded' : outcome === 'closed' ? 'closed' : 'failed' }
}

function toRow(record: RefundRecord): RefundRow {
  const { applied: _applied, heard: _heard, updatedAt: _updatedAt, ...row } = record
  return row
}
