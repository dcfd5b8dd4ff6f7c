import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'

// D1 speaks SQLite: the migrations are replayed here on a Durable Object's own SQLite database, where a
// test can stop between two of them and look at the rows.
const byPrefix = (prefix: string) => env.TEST_MIGRATIONS.find((migration) => migration.name.startsWith(prefix))
const [init, openNames, providerNotifications] = [byPrefix('0001_'), byPrefix('0002_'), byPrefix('0005_')]
const script = (migration: typeof init) => migration!.queries.join(';\n')

/** Identity claims as the gateway writes them (`provider`, then the key's parts), read back as `provider / part / …`. */
function identities(sql: SqlStorage) {
  return {
    key: (...parts: string[]) => parts.join('\u001f'),
    claim: (identity: string, merchantId: string) =>
      sql.exec('INSERT INTO merchant_identities (identity, merchant_id) VALUES (?, ?)', identity, merchantId),
    listed: () =>
      sql
        .exec<{ identity: string; merchant_id: string }>('SELECT identity, merchant_id FROM merchant_identities ORDER BY identity')
        .toArray()
        .map((r) => [r.identity.split('\u001f').join(' / '), r.merchant_id]),
  }
}

describe('D1 migration 0002: provider and channel names are the registry’s, not the schema’s', () => {
  it('rebuilds orders, notifications and deliveries with every row kept, and keeps the other CHECKs', async () => {
    expect(openNames?.name).toMatch(/^0002_/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      sql.exec(script(init))
      sql.exec(`INSERT INTO orders (merchant_id, provider, out_trade_no, status, amount, refunded_amount, version, updated_at)
                VALUES ('m1', 'alipay', 'T1', 'paid', 100, 0, 3, '2026-11-29T00:00:00Z')`)
      sql.exec(`INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, source)
                VALUES ('ntf_1', 'm1', 'wechatpay.v3', 'T1', '2026-11-29T00:00:00Z', 'accepted', 'notify')`)
      sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, event_id, type, status, created_at, updated_at, version)
                VALUES ('dlv_1', 'm1', 'alipay', 'T1', 'evt_1', 'payment.succeeded', 'delivered', 'a', 'b', 2)`)
      expect(() =>
        sql.exec(
          `INSERT INTO orders (merchant_id, provider, out_trade_no, status, version, updated_at) VALUES ('m1', 'examplepay', 'T2', 'paid', 1, 'x')`,
        ),
      ).toThrow(/CHECK/)

      sql.exec(script(openNames))
      expect(sql.exec('SELECT merchant_id, provider, out_trade_no, status, amount, version FROM orders').toArray()).toEqual([
        { merchant_id: 'm1', provider: 'alipay', out_trade_no: 'T1', status: 'paid', amount: 100, version: 3 },
      ])
      expect(sql.exec('SELECT id, channel FROM notifications').toArray()).toEqual([{ id: 'ntf_1', channel: 'wechatpay.v3' }])
      expect(sql.exec('SELECT id, provider, status FROM deliveries').toArray()).toEqual([
        { id: 'dlv_1', provider: 'alipay', status: 'delivered' },
      ])
      sql.exec(
        `INSERT INTO orders (merchant_id, provider, out_trade_no, status, version, updated_at) VALUES ('m1', 'examplepay', 'T2', 'paid', 1, 'x')`,
      )
      sql.exec(
        `INSERT INTO notifications (id, merchant_id, channel, received_at, verdict) VALUES ('ntf_2', 'm1', 'examplepay', 'x', 'rejected')`,
      )
      expect(() => sql.exec(`UPDATE orders SET status = 'lost' WHERE out_trade_no = 'T2'`)).toThrow(/CHECK/)
      expect(() => sql.exec(`UPDATE notifications SET verdict = 'maybe' WHERE id = 'ntf_2'`)).toThrow(/CHECK/)
      const indexes = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .toArray()
      expect(indexes.map((i) => i.name)).toEqual(['deliveries_by_status', 'notifications_by_order'])
    })
  })
})

describe('D1 migration 0005: provider notifications, their subjects, and kept rejected bodies', () => {
  it('rebuilds deliveries with every row kept, for provider.notification deliveries of a subject; adds the audit columns and rejected_bodies', async () => {
    expect(providerNotifications?.name).toMatch(/^0005_refunds_and_provider_notifications/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0005')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      sql.exec(script(init))
      sql.exec(script(openNames))
      sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, event_id, type, status, created_at, updated_at, version)
                VALUES ('dlv_1', 'm1', 'alipay', 'T1', 'evt_1', 'refund.succeeded', 'delivered', 'a', 'b', 2)`)
      expect(() =>
        sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, event_id, type, status, created_at, updated_at, version)
                  VALUES ('dlv_2', 'm1', 'wechatpay', 'x', 'evt_2', 'provider.notification', 'pending', 'a', 'b', 1)`),
      ).toThrow(/CHECK/)

      sql.exec(script(providerNotifications))
      expect(sql.exec('SELECT id, out_trade_no, subject_key, type, version FROM deliveries').toArray()).toEqual([
        { id: 'dlv_1', out_trade_no: 'T1', subject_key: null, type: 'refund.succeeded', version: 2 },
      ])
      sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, subject_key, event_id, type, status, created_at, updated_at, version)
                VALUES ('dlv_2', 'm1', 'wechatpay', '1330000071100999991182020050700019480', 'evt_2', 'provider.notification', 'pending', 'a', 'b', 1)`)
      // A delivery belongs to an order or to a subject, never both or neither.
      expect(() =>
        sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, event_id, type, status, created_at, updated_at, version)
                  VALUES ('dlv_3', 'm1', 'wechatpay', 'evt_3', 'provider.notification', 'pending', 'a', 'b', 1)`),
      ).toThrow(/CHECK/)
      sql.exec(`INSERT INTO notifications (id, merchant_id, channel, received_at, verdict, notification_type, subject_key)
                VALUES ('ntf_1', 'm1', 'wechatpay.v3', 'x', 'accepted', 'MCHTRANSFER.BILL.FINISHED', '1330000071100999991182020050700019480')`)
      sql.exec(
        `INSERT INTO rejected_bodies (notification_id, merchant_id, received_at, headers, body, truncated) VALUES ('ntf_2', 'm1', 'x', '{}', '<xml/>', 0)`,
      )
      const indexes = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .toArray()
      expect(indexes.map((i) => i.name)).toEqual(['deliveries_by_status', 'notifications_by_order', 'rejected_bodies_by_merchant'])
    })
  })
})

describe('D1 migration 0007: the batched, sharded projection', () => {
  it('keeps every order and delivery, counts what the stats already had, and keeps every merchant on the first shard', async () => {
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0007')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      // Everything up to 0006, as a deployed database holds it.
      for (const migration of env.TEST_MIGRATIONS.filter((m) => m.name < '0007_')) sql.exec(script(migration))
      sql.exec(`INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES ('m1', '{}', 3, 'c', 'u')`)
      sql.exec(`INSERT INTO orders (merchant_id, provider, out_trade_no, status, amount, refunded_amount, version, updated_at)
                VALUES ('m1', 'wechatpay', 'T1', 'paid', 100, 0, 3, 'x'), ('m1', 'alipay', 'T1', 'paid', 100, 0, 2, 'x')`)
      // T1 of WeChat Pay: two accepted notifications on two channels and a duplicate; Alipay's T1: one accepted.
      sql.exec(`INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, source) VALUES
                ('ntf_1', 'm1', 'wechatpay.v3', 'T1', 'a', 'accepted', 'notify'), ('ntf_2', 'm1', 'wechatpay.v2', 'T1', 'b', 'accepted', 'notify'),
                ('ntf_3', 'm1', 'wechatpay.v3', 'T1', 'c', 'duplicate', 'notify'), ('ntf_4', 'm1', 'alipay', 'T1', 'd', 'accepted', 'notify')`)
      sql.exec(`INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, event_id, type, status, created_at, updated_at, version, reason)
                VALUES ('dlv_1', 'm1', 'wechatpay', 'T1', 'evt_1', 'payment.succeeded', 'delivered', 'a', 'b', 2, NULL)`)

      sql.exec(script(env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0007_'))))
      expect(sql.exec('SELECT provider, out_trade_no, version, accepted_notifications FROM orders ORDER BY provider').toArray()).toEqual([
        { provider: 'alipay', out_trade_no: 'T1', version: 2, accepted_notifications: 1 },
        { provider: 'wechatpay', out_trade_no: 'T1', version: 3, accepted_notifications: 2 },
      ])
      expect(sql.exec('SELECT id, status, version FROM deliveries').toArray()).toEqual([{ id: 'dlv_1', status: 'delivered', version: 2 }])
      expect(sql.exec('SELECT merchant_id, shard FROM merchant_shards').toArray()).toEqual([{ merchant_id: 'm1', shard: 'DB' }])
      // One index beside the deliveries' key, none beside the orders'.
      const indexes = sql
        .exec<{ name: string; tbl_name: string }>(
          "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('orders', 'deliveries') ORDER BY name",
        )
        .toArray()
      expect(indexes.map((i) => i.name)).toEqual(['deliveries_by_time'])
    })
  })
})

describe('D1 migration 0010: refusals already recorded are counted in the stats', () => {
  it('adds each merchant-minute of refusal rows (listed and counted) to its counters, merging with what the minute had', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0010_')
    const refusalsInStats = byPrefix('0010_')
    expect(refusalsInStats?.name).toMatch(/^0010_refusals_in_stats/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0010')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      const refusal = (id: string, merchant: string, at: string, reason: string, count: number) =>
        sql.exec(
          `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, reason, source, count)
           VALUES (?, ?, 'alipay', NULL, ?, 'rejected', ?, 'notify', ?)`,
          id,
          merchant,
          at,
          reason,
          count,
        )
      refusal('r1', 'm1', '2026-11-29T10:00:05.000Z', 'signature_invalid', 1)
      refusal('r2', 'm1', '2026-11-29T10:00:59.999Z', 'signature_invalid', 7)
      refusal('r3', 'm1', '2026-11-29T10:00:30.000Z', 'merchant_mismatch', 1)
      refusal('r4', 'm2', '2026-11-29T11:30:00.000Z', 'signature_invalid', 1)
      // An order's own rejection is counted already (by its order object's projection): not again.
      sql.exec(`INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, reason, source)
                VALUES ('o1', 'm1', 'alipay', 'T1', '2026-11-29T10:00:10.000Z', 'rejected', 'amount_mismatch', 'notify')`)
      const minute = Date.parse('2026-11-29T10:00:00Z') / 60_000
      sql.exec(
        `INSERT INTO merchant_stats (merchant_id, minute, accepted, rejected, rejected_reasons) VALUES ('m1', ?, 4, 1, '{"amount_mismatch":1}')`,
        minute,
      )
      sql.exec(script(refusalsInStats))
      const rows = sql
        .exec<{ merchant_id: string; minute: number; accepted: number; rejected: number; rejected_reasons: string }>(
          'SELECT merchant_id, minute, accepted, rejected, rejected_reasons FROM merchant_stats ORDER BY merchant_id, minute',
        )
        .toArray()
        .map((row) => ({ ...row, rejected_reasons: JSON.parse(row.rejected_reasons) as Record<string, number> }))
      expect(rows).toEqual([
        {
          merchant_id: 'm1',
          minute,
          accepted: 4,
          rejected: 10,
          rejected_reasons: { amount_mismatch: 1, signature_invalid: 8, merchant_mismatch: 1 },
        },
        { merchant_id: 'm2', minute: minute + 90, accepted: 0, rejected: 1, rejected_reasons: { signature_invalid: 1 } },
      ])
    })
  })
})

describe('D1 migration 0011: counted rows keep their place in the list', () => {
  it('moves a counted row’s latest time to last_received_at and puts it at its first refusal; other rows are untouched', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0011_')
    const keepPlace = byPrefix('0011_')
    expect(keepPlace?.name).toMatch(/^0011_counted_rows_keep_their_place/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0011')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      const row = (id: string, outTradeNo: string | null, at: string, count: number, first: string | null) =>
        sql.exec(
          `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, reason, source, count, first_received_at)
           VALUES (?, 'm1', 'alipay', ?, ?, 'rejected', 'signature_invalid', 'notify', ?, ?)`,
          id,
          outTradeNo,
          at,
          count,
          first,
        )
      row('counted', null, '2026-11-29T10:09:00.000Z', 7, '2026-11-29T10:01:00.000Z')
      row('listed', null, '2026-11-29T10:00:05.000Z', 1, null)
      row('order', 'T1', '2026-11-29T10:00:10.000Z', 1, null)
      sql.exec(script(keepPlace))
      expect(sql.exec('SELECT id, received_at, first_received_at, last_received_at FROM notifications ORDER BY id').toArray()).toEqual([
        {
          id: 'counted',
          received_at: '2026-11-29T10:01:00.000Z',
          first_received_at: '2026-11-29T10:01:00.000Z',
          last_received_at: '2026-11-29T10:09:00.000Z',
        },
        { id: 'listed', received_at: '2026-11-29T10:00:05.000Z', first_received_at: null, last_received_at: null },
        { id: 'order', received_at: '2026-11-29T10:00:10.000Z', first_received_at: null, last_received_at: null },
      ])
    })
  })
})

describe('D1 migration 0012: refusals before any object are marked, no longer told by a NULL order number', () => {
  it('marks the refusal rows stored before it, listed and counted, and no order’s or subject’s row; their index follows the mark', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0012_')
    const marked = byPrefix('0012_')
    expect(marked?.name).toMatch(/^0012_refusals_name_their_order/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0012')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      const row = (id: string, outTradeNo: string | null, subjectKey: string | null, verdict: string, first: string | null) =>
        sql.exec(
          `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, subject_key, received_at, verdict, reason, source, first_received_at)
           VALUES (?, 'm1', 'alipay', ?, ?, '2026-11-30T10:00:00.000Z', ?, 'signature_invalid', 'notify', ?)`,
          id,
          outTradeNo,
          subjectKey,
          verdict,
          first,
        )
      row('listed', null, null, 'rejected', null)
      row('counted', null, null, 'rejected', '2026-11-30T09:59:00.000Z')
      row('order-rejected', 'T1', null, 'rejected', null)
      row('order-accepted', 'T1', null, 'accepted', null)
      row('subject', null, 'notification:x', 'accepted', null)
      sql.exec(script(marked))
      expect(sql.exec('SELECT id, refused_before_object FROM notifications ORDER BY id').toArray()).toEqual([
        { id: 'counted', refused_before_object: 1 },
        { id: 'listed', refused_before_object: 1 },
        { id: 'order-accepted', refused_before_object: null },
        { id: 'order-rejected', refused_before_object: null },
        { id: 'subject', refused_before_object: null },
      ])
      const index = sql.exec<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE name = 'notifications_refusals'`).toArray()
      expect(index).toEqual([{ sql: expect.stringContaining('WHERE refused_before_object = 1') }])
      // A refusal after verification names its order and is still one of the refusals.
      sql.exec(`INSERT INTO notifications (id, merchant_id, channel, out_trade_no, received_at, verdict, reason, refused_before_object)
                VALUES ('named', 'm1', 'alipay', 'T2', '2026-11-30T10:01:00.000Z', 'rejected', 'merchant_mismatch', 1)`)
      expect(() =>
        sql.exec(`INSERT INTO notifications (id, merchant_id, channel, received_at, verdict, refused_before_object)
                  VALUES ('zero', 'm1', 'alipay', 'x', 'rejected', 0)`),
      ).toThrow(/CHECK/)
    })
  })
})

