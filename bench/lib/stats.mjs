// Small numeric helpers for the benchmark report.

/** The p-th percentile (0–100) of `values` by nearest rank; null for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return null
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export function median(values) {
  return percentile(values, 50)
}

/** A number for a table: `digits` decimals, '—' for null. */
export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
