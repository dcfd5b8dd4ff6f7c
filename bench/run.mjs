// `npm run bench`: what one notification costs in paygate, and how that compares (issue #7).
//   1. CPU per notification of parse → verify → normalize, per channel, inside workerd, next to the bare
//      WebCrypto floor of the same notification (bench/micro/).
//   2. End to end on `wrangler dev`: a realistic mix of signed notifications at rising concurrency, forwarded
//      to a merchant listener; throughput, latency, errors, CPU, memory.
//   3. In the same run, the skeleton Worker (bench/skeleton/: the same storage work, no parsing or crypto), the
//      floor Worker (bench/floor/: one new Durable Object and one row per request) and the Node baseline
//      (bench/node-baseline/: node:http + official SDK verification + a SQLite insert). On request (`--only
//      …,shape`), the shape Worker (bench/shape/: the least paygate's fixed shape makes each payment do).
// paygate runs twice: as deployed (the throughput figures), then with METER = "on", whose meter lines give rows, D1
// transactions and queue messages per notification, and what a million new payments cost at list prices
// (bench/lib/meters.mjs).
// Loopback only, its own ports and --persist-to directory (it runs beside `npm run dev`), bounded in time, and
// every process it starts is stopped at the end. `--quick` is a smoke run of the same machinery.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { demoMerchantBody } from '../scripts/lib/demo.mjs'
import { makeKeys } from '../test/fixtures/signers/keys.mjs'
import { PLANS, PORTS, runSystem } from './lib/e2e.mjs'
import { MICRO_INSPECTOR_PORT, MICRO_PORT, runMicro } from './lib/micro.mjs'
import { loadAverage, machineFacts } from './lib/proc.mjs'
import { killAllNow, portIsFree, startGroup, stopAll, stopAllOnce, stopGroup, survivors } from './lib/processes.mjs'
import { report } from './lib/report.mjs'
import { ROOT } from './lib/wrangler.mjs'

const USAGE = `Usage: npm run bench [-- options]

Measures what one provider notification costs in paygate (see docs/benchmarks.md).

Options
  --quick          a smoke run of every part (about a minute); figures are not meant to be quoted
  --only <parts>   comma-separated subset of: micro, paygate, skeleton, floor, node, shape (default: all but
                   shape, which runs only when named)
  --profile        also print a V8 CPU profile (top self time) of each channel's pipeline
  --json <file>    write every figure as JSON to <file>
  --keep           keep the temporary directory (logs, wrangler state, signed notifications)
  --local-observability
                   keep wrangler's local observability collector on (it records every span and log line of the
                   Workers into a local trace store, on their own thread; no deployed Worker has it: off by default)
  --rounds <n>     how many times paygate and the floor Worker run, alternating, each from fresh state (default
                   3; --quick: 1): issue #16's throughput target is judged on the median of their ratios (of an
                   even count, the lower of the middle two)
  --log-level <l>  run paygate with LOG_LEVEL = <l>: info, warn or error (default: wrangler.toml's, info, every
                   line); warn drops its info line per notification and per delivery (docs/scaling.md#logs)
  --state-dir <d>  where that directory is made (default: the OS temp dir); e.g. /dev/shm keeps the local
                   Durable Object and D1 files off the disk
  -h, --help`

/** paygate's LOG_LEVEL values (src/lib/log.ts). */
const LOG_LEVELS = ['info', 'warn', 'error']
const SYSTEMS = ['paygate', 'skeleton', 'floor', 'shape', 'node']
/** The run's temporary directory, removed on every way out unless --keep (set once it exists). */
const run = { tmp: null, keep: false, interrupted: false }
const PARTS = ['micro', ...SYSTEMS]
/** Parts run when `--only` is not given. */
const DEFAULT_PARTS = PARTS.filter((part) => part !== 'shape')