describe('D1 migration 0014: an Alipay merchant without authAppId claims its own app as authorizing app too', () => {
  it('gives each (app, -, seller) claim its (app, app, seller) companion, leaves one another merchant holds to it, and nothing else', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0014_')
    const ownApp = byPrefix('0014_')
    expect(ownApp?.name).toMatch(/^0014_alipay_own_app_claims/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0014')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      const { key, claim, listed } = identities(sql)
      claim(key('', 'm1'), 'm1')
      claim(key('alipay', 'A1', '-', 'S1'), 'm1')
      claim(key('alipay', 'A1', '-', 'S2'), 'm1')
      claim(key('alipay', 'A2', '-', '*'), 'm2')
      claim(key('alipay', 'A3', 'A9', 'S3'), 'm3')
      claim(key('alipay', 'A4', '-', 'S4'), 'm4')
      // Saved before the check: another merchant already lists A4 as its authorizing app.
      claim(key('alipay', 'A4', 'A4', 'S4'), 'm5')
      claim(key('wechatpay', '1900000001', '-'), 'm6')
      sql.exec(script(ownApp))
      expect(listed()).toEqual([
        [' / m1', 'm1'],
        ['alipay / A1 / - / S1', 'm1'],
        ['alipay / A1 / - / S2', 'm1'],
        ['alipay / A1 / A1 / S1', 'm1'],
        ['alipay / A1 / A1 / S2', 'm1'],
        ['alipay / A2 / - / *', 'm2'],
        ['alipay / A2 / A2 / *', 'm2'],
        ['alipay / A3 / A9 / S3', 'm3'],
        ['alipay / A4 / - / S4', 'm4'],
        ['alipay / A4 / A4 / S4', 'm5'],
        ['wechatpay / 1900000001 / -', 'm6'],
      ])
    })
  })
})

