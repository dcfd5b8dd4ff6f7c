/** @module Reading a record by a key that may come from outside, never reaching an inherited property. */

/** `record[key]` when the record has it as its own property; undefined otherwise (`__proto__`, `constructor`…). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}
