/**
 * @module `npm run admin -- <command>`: the admin API from a terminal, on the client typed by its OpenAPI document.
 * Readable tables by default, `--json` for scripts (the API's replies, unchanged). PAYGATE_URL and
 * PAYGATE_ADMIN_TOKEN say which gateway; without them, the local dev gateway (`npm run dev`).
 */
import { parseArgs } from 'node:util'
import { UsageError } from './body.ts'
import { ApiError, createAdminClient, NoAnswer } from './client.ts'
import { COMMANDS, OPTIONS, type CommandSpec } from './command-table.ts'
import type { Options } from './commands.ts'
import { ConfigError, readConfig } from './config.ts'

const FOOTER = `  --json   print the API's JSON replies instead of tables
  PAYGATE_URL (default http://localhost:8787, or the PORT of .dev.vars), PAYGATE_ADMIN_TOKEN (default: ADMIN_TOKEN from .dev.vars, locally)
  --key name=@file reads a file (PEM keys) into a dotted field of the body; --set name=value sets a text value
  (true, false and a JSON list such as ["wx1","wx2"] are sent as such); relative paths are from the current directory.`

const usage = (specs: readonly CommandSpec[]): string =>
  `npm run admin -- <command> [options]\n\n${specs.map((spec) => `  ${spec.usage}`).join('\n')}\n\n${FOOTER}`

const USAGE = usage(Object.values(COMMANDS))

/** The commands whose first word is `group` (`merchants` → list, get, put, patch). */
function commandsOf(group: string): string[] {
  return Object.keys(COMMANDS).filter((name) => name.startsWith(`${group} `))
}

/** The closest of `words` to `word`, when it is one or two edits away (a typo). */
function closest(word: string, words: readonly string[]): string | null {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      const current = [i]
      for (let j = 1; j <= b.length; j++) {
        current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.length]!
  }
  const ranked = words.map((w) => [w, distance(word, w)] as const).sort((x, y) => x[1] - y[1])
  return ranked[0] !== undefined && ranked[0][1] <= 2 ? ranked[0][0] : null
}

type Resolved = { help: string } | { name: string; spec: CommandSpec; args: string[] }

/** Which command the words name, and its arguments; or the help to print for `--help`, `help` or a group alone. */
function resolve(positionals: readonly string[], help: boolean): Resolved {
  const [first = '', second] = positionals
  const pair = `${first} ${second ?? ''}`.trim()
  if (COMMANDS[pair] !== undefined && second !== undefined) return { name: pair, spec: COMMANDS[pair], args: positionals.slice(2) }
  if (COMMANDS[first] !== undefined) return { name: first, spec: COMMANDS[first], args: positionals.slice(1) }
  if (first === 'help') return { help: USAGE }
  const group = commandsOf(first)
  if (group.length > 0) {
    const actions = group.map((name) => name.slice(first.length + 1))
    if (help && second === undefined) return { help: usage(group.map((name) => COMMANDS[name]!)) }
    if (second === undefined) throw new UsageError(`${first} needs one of: ${actions.join(', ')}`)
    const guess = closest(second, actions)
    throw new UsageError(
      `unknown command: ${pair}${guess === null ? '' : ` (did you mean ${first} ${guess}?)`}; ${first} takes ${actions.join(', ')}`,
    )
  }
  const firstWords = [...new Set(Object.keys(COMMANDS).map((name) => name.split(' ')[0]!))]
  const guess = closest(first, firstWords)
  throw new UsageError(`unknown command: ${pair}${guess === null ? '' : ` (did you mean ${guess}?)`}`)
}

/** A command's usage line without its note (what follows two spaces or a line break). */
const usageLine = (spec: CommandSpec): string => spec.usage.split('\n')[0]!.split('  ')[0]!

/** The command's arguments and options as it takes them: a missing one, an extra one or another command's option is refused. */
function checkInvocation(name: string, spec: CommandSpec, args: readonly string[], given: readonly string[]): void {
  const optional = spec.optionalArgs ?? []
  const missing = spec.args[args.length]
  if (missing !== undefined) throw new UsageError(`missing <${missing}>: ${usageLine(spec)}`)
  const extra = args[spec.args.length + optional.length]
  if (extra !== undefined) {
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)}: ${usageLine(spec)} (one command per call)`)
  }
  const foreign = given.filter((option) => !(spec.options as readonly string[]).includes(option))
  if (foreign.length > 0) {
    const takes = spec.options.length === 0 ? 'no options' : spec.options.map((option) => `--${option}`).join(', ')
    const list = foreign.map((option) => `--${option}`).join(', ')
    throw new UsageError(`${name} does not take ${list} (it takes ${takes}); nothing was sent`)
  }
}

/** The arguments parsed; an unknown option is named with the nearest known one, where Node's message suggested none. */
function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    const unknown =
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec((error as Error).message)?.[1] : undefined
    if (unknown === undefined) throw error
    const guess = closest(unknown.replace(/^-+/, ''), Object.keys(OPTIONS))
    throw new UsageError(`unknown option ${unknown}${guess === null ? '' : ` (did you mean --${guess}?)`}`)
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv)
  const { json, help, ...given } = values
  if (positionals.length === 0) {
    console.log(USAGE)
    return help === true ? 0 : 2
  }
  const resolved = resolve(positionals, help === true)
  if ('help' in resolved) {
    console.log(resolved.help)
    return 0
  }
  const { name, spec, args } = resolved
  if (help === true) {
    console.log(`npm run admin -- ${spec.usage}\n\n${FOOTER}`)
    return 0
  }
  // Every check before the first request: a command refused for its arguments has changed nothing.
  checkInvocation(name, spec, args, Object.keys(given))
  const client = createAdminClient(readConfig())
  const progress = (line: string): void => void process.stderr.write(`${line}\n`)
  const output = await spec.run({ client, args, options: given as Options, progress })
  console.log(json === true ? JSON.stringify(output.json, null, 2) : output.text)
  return output.exitCode ?? 0
}

/**
 * How a failure is told: its code and message (stdout as JSON with `--json`, else a line on stderr) and the exit code:
 * 2 for a usage error (nothing sent), 1 for the API's refusal or no answer from it. Null: a bug, thrown as it is.
 */
function failureReport(error: unknown): { code: string; message: string; line: string; exitCode: number; status?: number } | null {
  if (error instanceof ApiError) {
    const { code, message, status } = error
    return { code, message, status, line: `${status} ${code}: ${message}`, exitCode: 1 }
  }
  if (error instanceof NoAnswer) return { code: error.code, message: error.message, line: error.message, exitCode: 1 }
  if (error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    const { message } = error as Error
    // The message first and alone: the commands are one `--help` away, not fifty lines below it.
    return { code: 'usage', message, line: `${message}\n(npm run admin -- --help lists the commands and options)`, exitCode: 2 }
  }
  return null
}

async function main(): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2))
  } catch (error) {
    const report = failureReport(error)
    if (report === null) throw error
    const { code, message, status, line, exitCode } = report
    if (process.argv.includes('--json'))
      console.log(JSON.stringify({ error: { code, message }, ...(status === undefined ? {} : { status }) }, null, 2))
    else console.error(`error: ${line}`)
    process.exitCode = exitCode
  }
}

await main()
