/** @module Readable output for people: aligned tables for lists, `key  value` lines for one record. `--json` bypasses all of it. */

type Cell = string | number | boolean | null | undefined

function text(value: Cell): string {
  if (value === null || value === undefined) return '-'
  return String(value)
}

/** Rows as an aligned table under a header; an empty list says so. */
export function table(rows: readonly Record<string, Cell>[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((column) => text(row[column])))
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)))
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')
}

/** Nested objects flattened to `a.b.c  value` lines; long values (PEM keys) shortened to their first line. */
export function record(value: unknown, prefix = ''): string {
  const lines: string[] = []
  const walk = (node: unknown, path: string): void => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const entries = Object.entries(node)
      if (entries.length === 0) lines.push(`${path}  {}`)
      for (const [key, child] of entries) walk(child, path === '' ? key : `${path}.${key}`)
      return
    }
    if (Array.isArray(node) && node.some((item) => item !== null && typeof item === 'object')) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`)
      return
    }
    const shown = Array.isArray(node) ? node.join(', ') : text(node as Cell)
    const firstLine = shown.split('\n')[0]!
    lines.push(`${path}  ${firstLine.length < shown.length ? `${firstLine} …` : shown}`)
  }
  walk(value, prefix)
  const width = Math.max(...lines.map((l) => l.indexOf('  ')))
  return lines.map((l) => l.slice(0, l.indexOf('  ')).padEnd(width) + l.slice(l.indexOf('  '))).join('\n')
}

/**
 * A delivery's status as people read it. A pending one with no time of its own waits behind an earlier delivery of its
 * order (events reach the merchant in order): said, since `pending` alone reads as "about to be sent". `--json` keeps
 * the API's status.
 */
export function deliveryState(d: { status: string; attempts: number; next_attempt_at: string | null }): string {
  if (d.status !== 'pending') return d.status
  if (d.next_attempt_at === null) return 'pending (behind an earlier event; recover it if it failed)'
  return d.attempts > 0 ? `pending (retrying, ${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'} so far)` : 'pending'
}
