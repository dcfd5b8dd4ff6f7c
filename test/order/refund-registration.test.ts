/**
 * A refund registration refused by the order object itself (`registerRefund` re-judges inside its transaction,
 * whatever a check before said) writes nothing, and the check (`refundConflict`) judges by the same rules.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { FORWARD, SETTINGS, paymentNotification, refundNotification, stubFor, uniqueOrder } from '../support/orders'

/** Every row of the object's storage, as stored. */
function storedRows(order: ReturnType<typeof uniqueOrder>): Promise<unknown[]> {
  return runInDurableObject(stubFor(order), (_, state) =>
    state.storage.sql.exec('SELECT kind, key, body FROM records ORDER BY kind, key').toArray(),
  )
}

describe('order object: a refused refund registration', () => {
  it('writes nothing, not even newer forward settings, and the check names the same refusal', async () => {
    const order = uniqueOrder('RR')
    const stub = stubFor(order)
    for (const notification of [paymentNotification(order, {}, 100), refundNotification(order, 'R1', 30)]) {
      await stub.ingest({ order, notification, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    }
    const before = await storedRows(order)
    const newer = { forward: { ...FORWARD, url: 'https://merchant.example/newer' }, version: SETTINGS.version + 1 }

    for (const [request, conflict] of [
      [{ outRefundNo: 'R3', amount: 200 }, "the refund exceeds the order's amount (100)"],
      [{ outRefundNo: 'R1', amount: 40 }, 'the refund already succeeded with 30'],
      // R1's 30 is refunded: 70 is left.
      [{ outRefundNo: 'R3', amount: 71 }, 'the refund exceeds what is left to refund (70 of 100)'],
    ] as const) {
      expect(await stub.refundConflict(request)).toBe(conflict)
      expect(await stub.registerRefund(order, newer, { ...request, canQueryRefunds: false })).toEqual({ conflict })
    }
    expect(await storedRows(order)).toEqual(before)

    // The same refund with its own amount is no conflict, for the check and the registration alike; nor is the rest.
    expect(await stub.refundConflict({ outRefundNo: 'R3', amount: 70 })).toBeNull()
    expect(await stub.refundConflict({ outRefundNo: 'R1', amount: 30 })).toBeNull()
    expect(await stub.registerRefund(order, newer, { outRefundNo: 'R1', amount: 30, canQueryRefunds: false })).toEqual({
      status: 'partially_refunded',
      refundStatus: 'succeeded',
      conflict: null,
    })
  })
})
