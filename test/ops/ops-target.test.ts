/**
 * Where ops webhooks go (from a docs audit: with one of OPS_WEBHOOK_URL and OPS_WEBHOOK_SECRET set and the other
 * forgotten, alerts were off and nothing said so): none configured is quiet, half configured is an error line.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { opsTarget } from '../../src/ops/target'

function errorsWhile(work: () => unknown): string[] {
  const lines: string[] = []
  const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => lines.push(String(line)))
  try {
    work()
  } finally {
    spy.mockRestore()
  }
  return lines
}

describe('opsTarget', () => {
  it('is the endpoint when both are set, nothing (quietly) when neither is, and nothing said loudly when one is missing', () => {
    const url = 'https://ops.example/paygate'
    const secret = env.OPS_WEBHOOK_SECRET!
    expect(opsTarget({ ...env, OPS_WEBHOOK_URL: url, OPS_WEBHOOK_SECRET: secret })).toEqual({ url, secret })
    expect(errorsWhile(() => expect(opsTarget({ ...env, OPS_WEBHOOK_URL: '', OPS_WEBHOOK_SECRET: ' ' })).toBeNull())).toEqual([])
    for (const [half, missing] of [
      [{ OPS_WEBHOOK_URL: url, OPS_WEBHOOK_SECRET: '' }, 'OPS_WEBHOOK_SECRET'],
      [{ OPS_WEBHOOK_URL: undefined, OPS_WEBHOOK_SECRET: secret }, 'OPS_WEBHOOK_URL'],
    ] as const) {
      const lines = errorsWhile(() => expect(opsTarget({ ...env, ...half })).toBeNull())
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        { level: 'error', event: 'ops.misconfigured', reason: `${missing} is not set: no ops webhook is sent` },
      ])
      expect(lines.join('\n')).not.toContain(secret)
    }
  })
})
