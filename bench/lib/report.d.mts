/** Types of report.mjs, for test/node/bench-report.test.ts. `results` has the shape of the bench's `--json` output. */
export interface BenchResults {
  facts: Record<string, unknown>
  micro: unknown
  e2e: Record<string, unknown>
}
export function report(results: BenchResults): string
