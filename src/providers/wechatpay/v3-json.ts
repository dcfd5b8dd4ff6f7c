/**
 * @module Reading WeChat Pay APIv3 JSON (notification resources, API answers): each field checked for its type, a
 * missing or mistyped one refused as `malformed_body`.
 */
import { fromUtf8 } from '../../crypto/encoding'
import { refuse } from '../core/rejection'
import { rfc3339ToIso } from '../core/time'

export type JsonFields = Record<string, unknown>

export function isFields(value: unknown): value is JsonFields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function parseJsonObject(bytes: Uint8Array, what: string): JsonFields {
  let value: unknown
  try {
    value = JSON.parse(fromUtf8(bytes))
  } catch {
    return refuse('malformed_body', `${what} is not UTF-8 JSON`)
  }
  if (!isFields(value)) refuse('malformed_body', `${what} is not a JSON object`)
  return value
}

export function requiredText(fields: JsonFields, name: string): string {
  const value = fields[name]
  if (typeof value !== 'string' || value === '') refuse('malformed_body', `${name} is missing`)
  return value
}

/** Null when absent; a present value must be a string. */
export function optionalText(fields: JsonFields, name: string): string | null {
  const value = fields[name]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') refuse('malformed_body', `${name} is not a string`)
  return value
}

export function requiredObject(fields: JsonFields, name: string): JsonFields {
  const value = fields[name]
  if (!isFields(value)) refuse('malformed_body', `${name} is missing`)
  return value
}

export function fen(fields: JsonFields, name: string): number {
  const value = fields[name]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    refuse('malformed_body', `amount.${name} is not a non-negative integer`)
  }
  return value
}

export function optionalInstant(fields: JsonFields, name: string): string | null {
  const text = optionalText(fields, name)
  if (text === null || text === '') return null
  return rfc3339ToIso(text) ?? refuse('malformed_body', `${name} is not an RFC 3339 time`)
}
