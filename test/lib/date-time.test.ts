/** One check that a date-time names a real instant, for the admin API's times and the providers' alike. */
import { describe, expect, it } from 'vitest'
import { parseDateTime } from '../../src/lib/date-time'
import { beijingTimeToIso, rfc3339ToIso } from '../../src/providers/core/time'

describe('date-times', () => {
  it('read each form to the same instant', () => {
    expect(beijingTimeToIso('20261122175958')).toBe('2026-11-22T09:59:58Z')
    expect(beijingTimeToIso('2026-11-22 17:59:58.5')).toBe('2026-11-22T09:59:58.500Z')
    expect(rfc3339ToIso('2026-11-22T17:59:58+08:00')).toBe('2026-11-22T09:59:58Z')
    expect(new Date(parseDateTime('2026-11-22T17:59:58.123456+08:00')!).toISOString()).toBe('2026-11-22T09:59:58.123Z')
  })

  it('refuse a time that does not exist in every form, rather than roll it into the next month or day', () => {
    for (const unreal of ['2026-02-30T00:00:00+08:00', '2026-04-31T00:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T23:59:60Z']) {
      expect(rfc3339ToIso(unreal), unreal).toBeNull()
      expect(parseDateTime(unreal), unreal).toBeNull()
    }
    for (const unreal of ['20260230120000', '2026-02-29 12:00:00', '2026-11-22 24:00:00', '2026-13-01 00:00:00']) {
      expect(beijingTimeToIso(unreal), unreal).toBeNull()
    }
    expect(beijingTimeToIso('2028-02-29 12:00:00')).toBe('2028-02-29T04:00:00Z')
  })
})
