/** Types of report.mjs, for test/node/bench-report.test.ts. `results` has the shape of the bench's `--json` output. */
export interface BenchResults {
  facts: Record<string, unknown>
  micro: unknown
  e2e: Record<string, unknown>
  /** With `--rounds` above 1: each round's paygate and floor Worker runs, round 1 being `e2e`'s. */
  rounds?: { round: number; paygate: unknown; floor: unknown }[]
}
export function report(results: BenchResults): string
