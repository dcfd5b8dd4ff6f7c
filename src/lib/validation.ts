/**
 * @module Validation of JSON bodies: one error naming the bad field, and the small readers every
 * schema (the merchant's, each provider's config section) is written with. The HTTP layer maps
 * `ValidationError` to the admin API's `invalid_request`.
 */

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
