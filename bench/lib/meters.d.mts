/** Types of meters.mjs, for test/node/bench-meters.test.ts. */
export interface Price {
  perMillion: number
  source: string
}
export const PRICES: Record<
  'workersRequest' | 'durableObjectRequest' | 'durableObjectRowWritten' | 'd1RowWritten' | 'queueOperation',
  Price
>
export const QUEUE_OPERATIONS_PER_MESSAGE: number

export type MeterEvent =
  | {
      kind: 'object'
      object: string
      op: string
      verdict: string | null
      newOrder: boolean
      rowsWritten: number
      alarmsSet: number | null
    }
  | { kind: 'd1'; shard: string; transactions: number; rowsWritten: number; records: number }
  | { kind: 'queue'; messages: number; objectMessages: number | null }

interface D1Tally {
  transactions: number
  rows: number
  records: number
  shards: Record<string, number>
}
interface QueueTally {
  sends: number
  messages: number
  objectMessages: number | null
}
interface Bucket {
  count: number
  rows: number
}
export interface Tally {
  lines: number
  ingest: { newPayment: Bucket; acceptedExisting: Bucket; duplicate: Bucket; rejected: Bucket }
  alarm: Bucket
  other: Bucket
  alarmsSet: number | null
  d1: D1Tally
  queue: QueueTally
}
export interface MeterSummary {
  notifications: number
  newPayments: number
  duplicates: number
  ingestCalls: number
  alarmRuns: number
  otherSteps: number
  alarmsSet: number | null
  objectRows: { total: number; alarm: number; other: number }
  perNewPayment: {
    ingestRows: number | null
    alarmRows: number | null
    objectRows: number | null
    d1Rows: number | null
    queueMessages: number | null
    alarmRuns: number | null
  }
  perDuplicate: { objectRows: number | null }
  perNotification: { d1Transactions: number | null; queueMessages: number | null }
  d1: D1Tally
  queue: QueueTally
}
export interface CostRow {
  item: string
  unitsPerNewPayment: number
  dollarsPerMillion: number
  source: string
}
export interface Cost {
  perNewPayment: { rows: CostRow[]; total: number }
  runMix: { rows: CostRow[]; total: number }
  alarmsSetReported: boolean
}

export function parseMeterLine(line: string): MeterEvent | null
export function emptyTally(): Tally
export function addMeterText(tally: Tally, text: string): Tally
export function addMeterEvent(tally: Tally, event: MeterEvent): Tally
export function mergeTallies(tallies: Tally[]): Tally
export function projectionCaughtUp(tally: Tally): boolean
export function summarize(tally: Tally, notifications: number): MeterSummary | null
export function costPerMillion(summary: MeterSummary | null): Cost | null
