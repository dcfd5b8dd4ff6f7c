/**
 * `LOG_LEVEL`: which lines the gateway writes. The level is read from the Worker's env on every line, so a test
 * changes it with `withEnv` for the lines it writes inside.
 */
import { env, withEnv } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { log, lowestLevel, meter } from '../../src/lib/log'
import { capturedLines } from '../support/console-capture'

/** The `event` of every line `write` produced with LOG_LEVEL set to `level` (undefined: unset). */
function eventsLogged(level: string | undefined, write: () => void): string[] {
  const before = capturedLines.length
  withEnv({ ...env, LOG_LEVEL: level }, write)
  return capturedLines.slice(before).map((line) => (JSON.parse(line) as { event: string }).event)
}

function oneOfEach(): void {
  log('info', { event: 'an.info' })
  log('warn', { event: 'a.warning' })
  log('error', { event: 'an.error' })
}

describe('LOG_LEVEL', () => {
  it('writes every line when unset, or set to info', () => {
    expect(eventsLogged(undefined, oneOfEach)).toEqual(['an.info', 'a.warning', 'an.error'])
    expect(eventsLogged('info', oneOfEach)).toEqual(['an.info', 'a.warning', 'an.error'])
  })

  it('drops info lines at warn, and warnings too at error', () => {
    expect(eventsLogged('warn', oneOfEach)).toEqual(['a.warning', 'an.error'])
    expect(eventsLogged('error', oneOfEach)).toEqual(['an.error'])
  })

  it('reads the level whatever its case and spaces, and takes anything it does not know for info', () => {
    expect(lowestLevel(' WARN ')).toBe('warn')
    expect(lowestLevel('Error')).toBe('error')
    for (const unknown of ['debug', 'verbose', 'warning', '', undefined]) expect(lowestLevel(unknown)).toBe('info')
    expect(eventsLogged('warning', oneOfEach)).toEqual(['an.info', 'a.warning', 'an.error'])
  })

  it("keeps the bench's meter lines whatever the level, and only with METER on", () => {
    const meterLine = () => meter({ METER: 'on' }, { event: 'meter.object', rows_written: 5 })
    expect(eventsLogged('error', meterLine)).toEqual(['meter.object'])
    expect(eventsLogged('error', () => meter({}, { event: 'meter.object' }))).toEqual([])
  })
})
