// `wrangler dev` for the benchmark, through wrangler's own dev-server API (`unstable_startWorker`, what the
// `wrangler dev` command runs), so that one option the command line cannot set is set: no inspector. The
// command always starts the Worker's workerd with `--inspector-addr`, which no production Worker has, and with
// it workerd ran some plain JavaScript loops far slower in our checks (a byte scan 25×). Everything else is the
// command's: the same Miniflare, local D1 and Durable Objects, the same local proxy in front of the Worker.
//
//   node bench/lib/dev-server.mjs '<json options>'   options: config, port, persistTo, envFile, vars
//
// With the var METER = "on", the Worker's log lines that are meter events (`"event":"meter.…"`, bench/lib/meters.mjs) are
// printed to stdout as they are, one per line, besides its warnings and errors; its other info lines stay dropped
// (the `warn` log level), as without it.
//
// Prints `ready` once the Worker answers; SIGTERM disposes of it (and the workerd processes it started).
import { unstable_startWorker } from 'wrangler'

const options = JSON.parse(process.argv[2])
const METER_EVENT = /"event"\s*:\s*"meter\./

/** The Worker's console lines: warnings and errors as wrangler prints them at `warn`, plus meter lines when asked. */
function structuredLogsHandler({ level, message }) {
  if (level === 'error') console.error(message)
  else if (level === 'warn') console.warn(message)
  else if (METER_EVENT.test(message)) process.stdout.write(`${message}\n`)
}

const worker = await unstable_startWorker({
  config: options.config,
  ...(options.envFile ? { envFiles: [options.envFile] } : {}),
  bindings: Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: 'plain_text', value }])),
  build: { bundle: false },
  dev: {
    server: { hostname: '127.0.0.1', port: options.port },
    inspector: false,
    persist: options.persistTo,
    watch: false,
    liveReload: false,
    logLevel: 'warn',
    registry: undefined,
    ...(options.vars?.METER === 'on' ? { structuredLogsHandler } : {}),
  },
})
await worker.ready
console.log(`ready ${options.port}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await worker.dispose()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
