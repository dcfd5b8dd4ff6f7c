/**
 * ORDER_RETENTION_DAYS is read strictly: a number of days, or the default with an error line naming the value, where a
 * typo ("30d", "-1") once became 30 days or 400 without a word.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { retentionMs } from '../../src/order/retention'

const DAY_MS = 24 * 3600_000

function errorLines(spy: ReturnType<typeof vi.spyOn>): Record<string, unknown>[] {
  return spy.mock.calls.map((call: unknown[]) => JSON.parse(String(call[0])) as Record<string, unknown>)
}

describe('ORDER_RETENTION_DAYS', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('takes a number of days, whole or decimal, from the string wrangler.toml gives or from a number', () => {
    expect(retentionMs({ ORDER_RETENTION_DAYS: '400' })).toBe(400 * DAY_MS)
    expect(retentionMs({ ORDER_RETENTION_DAYS: ' 30 ' })).toBe(30 * DAY_MS)
    expect(retentionMs({ ORDER_RETENTION_DAYS: '0.5' })).toBe(DAY_MS / 2)
    expect(retentionMs({ ORDER_RETENTION_DAYS: '0' })).toBe(0)
    expect(retentionMs({ ORDER_RETENTION_DAYS: 7 as unknown as string })).toBe(7 * DAY_MS)
    expect(retentionMs({ ORDER_RETENTION_DAYS: '36500' })).toBe(36_500 * DAY_MS)
  })

  it('uses 400 days when unset, without a line', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(retentionMs({ ORDER_RETENTION_DAYS: '' })).toBe(400 * DAY_MS)
    expect(retentionMs({} as { ORDER_RETENTION_DAYS: string })).toBe(400 * DAY_MS)
    expect(errors).not.toHaveBeenCalled()
  })

  it.each(['30d', '-1', '1e3', 'forever', '+5', '.5', '36501', '9'.repeat(400)])(
    'uses 400 days for %j and says so once, naming the value',
    (value) => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
      expect(retentionMs({ ORDER_RETENTION_DAYS: value })).toBe(400 * DAY_MS)
      expect(retentionMs({ ORDER_RETENTION_DAYS: value })).toBe(400 * DAY_MS)
      const lines = errorLines(errors).filter((line) => line.event === 'retention.misconfigured')
      expect(lines).toHaveLength(1)
      expect(lines[0]!.level).toBe('error')
      expect(lines[0]!.reason).toContain(JSON.stringify(value.slice(0, 40)))
      expect(lines[0]!.reason).toContain('400 days are used')
    },
  )
})
