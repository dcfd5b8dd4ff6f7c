/**
 * Hostile input, round 3: cost and state amplification through the real Worker. A request nobody signed must not
 * make the gateway keep anything, or wake an object, beyond what docs/security.md counts for it ("Residual risks",
 * floods); each test failed before its fix.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { MerchantReplica, merchantReplica } from '../../src/merchants/merchant-replica'
import { callWorker, freshPayment, notifyRequest, rejectReply, unavailableD1 } from './harness'

/** The tables an object holds (SQLite's own and the runtime's left out); reading them stores nothing. */
function tablesOf(state: DurableObjectState): string[] {
  return state.storage.sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    .toArray()
    .map((row) => row.name)
}

describe('floods of unsigned requests', () => {
  it('while D1 is down, notifications for merchant ids nobody registered get 503 and leave no replica object behind', async () => {
    const asked = vi.spyOn(MerchantReplica.prototype, 'get')
    const d1 = unavailableD1()
    const ids = ['nobody-1', 'nobody-2', `nobody-${'x'.repeat(57)}`]
    for (const merchantId of ids) {
      const payment = freshPayment('alipay')
      const response = await callWorker(notifyRequest('alipay', merchantId, payment), { DB: d1.db })
      expect({ status: response.status, body: await response.text() }).toEqual(rejectReply('alipay', 503, ''))
    }
    // D1 was tried, then each id's replica (D1 cannot say whether the merchant exists), which had nothing.
    expect(d1.calls()).toBe(ids.length)
    expect(asked).toHaveBeenCalledTimes(ids.length)
    for (const merchantId of ids) {
      await runInDurableObject(merchantReplica(env, merchantId), (_replica, state) => expect(tablesOf(state)).toEqual([]))
    }
  })
})
