/**
 * Every rejection code has a meaning the console shows, and a row in docs/operations.md's "Why a notification was
 * refused" with the status the provider gets: the two say the same codes, and the docs the status the code maps to.
 */
import { describe, expect, it } from 'vitest'
import operations from '../../docs/operations.md?raw'
import { REJECTION_STATUS, type RejectionCode } from '../../src/providers/core/rejection'
import { REJECTION_MEANINGS, rejectionMeaning } from '../../src/providers/core/rejection-meanings'

/** The docs table's rows: each code it names, with the status of its row. */
function documented(): Map<string, string> {
  const section = operations.slice(operations.indexOf('### Why a notification was refused'))
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| reason |')))
    .split('\n')
    .filter((line) => line.startsWith('| `'))
  const codes = new Map<string, string>()
  for (const row of rows) {
    const [reasons = '', status = ''] = row.split(' | ')
    for (const [, code] of reasons.matchAll(/`([a-z_]+)`/g)) codes.set(code!, status.trim())
  }
  return codes
}

describe('rejection meanings', () => {
  it('has one for every code, and the docs list every code with the status it maps to', () => {
    const codes = Object.keys(REJECTION_STATUS) as RejectionCode[]
    expect(Object.keys(REJECTION_MEANINGS).sort()).toEqual([...codes].sort())
    const docs = documented()
    for (const code of codes) expect(docs.get(code), code).toBe(String(REJECTION_STATUS[code]))
  })

  it("reads an unsigned message's reason, and nothing for a reason it does not know", () => {
    expect(rejectionMeaning('unsigned: SYSTEMERROR')).toMatch(/^an unsigned message/)
    expect(rejectionMeaning('stale_timestamp')).toBe(REJECTION_MEANINGS.stale_timestamp)
    expect(rejectionMeaning('toString')).toBeNull()
  })
})
