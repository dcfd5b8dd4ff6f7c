/**
 * `npm run admin -- orders get` of an order reduced to its tombstone says when (`compacted_at`), and says nothing of it
 * for one never compacted. The gateway's side (`compacted_at` in `GET …/orders/{no}`) is tested in
 * test/e2e/recovery.test.ts; here a stand-in answers as it does.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCli, standInGateway } from './cli-run'

const TOKEN = 'cli-orders-token'
const COMPACTED_AT = '2027-01-05T08:00:00.000Z'

const order = (outTradeNo: string, compactedAt: string | null) => ({
  merchant_id: 'm1',
  provider: 'alipay',
  out_trade_no: outTradeNo,
  status: 'paid',
  amount: 8888,
  expected_amount: null,
  currency: 'CNY',
  transaction_id: '2025120122001',
  paid_at: '2025-12-01T00:00:00Z',
  refunded_amount: 0,
  updated_at: '2025-12-01T00:00:00Z',
  compacted_at: compactedAt,
  events: [],
  deliveries: [],
  notifications: [],
  refunds: [],
  reconciliation: null,
  other_providers: [],
})

let gateway: Awaited<ReturnType<typeof standInGateway>>

beforeAll(async () => {
  const orders: Record<string, unknown> = {
    '/admin/merchants/m1/orders/T-OLD': order('T-OLD', COMPACTED_AT),
    '/admin/merchants/m1/orders/T-NEW': order('T-NEW', null),
  }
  gateway = await standInGateway(({ method, url, authorization }) =>
    method === 'GET' && authorization === `Bearer ${TOKEN}` && orders[url] !== undefined ? { json: orders[url] } : null,
  )
})

afterAll(() => gateway.close())

function ordersGet(outTradeNo: string) {
  return runCli({ url: gateway.url, token: TOKEN }, 'orders', 'get', 'm1', outTradeNo)
}

it('says when an order was reduced to its tombstone, and nothing of it for one that never was', async () => {
  const compacted = await ordersGet('T-OLD')
  expect(compacted.code).toBe(0)
  expect(compacted.stdout).toMatch(new RegExp(`^compacted_at\\s+${COMPACTED_AT.replaceAll('.', '\\.')}$`, 'm'))
  const kept = await ordersGet('T-NEW')
  expect(kept.code).toBe(0)
  expect(kept.stdout).toMatch(/^status\s+paid$/m)
  expect(kept.stdout).not.toContain('compacted_at')
})