async function main() {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        profile: { type: 'boolean', default: false },
        json: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'state-dir': { type: 'string' },
        rounds: { type: 'string' },
        'local-observability': { type: 'boolean', default: false },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    console.error(`bench: ${error.message}\n\n${USAGE}`)
    return 2
  }
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const parts = values.only ? values.only.split(',').map((p) => p.trim()) : DEFAULT_PARTS
  const unknown = parts.filter((p) => !PARTS.includes(p))
  if (unknown.length > 0) {
    console.error(`bench: unknown part ${unknown.join(', ')} (expected ${PARTS.join(', ')})`)
    return 2
  }
  const rounds = values.rounds === undefined ? null : Number(values.rounds)
  if (rounds !== null && !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) {
    console.error(`bench: --rounds ${values.rounds}: expected a whole number from 1 to 9`)
    return 2
  }
  const logLevel = values['log-level'] ?? null
  if (logLevel !== null && !LOG_LEVELS.includes(logLevel)) {
    console.error(`bench: --log-level ${logLevel}: expected one of ${LOG_LEVELS.join(', ')}`)
    return 2
  }
  preflight()
  const ports = [MICRO_PORT, MICRO_INSPECTOR_PORT, ...Object.values(PORTS)]
  const busy = []
  for (const port of ports) if (!(await portIsFree(port))) busy.push(port)
  if (busy.length > 0) {
    console.error(
      `bench: port ${busy.join(', ')} in use on 127.0.0.1 (is another \`npm run bench\` running?). It needs ${ports.join(', ')}.`,
    )
    return 1
  }

  const startedAt = new Date()
  const clock = performance.now()
  const tmp = mkdtempSync(join(values['state-dir'] ?? tmpdir(), 'paygate-bench-'))
  Object.assign(run, { tmp, keep: values.keep })
  const log = (line) => console.log(line)
  const facts = {
    ...machineFacts(),
    ...versions(),
    loadAverageAtStart: loadAverage(),
    startedAt: startedAt.toISOString(),
    quick: values.quick,
    localObservability: values['local-observability'],
    logLevel,
    command: commandLine(values),
    stateDir: tmp,
  }
  log(
    `paygate bench${values.quick ? ' --quick' : ''} · ${facts.cpus} × ${facts.cpuModel} · Node ${facts.node} · workerd ${facts.workerd} · load ${facts.loadAverageAtStart}` +
      (logLevel === null ? '' : ` · paygate with LOG_LEVEL = ${logLevel}`),
  )
  if (facts.loadAverageAtStart > 0.5)
    log(`  note: the machine was not idle when the run started (load average ${facts.loadAverageAtStart}); figures will be lower`)
  log(`  state, logs and signed notifications in ${tmp}${values.keep ? '' : ' (removed at the end; --keep keeps them)'}`)

  // Throwaway keys for this run only (never .demo/ or the fixtures).
  const keys = makeKeys()
  const forward = { url: `http://127.0.0.1:${PORTS.listener}/webhooks`, secret: `whsec_${randomBytes(32).toString('base64')}` }
  const merchantBody = demoMerchantBody(keys, forward)
  const results = { facts, micro: null, e2e: {} }
  const plan = values.quick ? PLANS.quick : PLANS.full
  const roundCount = rounds ?? plan.rounds

  let loadgen
  let listener
  try {
    if (parts.includes('micro')) {
      log('\n▸ part 1: parse + verify + normalize inside workerd, per channel')
      results.micro = await runMicro({
        tmp,
        keys,
        merchantBody,
        quick: values.quick,
        profile: values.profile,
        log,
        localObservability: values['local-observability'],
      })
    }
    const systems = SYSTEMS.filter((s) => parts.includes(s))
    if (systems.length > 0) {
      log('\n▸ parts 2 and 3: end to end, loopback, 50% Alipay · 35% WeChat Pay v3 · 15% v2 · 20% duplicates')
      loadgen = await startChild('load generator', join(ROOT, 'bench/lib/loadgen.mjs'), [], join(tmp, 'loadgen.log'))
      listener = await startChild(
        'merchant listener',
        join(ROOT, 'bench/lib/listener.mjs'),
        [String(PORTS.listener)],
        join(tmp, 'listener.log'),
        'ready',
      )
      const runId = Date.now().toString(36).toUpperCase()
      const common = {
        tmp,
        keys,
        merchantBody,
        forward,
        plan,
        loadgen,
        listener,
        log,
        runId,
        // How the Workers run: wrangler's local observability collector, paygate's LOG_LEVEL.
        workers: { localObservability: values['local-observability'], logLevel },
      }
      for (const system of systems) {
        results.e2e[system] = await runSystem(system, common)
        if (system !== 'paygate') continue
        // The meters come from a second run of paygate with METER = "on": its log lines are work in wrangler dev's console
        // pipeline that a deployment does not do, so the throughput figures come from the run without, as deployed.
        log('  paygate again, with METER = "on", for its rows, D1 transactions and queue messages:')
        const metered = await runSystem(system, { ...common, metered: true })
        results.e2e.paygate.meters = metered.meters
        results.e2e.paygate.meteredRun = {
          best: metered.best,
          steps: metered.steps.map((step) => ({ label: step.label, acceptedPerSecond: step.acceptedPerSecond })),
        }
      }
      if (systems.includes('paygate') && systems.includes('floor') && roundCount > 1) {
        results.rounds = [{ round: 1, paygate: results.e2e.paygate, floor: results.e2e.floor }]
        for (let round = 2; round <= roundCount; round++) {
          log(`  round ${round} of ${roundCount}: paygate and the floor Worker again, from fresh state`)
          // Alternating which goes first, so a drift of the machine over the run weighs on both alike.
          const order = round % 2 === 0 ? ['floor', 'paygate'] : ['paygate', 'floor']
          const again = { round }
          for (const system of order) again[system] = await runSystem(system, { ...common, round })
          results.rounds.push(again)
        }
      }
    }
  } finally {
    if (loadgen) await loadgen.stop()
    if (listener) await listener.stop()
    await stopAll()
  }
  results.facts.seconds = (performance.now() - clock) / 1000
  const left = leftovers(tmp)
  results.facts.processesLeft = left

  log(`\n${report(results)}`)
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`)
  log(`\nbench finished in ${results.facts.seconds.toFixed(0)} s; processes left behind: ${left.length === 0 ? 'none' : left.join(', ')}`)
  removeTemporaryDirectory()
  return left.length === 0 ? 0 : 1
}

function preflight() {
  const [major, minor] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 5))
    throw new BenchError(`Node ${process.versions.node}: the bench needs Node ≥ 22.5 (npm scripts use the project's node devDependency)`)
  try {
    readFileSync('/proc/self/stat')
  } catch {
    throw new BenchError('the bench reads CPU and memory from /proc: it runs on Linux only')
  }
}

