/**
 * @module Validation of JSON bodies: one error naming the bad field, and the small readers every
 * schema (the merchant's, each provider's config section) is written with. The HTTP layer maps
 * `ValidationError` to the admin API's `invalid_request`. Schemas are zod's: the same schema validates a
 * request and describes it in the OpenAPI document.
 */
import * as z from 'zod'

/** A value that does not fit its schema. `field` is the dotted path, `problem` what is wrong with it. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError'
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`)
  }
}

export type JsonObject = Record<string, unknown>

export function fail(path: string, problem: string): never {
  throw new ValidationError(path, problem)
}

export function fieldPath(parent: string, key: string): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key
  return parent === '' ? shown : `${parent}.${shown}`
}

/** `value` as an object whose keys are all in `allowed` (any keys when `allowed` is null). */
export function objectAt(value: unknown, path: string, allowed: readonly string[] | null, parent = path): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, value === undefined ? 'is required' : 'must be an object')
  }
  if (allowed !== null) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) fail(fieldPath(parent, key), `unknown field (expected one of ${allowed.join(', ')})`)
    }
  }
  return value as JsonObject
}

export function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, value === undefined ? 'is required' : 'must be a string')
  return value
}

/** A JSON object schema that refuses unknown keys, naming the ones it expects (as `objectAt` does). */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape): z.ZodObject<Shape, z.core.$strict> {
  const expected = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field (expected one of ${expected})` : undefined),
  })
}

/**
 * `value` parsed by `schema`, or a `ValidationError` naming the first bad field (`root` names the value
 * itself: `body`, or a query parameter's name). Field problems read as the hand-written checks did:
 * `is required`, `must be a string`, `unknown field (expected one of …)`, else the schema's own message.
 */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown, root = 'body'): z.output<Schema> {
  const result = schema.safeParse(value, { reportInput: true })
  if (result.success) return result.data
  const { path, problem } = describeIssue(firstIssue(result.error.issues))
  throw new ValidationError(path.length === 0 ? root : pathText(path, root), problem)
}

type Issue = z.core.$ZodIssue
type PathKey = PropertyKey

/**
 * The issue the hand-written validation would have reported: the first in document order, except that an
 * object's unknown keys come before anything inside that object (objects were checked for them first).
 */
function firstIssue(issues: readonly Issue[]): Issue {
  const first = issues[0]!
  const unknownAbove = issues.find(
    (issue) =>
      issue.code === 'unrecognized_keys' && issue.path.length <= first.path.length && issue.path.every((k, i) => first.path[i] === k),
  )
  return unknownAbove ?? first
}

const TYPE_PROBLEMS: Readonly<Record<string, string>> = {
  string: 'must be a string',
  object: 'must be an object',
  record: 'must be an object',
  boolean: 'must be true or false',
  number: 'must be a number',
  int: 'must be an integer',
  array: 'must be a list',
}

function describeIssue(issue: Issue): { path: PathKey[]; problem: string } {
  const path = [...issue.path]
  const missing = 'input' in issue ? issue.input === undefined : issue.code !== 'unrecognized_keys'
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    return { path, problem: 'is required' }
  }
  switch (issue.code) {
    case 'invalid_type':
      // A message the schema gave (`.int(AMOUNT_PROBLEM)`) says more than the type's; zod's own starts "Invalid input".
      if (!issue.message.startsWith('Invalid input')) return { path, problem: issue.message }
      return { path, problem: TYPE_PROBLEMS[issue.expected] ?? `must be ${issue.expected}` }
    case 'unrecognized_keys':
      return { path: [...path, issue.keys[0]!], problem: issue.message }
    case 'invalid_union': {
      // The option whose type matched reports from deeper inside (a bad list item): that is the useful message.
      const deeper = issue.errors.find((option) => option[0] !== undefined && option[0].path.length > 0)
      if (deeper === undefined) return { path, problem: issue.message }
      const inner = describeIssue(deeper[0]!)
      return { path: [...path, ...inner.path], problem: inner.problem }
    }
    default:
      return { path, problem: issue.message }
  }
}

/** `forward.url`, `<section>.<list>[0]`, `<section>.<map>.<key>` (long keys shortened). */
function pathText(path: readonly PathKey[], root: string): string {
  let text = ''
  for (const key of path) {
    if (typeof key === 'number') text = `${text === '' ? root : text}[${key}]`
    else text = fieldPath(text, String(key))
  }
  return text
}
