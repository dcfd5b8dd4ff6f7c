// Linux /proc readings for the benchmark: CPU time (utime + stime from /proc/<pid>/stat) and memory
// (VmRSS, VmHWM from /proc/<pid>/status) of the processes under test, and the process tree below a pid.
import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ); 100 on every Linux we run on, checked once. */
export const CLOCK_TICKS = readClockTicks()

function readClockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}

/** Fields of /proc/<pid>/stat after the `(comm)` part, which may itself contain spaces and parentheses. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return text.slice(text.lastIndexOf(')') + 2).split(' ')
}

/** CPU seconds (user + system) the process has used so far, or null when it is gone. */
export function cpuSeconds(pid) {
  try {
    const fields = statFields(pid)
    // After `(comm)`: state is index 0, so utime (field 14) is index 11 and stime (field 15) index 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}

/** `{ rssMiB, hwmMiB }` from /proc/<pid>/status, or null when the process is gone. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 }
  } catch {
    return null
  }
}

/** The full command line of a process ('' when gone). */
export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
  } catch {
    return ''
  }
}

function parentOf(pid) {
  try {
    return Number(statFields(pid)[1])
  } catch {
    return null
  }
}

/** The process group of a pid, or null when it is gone. */
export function processGroupOf(pid) {
  try {
    return Number(statFields(pid)[2])
  } catch {
    return null
  }
}

function allPids() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
}

/** Every live descendant of `root` (children, grandchildren…). */
export function descendants(root) {
  const children = new Map()
  for (const pid of allPids()) {
    const parent = parentOf(pid)
    if (parent === null) continue
    if (!children.has(parent)) children.set(parent, [])
    children.get(parent).push(pid)
  }
  const out = []
  const queue = [...(children.get(root) ?? [])]
  while (queue.length > 0) {
    const pid = queue.shift()
    out.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return out
}

/** Live pids whose process group is `pgid`. */
export function membersOfGroup(pgid) {
  return allPids().filter((pid) => processGroupOf(pid) === pgid)
}

/** CPU seconds summed over a set of pids (gone ones count as 0). */
export function cpuOf(pids) {
  let total = 0
  for (const pid of pids) total += cpuSeconds(pid) ?? 0
  return total
}

/** Machine facts for the report. */
export function machineFacts() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown'
  const meminfo = readFileSync('/proc/meminfo', 'utf8')
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0)
  const online = allCpus()
  return { cpuModel: model, cpus: online, memoryGiB: Math.round((memKiB / 1024 / 1024) * 10) / 10 }
}

function allCpus() {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
  } catch {
    return null
  }
}

/** The 1-minute load average: what else was running on the machine when the benchmark started. */
export function loadAverage() {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  } catch {
    return null
  }
}
