// Vitest globalSetup: before the workerd tests, builds every notification `npm run simulate` can send
// (test/simulate/simulated-notifications.mjs, run by Node) and hands them to test/simulate/simulate.test.ts.
// Signed afresh on every run, so a change to the simulator or the signers is tested at once.
// It also runs the provider stand-in `npm run dev` starts (a Node server) for test/simulate/provider-standin.test.ts
// and simulate.test.ts's syncs.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startStandin } from './provider-standin-harness.mjs'

const BUILDER = fileURLToPath(new URL('./simulated-notifications.mjs', import.meta.url))

export default async function setup(project) {
  const json = execFileSync(process.execPath, [BUILDER], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const simulated = JSON.parse(json)
  project.provide('simulated', simulated)
  // The stand-in also knows what simulate recorded of the combined payments it built.
  const standin = await startStandin(simulated.recorded.orders)
  project.provide('standin', standin.provided)
  return () => standin.stop()
}
