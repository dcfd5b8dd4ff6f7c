/**
 * @module An upgrade from a release before the projection queue (D1 migrations up to 0006), in the order README's
 * "Migrate, then deploy" gives it: the new code deployed first with the queue paused, then the migrations. Those
 * releases' order objects write D1 themselves, so nothing pauses them: migrated first, they would write rows the new
 * consumer reads differently (an order row without its accepted count, counted again later). So the notify path must
 * need no table from 0007 on, and what is queued before the migrations must land once after them.
 */
import { applyD1Migrations, runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { beforeAll, describe, expect, it } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { objectRecord, type ProjectionRecord } from '../../src/storage/projection'
import { network } from '../msw'
import { callWorker, freshPayment, MERCHANT_ORIGIN, notifyRequest, ownKeys, registerMerchant } from '../security/harness'
import { inOrderStore } from '../support/orders'
import { consumeProjection } from '../support/projection-queue'

/** A D1 as a release before the projection queue left it: the migrations before 0007. */
const oldD1 = () => env.DB_SHARD_1

beforeAll(async () => {
  await applyD1Migrations(
    oldD1(),
    env.TEST_MIGRATIONS.filter((m) => m.name < '0007'),
  )
})

const consume = (records: ProjectionRecord[]) => consumeProjection(records, { DB: oldD1() })

/** The merchant as the old release saved it: its row in the old D1 (the merchants table is the same since 0001). */
async function copyMerchant(merchantId: string): Promise<void> {
  const row = await env.DB.prepare('SELECT * FROM merchants WHERE id = ?').bind(merchantId).first<Record<string, unknown>>()
  const columns = Object.keys(row!)
  await oldD1()
    .prepare(`INSERT INTO merchants (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    .bind(...columns.map((c) => row![c]))
    .run()
}

describe('upgrading from a release before the projection queue', () => {
  it('takes notifications before the migrations, and projects them once after', async () => {
    const merchantId = 'upgrade-old-d1'
    network.use(http.post(`${MERCHANT_ORIGIN}/hooks/:merchantId`, () => HttpResponse.text('ok')))
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    await copyMerchant(merchantId)

    // Deployed, not migrated yet: the payment is accepted and forwarded; its record waits (the queue retries it).
    const payment = freshPayment('alipay', { identity: ownKeys(merchantId) })
    const reply = await callWorker(notifyRequest('alipay', merchantId, payment), { DB: oldD1() })
    expect(reply.status).toBe(200)
    const order = { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }
    await runDurableObjectAlarm(orderStub(env, order))
    const record = await inOrderStore(order, (store) => objectRecord(store))
    expect(record.kind === 'object' && record.deliveries.map((d) => d.status)).toEqual(['delivered'])
    const waiting = await consume([record])
    expect(waiting.retryMessages).toHaveLength(1)
    expect(waiting.explicitAcks).toEqual([])

    // Migrated: the same record lands, counted once however often it comes.
    await applyD1Migrations(oldD1(), env.TEST_MIGRATIONS)
    for (const records of [[record], [record, record]]) {
      const landed = await consume(records)
      expect(landed.retryMessages).toEqual([])
      const row = await oldD1()
        .prepare('SELECT status, accepted_notifications FROM orders WHERE merchant_id = ? AND out_trade_no = ?')
        .bind(merchantId, payment.outTradeNo)
        .first()
      expect(row).toEqual({ status: 'paid', accepted_notifications: 1 })
      const stats = await oldD1()
        .prepare('SELECT sum(accepted) AS accepted, sum(delivered) AS delivered FROM merchant_stats WHERE merchant_id = ?')
        .bind(merchantId)
        .first()
      expect(stats).toEqual({ accepted: 1, delivered: 1 })
    }
  })
})