describe('D1 migration 0015: no claim overlaps another merchant’s, inside the write itself', () => {
  it('refuses a wildcard over another merchant’s seller, a seller under another’s wildcard and the same key; takes the rest', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0015_')
    const overlaps = byPrefix('0015_')
    expect(overlaps?.name).toMatch(/^0015_identity_overlaps_refused/)
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0015')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      sql.exec(script(overlaps))
      const { key, claim, listed } = identities(sql)
      claim(key('', 'm1'), 'm1')
      claim(key('alipay', 'A1', '-', 'S1'), 'm1')
      claim(key('alipay', 'A2', '-', '*'), 'm2')
      claim(key('wechatpay', '1900000001', '-'), 'm3')
      const refused = /overlaps another merchant/
      expect(() => claim(key('alipay', 'A1', '-', '*'), 'm4')).toThrow(refused)
      expect(() => claim(key('alipay', 'A2', '-', 'S9'), 'm4')).toThrow(refused)
      expect(() => claim(key('wechatpay', '1900000001', '-'), 'm4')).toThrow(refused)
      // Not overlaps: another seller, an app whose id starts with another's, another authorizing app, the same merchant.
      claim(key('alipay', 'A1', '-', 'S2'), 'm4')
      claim(key('alipay', 'A10', '-', '*'), 'm4')
      claim(key('alipay', 'A2', 'A2', 'S9'), 'm4')
      claim(key('alipay', 'A2', '-', 'S8'), 'm2')
      claim(key('', 'm4'), 'm4')
      expect(listed()).toEqual([
        [' / m1', 'm1'],
        [' / m4', 'm4'],
        ['alipay / A1 / - / S1', 'm1'],
        ['alipay / A1 / - / S2', 'm4'],
        ['alipay / A10 / - / *', 'm4'],
        ['alipay / A2 / - / *', 'm2'],
        ['alipay / A2 / - / S8', 'm2'],
        ['alipay / A2 / A2 / S9', 'm4'],
        ['wechatpay / 1900000001 / -', 'm3'],
      ])
    })
  })
})

