// Every process the benchmark starts, each in its own process group, so that stopping it stops everything
// it started (wrangler's two workerd processes included). `stopAll()` runs on every way out.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { membersOfGroup } from './proc.mjs'

const started = new Set()

/**
 * Spawns `command args` as the leader of a new process group, its output to `logFile`.
 * Returns `{ child, pgid, name, exited }` where `exited` resolves with `{ code, signal }`.
 */
export function startGroup(name, command, args, { cwd, env, logFile, ipc = false }) {
  const log = createWriteStream(logFile, { flags: 'a' })
  const child = spawn(command, args, {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  })
  child.stdout.pipe(log, { end: false })
  child.stderr.pipe(log, { end: false })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const handle = { name, child, pgid: child.pid, exited, logFile }
  started.add(handle)
  exited.then(() => log.end())
  return handle
}

/** SIGTERM to the whole group, SIGKILL to whatever is left after `graceMs`; resolves once the group is empty. */
export async function stopGroup(handle, graceMs = 5_000) {
  if (!started.has(handle)) return
  signalGroup(handle.pgid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && membersOfGroup(handle.pgid).length > 0) await sleep(50)
  if (membersOfGroup(handle.pgid).length > 0) signalGroup(handle.pgid, 'SIGKILL')
  const killDeadline = Date.now() + 5_000
  while (Date.now() < killDeadline && membersOfGroup(handle.pgid).length > 0) await sleep(50)
  // A group that outlived SIGKILL stays tracked, so survivors() reports it.
  if (membersOfGroup(handle.pgid).length === 0) started.delete(handle)
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Stops every group still running, newest first. */
export async function stopAll() {
  for (const handle of [...started].reverse()) await stopGroup(handle)
}

let stopping = null

/** `stopAll()` once, however many signals and errors ask for it. */
export function stopAllOnce() {
  stopping ??= stopAll()
  return stopping
}

/** Synchronous last resort for `process.on('exit')`: SIGKILL to every group still tracked. */
export function killAllNow() {
  for (const handle of started) signalGroup(handle.pgid, 'SIGKILL')
}

/** Pids of the groups this run started that are still alive (for the final "nothing left behind" check). */
export function survivors() {
  const pids = []
  for (const handle of started) pids.push(...membersOfGroup(handle.pgid))
  return pids
}

export function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

/** Resolves once `url` answers any HTTP status; rejects after `timeoutMs` or when `exited` settles first. */
export async function waitUntilAnswering(url, { timeoutMs, exited, name }) {
  let gone = false
  exited?.then(() => {
    gone = true
  })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${name} exited before it answered on ${url}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      return
    } catch {
      await sleep(200)
    }
  }
  throw new Error(`${name} did not answer on ${url} within ${timeoutMs / 1000} s`)
}
