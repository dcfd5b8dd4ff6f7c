// Vitest globalSetup: before the workerd tests, builds every notification `npm run simulate` can send
// (test/simulate/simulated-notifications.mjs, run by Node) and hands them to test/simulate/simulate.test.ts.
// Signed afresh on every run, so a change to the simulator or the signers is tested at once.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BUILDER = fileURLToPath(new URL('./simulated-notifications.mjs', import.meta.url))

export default function setup(project) {
  const json = execFileSync(process.execPath, [BUILDER], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  project.provide('simulated', JSON.parse(json))
}
