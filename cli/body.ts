/**
 * @module Request bodies from the command line: a JSON file (`--file`), PEM keys and other values read from files
 * (`--key wechatpay.merchantPrivateKey=@apiclient_key.pem`), literal values (`--set forward.url=https://…`) and
 * removals for a patch (`--unset forward.previousSecret`). Paths are dotted; a `@file` is read as UTF-8 text.
 */
import { readFileSync } from 'node:fs'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function readJsonFile(path: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`--file ${path}: ${error instanceof SyntaxError ? 'not valid JSON' : 'cannot be read'}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--file ${path}: must hold a JSON object`)
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

/** `name=@file` (the file's text) or `name=value`. */
function assignment(option: string, flag: string): [string, string] {
  const at = option.indexOf('=')
  if (at <= 0) throw new UsageError(`${flag} ${option}: expected name=value or name=@file`)
  const name = option.slice(0, at)
  const value = option.slice(at + 1)
  if (!value.startsWith('@')) return [name, value]
  try {
    // A key file's final newline is no part of the key (and would make a 32-character API key 33).
    return [name, readFileSync(value.slice(1), 'utf8').replace(/\s+$/, '')]
  } catch {
    throw new UsageError(`${flag} ${option}: ${value.slice(1)} cannot be read`)
  }
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
  for (const option of options.key ?? []) setPath(body, ...assignment(option, '--key'))
  for (const option of options.set ?? []) setPath(body, ...assignment(option, '--set'))
  for (const path of options.unset ?? []) setPath(body, path, null)
  return body
}
