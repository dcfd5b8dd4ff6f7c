/**
 * @module JSON Merge Patch (RFC 7396): absent members keep their value, `null` removes one, objects merge member by
 * member, anything else replaces. Built on own properties only, so a `__proto__` member is data like any other.
 * @see https://www.rfc-editor.org/rfc/rfc7396
 */
import { ownValue } from './own'

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const result: Record<string, unknown> = Object.create(null)
  if (isObject(target)) for (const key of Object.keys(target)) define(result, key, target[key])
  for (const key of Object.keys(patch)) {
    const value = patch[key]
    if (value === null) delete result[key]
    else define(result, key, applyMergePatch(ownValue(result, key), value))
  }
  // A plain object again, its members as defined above (`__proto__` included, as an own member).
  return Object.defineProperties({}, Object.getOwnPropertyDescriptors(result))
}

function define(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}