describe('D1 migration 0016: a companion 0014 added over another merchant’s overlapping claim goes', () => {
  it('drops a wildcard companion over another’s seller and a seller’s companion under another’s wildcard; keeps the rest', async () => {
    const migrations = env.TEST_MIGRATIONS.filter((migration) => migration.name < '0014_')
    const later = env.TEST_MIGRATIONS.filter((migration) => migration.name >= '0014_' && migration.name < '0017_')
    expect(later.map((migration) => migration.name.slice(0, 5))).toEqual(['0014_', '0015_', '0016_'])
    const stub = env.MERCHANTS.getByName('d1-migration-replay-0016')
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      for (const migration of migrations) sql.exec(script(migration))
      const { key, claim, listed } = identities(sql)
      // Saved under the old rule, which refused only the same key: m2 takes every seller of app P (no authAppId); m5
      // lists P as its authorizing app for seller S9. And the other way round for app Q: m1 one seller, m3 all.
      claim(key('alipay', 'P', '-', '*'), 'm2')
      claim(key('alipay', 'P', 'P', 'S9'), 'm5')
      claim(key('alipay', 'Q', '-', 'S9'), 'm1')
      claim(key('alipay', 'Q', 'Q', '*'), 'm3')
      claim(key('alipay', 'R', '-', 'S4'), 'm4')
      for (const migration of later) sql.exec(script(migration))
      expect(listed()).toEqual([
        ['alipay / P / - / *', 'm2'],
        ['alipay / P / P / S9', 'm5'],
        ['alipay / Q / - / S9', 'm1'],
        ['alipay / Q / Q / *', 'm3'],
        ['alipay / R / - / S4', 'm4'],
        ['alipay / R / R / S4', 'm4'],
      ])
      // The merchants that held their claims first save them again: the write's own rule (0015) lets them.
      sql.exec("DELETE FROM merchant_identities WHERE merchant_id IN ('m5', 'm3')")
      claim(key('alipay', 'P', 'P', 'S9'), 'm5')
      claim(key('alipay', 'Q', 'Q', '*'), 'm3')
    })
  })
})
