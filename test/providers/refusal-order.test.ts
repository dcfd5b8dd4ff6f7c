/**
 * Which refusals name an order: only one thrown past `verify`, whose order number is the provider's. The pipeline
 * drops an order from any refusal thrown while parsing or verifying, whatever the adapter put on it.
 */
import { describe, expect, it } from 'vitest'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { NotifyRejection, refuse, refusingOrder } from '../../src/providers/core/rejection'
import type { ChannelAdapter, VerifiedNotification } from '../../src/providers/core/types'
import { rawNotification } from './contract'

function thrown(run: () => unknown): NotifyRejection {
  try {
    run()
  } catch (error) {
    if (error instanceof NotifyRejection) return error
    throw error
  }
  throw new Error('expected a refusal')
}

async function rejected(promise: Promise<unknown>): Promise<NotifyRejection> {
  const error = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  )
  if (error instanceof NotifyRejection) return error
  throw error
}

describe('refusingOrder', () => {
  it('names the order on a refusal thrown by its check, and passes a result through', () => {
    const error = thrown(() => refusingOrder('T-1', () => refuse('merchant_mismatch', 'mchid')))
    expect(error).toMatchObject({ code: 'merchant_mismatch', message: 'mchid', outTradeNo: 'T-1', status: 403 })
    expect(refusingOrder('T-1', () => 7)).toBe(7)
  })

  it('names no order that the gateway could not take (empty, too long, controls, not text)', () => {
    for (const named of ['', 'x'.repeat(65), 'T\n1', '..', 42, undefined, null]) {
      expect(thrown(() => refusingOrder(named, () => refuse('unsupported_event', 'x'))).outTradeNo).toBeNull()
    }
  })

  it('keeps the order a refusal already names, and lets other errors through', () => {
    const inner = () => refusingOrder('INNER', () => refuse('malformed_body', 'x'))
    expect(thrown(() => refusingOrder('OUTER', inner)).outTradeNo).toBe('INNER')
    expect(() => refusingOrder('T-1', () => JSON.parse('{'))).toThrow(SyntaxError)
  })
})

const payment = (outTradeNo: string, amount: number): VerifiedNotification => ({
  channel: 'testpay',
  provider: 'testpay',
  notificationId: 'n1',
  outTradeNo,
  effect: { kind: 'payment', amount, currency: 'CNY', transactionId: 'tx1', paidAt: null },
  raw: {},
})

/** A channel whose steps do what the test says: each either returns or throws. */
function adapter(steps: { verify?: () => unknown; normalize?: () => VerifiedNotification }): ChannelAdapter {
  return {
    channel: 'testpay',
    provider: 'testpay',
    path: 'testpay',
    parse: () => ({}),
    verify: async () => steps.verify?.(),
    normalize: async () => (steps.normalize ?? (() => payment('T-1', 100)))(),
    accept: () => new Response(null),
    reject: (error) => new Response(null, { status: error.status }),
  }
}

const run = (channel: ChannelAdapter) => verifyNotification(channel, rawNotification('{}'), {}, Date.now())

describe('verifyNotification: a refusal names an order only past verify', () => {
  it('drops the order from a refusal thrown while verifying', async () => {
    const forged = adapter({ verify: () => refusingOrder('T-FORGED', () => refuse('signature_invalid', 'no')) })
    expect(await rejected(run(forged))).toMatchObject({ code: 'signature_invalid', outTradeNo: null })
  })

  it('keeps the order a refusal of normalize names', async () => {
    const foreign = adapter({ normalize: () => refusingOrder('T-2', () => refuse('merchant_mismatch', 'appid')) })
    expect(await rejected(run(foreign))).toMatchObject({ code: 'merchant_mismatch', outTradeNo: 'T-2' })
  })

  it('names the order in a refusal of the facts checked after normalize (a payment of nothing)', async () => {
    const zero = adapter({ normalize: () => payment('T-3', 0) })
    expect(await rejected(run(zero))).toMatchObject({ code: 'malformed_body', outTradeNo: 'T-3' })
  })
})