class BenchError extends Error {
  name = 'BenchError'
}

function versions() {
  const workerdBinary = join(ROOT, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd')
  let workerd = 'unknown'
  try {
    workerd = execFileSync(workerdBinary, ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^workerd\s+/, '')
  } catch {
    // Reported as unknown.
  }
  const pkg = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
  return { node: process.versions.node, workerd, wrangler: pkg('wrangler'), alipaySdk: pkg('alipay-sdk') }
}

function commandLine(values) {
  const args = [
    values.quick && '--quick',
    values.only && `--only ${values.only}`,
    values.profile && '--profile',
    values.rounds && `--rounds ${values.rounds}`,
    values['state-dir'] && `--state-dir ${values['state-dir']}`,
    values['local-observability'] && '--local-observability',
    values['log-level'] && `--log-level ${values['log-level']}`,
  ].filter(Boolean)
  return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
}

/**
 * A Node child with an IPC channel, in its own process group. `request(message, replyType)` sends a message and
 * resolves with the first reply of that type.
 */
async function startChild(name, script, args, logFile, readyType) {
  const handle = startGroup(name, process.execPath, [script, ...args], { cwd: ROOT, env: process.env, logFile, ipc: true })
  const child = handle.child
  const waiters = []
  child.on('message', (message) => {
    if (message.type === 'error') {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`${name}: ${message.message}`))
      return
    }
    const at = waiters.findIndex((w) => w.type === message.type)
    if (at !== -1) waiters.splice(at, 1)[0].resolve(message)
  })
  handle.exited.then(({ code, signal }) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`${name} exited (${signal ?? code}); see ${logFile}`))
  })
  const wait = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const waiter = { type, resolve, reject }
      waiters.push(waiter)
      const timer = setTimeout(() => {
        const at = waiters.indexOf(waiter)
        if (at !== -1) waiters.splice(at, 1)
        reject(new Error(`${name} did not answer ${type} within ${timeoutMs / 1000} s`))
      }, timeoutMs)
      timer.unref()
    })
  if (readyType) await wait(readyType, 10_000)
  return {
    pid: child.pid,
    request(message, replyType, timeoutMs = 60_000) {
      const reply = wait(replyType, timeoutMs)
      child.send(message)
      return reply
    },
    async stop() {
      if (child.connected) child.send({ type: 'exit' })
      await Promise.race([handle.exited, new Promise((resolve) => setTimeout(resolve, 2_000))])
      await stopGroup(handle)
    },
  }
}

/** Any process still alive from this run: tracked groups, or anything whose command line names our temp dir. */
function leftovers(tmp) {
  const pids = new Set(survivors())
  try {
    const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    for (const line of ps.split('\n')) {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line)
      if (match?.[2].includes(tmp) && Number(match[1]) !== process.pid) pids.add(Number(match[1]))
    }
  } catch {
    // ps missing: the tracked groups were checked above.
  }
  return [...pids]
}

function removeTemporaryDirectory() {
  if (run.tmp !== null && !run.keep) rmSync(run.tmp, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (run.interrupted) return
    run.interrupted = true
    console.error(`\nbench: ${signal}, stopping everything it started`)
    stopAllOnce()
      .then(removeTemporaryDirectory)
      .finally(() => process.exit(130))
  })
}
process.on('exit', killAllNow)

main()
  .then((code) => {
    process.exitCode = code
  })
  .catch(async (error) => {
    // Interrupted: the signal handler stops everything and exits; what failed meanwhile is its doing.
    if (run.interrupted) return
    await stopAllOnce()
    console.error(`bench: ${error instanceof BenchError ? error.message : (error?.stack ?? error)}`)
    // Kept on failure: the logs in it say what went wrong.
    if (run.tmp !== null) console.error(`bench: logs and state kept in ${run.tmp}`)
    process.exitCode = 1
  })
