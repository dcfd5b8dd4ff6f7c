/**
 * @module Request bodies from the command line: a JSON file (`--file`), PEM keys and other values read from files
 * (`--key wechatpay.merchantPrivateKey=@apiclient_key.pem`), literal values (`--set forward.url=https://…`) and
 * removals for a patch (`--unset forward.previousSecret`). Paths are dotted; a `@file` is read as UTF-8 text, from the
 * directory the command was typed in.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * A path as the operator typed it, from the directory they typed it in: `npm run admin` runs the CLI from the
 * package's root and says where it was called from in INIT_CWD. Only then: a CLI started otherwise (by a script run
 * under some other npm command, which leaves its own INIT_CWD in the environment) is in the caller's directory.
 */
export function fromCallerDirectory(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const called = env.npm_lifecycle_event === 'admin' ? env.INIT_CWD : undefined
  return resolve(called ?? process.cwd(), path)
}

/** A file's text, or a UsageError naming the full path tried and why (no such file, not allowed, a directory). */
function readText(path: string, flag: string): string {
  const full = fromCallerDirectory(path)
  try {
    // A BOM (some Windows editors write one) is no part of a key or a JSON body.
    return readFileSync(full, 'utf8').replace(/^\uFEFF/, '')
  } catch (error) {
    const code = (error as { code?: string }).code
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory'
            : (code ?? 'cannot be read')
    throw new UsageError(`${flag}: ${full} cannot be read (${why})`)
  }
}

function readJsonFile(path: string): Record<string, unknown> {
  const text = readText(path, '--file')
  const full = fromCallerDirectory(path)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // Node's message names the position ("… in JSON at position 120 (line 7 column 3)"), never the file's secrets.
    const where = /position \d+(?: \(line \d+ column \d+\))?/.exec((error as Error).message)?.[0]
    throw new UsageError(`--file ${full}: not valid JSON${where === undefined ? '' : ` (at ${where})`}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--file ${full}: must hold a JSON object`)
  return value as Record<string, unknown>
}

/** Sets `value` at a dotted path, creating objects on the way. */
function setPath(body: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  if (keys.some((key) => key === '')) throw new UsageError(`${path}: not a dotted field path`)
  let node = body
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    if (next === undefined) node[key] = {}
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new UsageError(`${path}: ${key} is not an object`)
    node = node[key] as Record<string, unknown>
  }
  node[keys[keys.length - 1]!] = value
}

function split(option: string, flag: string, form: string): [string, string] {
  const at = option.indexOf('=')
  if (at <= 0) throw new UsageError(`${flag} ${option}: expected ${form}`)
  return [option.slice(0, at), option.slice(at + 1)]
}

/** `--key name=@file`: the file's text. A value without `@` is refused: it would be stored as the secret itself. */
function keyAssignment(option: string): [string, string] {
  const [name, value] = split(option, '--key', 'name=@file')
  if (!value.startsWith('@')) {
    throw new UsageError(`--key ${name}=…: --key reads a file, written name=@path; for a value typed in, use --set ${name}=…`)
  }
  // A key file's final newline is no part of the key (and would make a 32-character API key 33).
  return [name, readText(value.slice(1), `--key ${name}`).replace(/\s+$/, '')]
}

/**
 * `--set name=value`: text, but for `true`, `false` and a JSON list (`["wx1","wx2"]`), sent as such: the fields that
 * take those take no text, and no text field's value is one.
 */
function setAssignment(option: string): [string, unknown] {
  const [name, value] = split(option, '--set', 'name=value')
  if (value === 'true' || value === 'false') return [name, value === 'true']
  if (value.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(value)
      if (Array.isArray(list)) return [name, list]
    } catch {
      // Not JSON: refused below rather than sent as text no list field takes.
    }
    throw new UsageError(`--set ${name}=${value}: a list is written as JSON, such as ["wx1","wx2"] (quote it for the shell)`)
  }
  return [name, value]
}

export interface BodyOptions {
  file?: string
  key?: string[]
  set?: string[]
  unset?: string[]
}

/** The body the options describe: the file's object, then each `--key`, `--set` and `--unset` applied in that order. */
export function buildBody(options: BodyOptions): Record<string, unknown> {
  const body = options.file === undefined ? {} : readJsonFile(options.file)
  for (const option of options.key ?? []) setPath(body, ...keyAssignment(option))
  for (const option of options.set ?? []) setPath(body, ...setAssignment(option))
  for (const path of options.unset ?? []) setPath(body, path, null)
  return body
}
