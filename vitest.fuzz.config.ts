/**
 * @module The long fuzz run, `npm run fuzz`: test/security/fuzz.test.ts alone, inside workerd like every
 * test, with 10,000 cases per channel through the adapters and 1,000 per channel through the Worker
 * (`FUZZ_RUNS=50000 npm run fuzz` for more). `npm test` runs the same file with a few hundred.
 */
import { defineConfig } from 'vitest/config'
import { workerdProject } from './vitest.config'

const runs = Number(process.env.FUZZ_RUNS ?? 10_000)

export default defineConfig(async () =>
  workerdProject({
    include: ['test/security/fuzz.test.ts'],
    provide: { fuzzRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : 10_000 },
    testTimeout: 60 * 60_000,
  }),
)
