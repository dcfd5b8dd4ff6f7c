/**
 * The retention walk's reads on the migrated D1: a merchant's orders by key, then its subjects each once however many
 * deliveries they have, page by page from the last key taken, and nothing of another merchant.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { storedObjectsAfter, type StoredObjectKey, type StoredObjectKind } from '../../src/storage/stored-objects'

const M = 'walk-shop'
const NOW = '2026-11-01T00:00:00.000Z'

beforeAll(async () => {
  const order = (merchantId: string, provider: string, no: string) =>
    env.DB.prepare(
      `INSERT INTO orders (merchant_id, provider, out_trade_no, status, version, updated_at) VALUES (?, ?, ?, 'paid', 1, ?)`,
    ).bind(merchantId, provider, no, NOW)
  const delivery = (id: string, merchantId: string, provider: string, subjectKey: string | null, outTradeNo: string | null) =>
    env.DB.prepare(
      `INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, subject_key, event_id, type, status, created_at, updated_at, version)
       VALUES (?, ?, ?, ?, ?, ?, 'provider.notification', 'delivered', ?, ?, 1)`,
    ).bind(id, merchantId, provider, outTradeNo, subjectKey, `evt_${id}`, NOW, NOW)
  await env.DB.batch([
    order(M, 'wechatpay', 'B-2'),
    order(M, 'alipay', 'A-1'),
    order(M, 'wechatpay', 'A-1'),
    order('other-shop', 'alipay', 'A-0'),
    // A subject with three notifications, one with one, and an order's delivery (no subject).
    delivery('d1', M, 'wechatpay', 'TRANSFER-1', null),
    delivery('d2', M, 'wechatpay', 'TRANSFER-1', null),
    delivery('d3', M, 'alipay', 'SERVICE-9', null),
    delivery('d4', M, 'wechatpay', 'TRANSFER-1', null),
    delivery('d5', M, 'alipay', null, 'A-1'),
    delivery('d6', 'other-shop', 'alipay', 'SERVICE-0', null),
  ])
})

/** Every key of a kind, walked `limit` at a time from the last key taken. */
async function walk(kind: StoredObjectKind, limit: number): Promise<string[][]> {
  const pages: string[][] = []
  let after: StoredObjectKey | null = null
  for (;;) {
    const rows = await storedObjectsAfter(env.DB, kind, M, after, limit)
    if (rows.length === 0) return pages
    pages.push(rows.map((r) => `${r.provider}:${r.out_trade_no ?? r.subject_key}`))
    const last = rows.at(-1)!
    after = [last.provider, last.out_trade_no ?? last.subject_key ?? '']
  }
}

describe('the stored objects a retention walk asks', () => {
  it('lists the merchant’s orders by provider and order number, a page after the last', async () => {
    expect(await walk('orders', 2)).toEqual([['alipay:A-1', 'wechatpay:A-1'], ['wechatpay:B-2']])
    const rows = await storedObjectsAfter(env.DB, 'orders', M, null, 10)
    expect(rows[0]).toEqual({ provider: 'alipay', out_trade_no: 'A-1', subject_key: null })
  })

  it('lists each subject once, however many deliveries it has, and no order’s delivery', async () => {
    expect(await walk('subjects', 1)).toEqual([['alipay:SERVICE-9'], ['wechatpay:TRANSFER-1']])
    const rows = await storedObjectsAfter(env.DB, 'subjects', M, null, 10)
    expect(rows).toEqual([
      { provider: 'alipay', out_trade_no: null, subject_key: 'SERVICE-9' },
      { provider: 'wechatpay', out_trade_no: null, subject_key: 'TRANSFER-1' },
    ])
  })
})
