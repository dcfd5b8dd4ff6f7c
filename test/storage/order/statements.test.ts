import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { expect, it } from 'vitest'
import type { OrderObject } from '../../../src/order/order-object'
import { CREATE_RECORDS_TABLE, RecordStore } from '../../../src/storage/order/record-store'
import { network } from '../../msw'
import { FORWARD, paymentNotification, SETTINGS, stubFor, uniqueOrder } from '../../support/orders'

/** Records the first words of every statement the object's SQL storage runs from now on. */
async function statementsOf(stub: DurableObjectStub<OrderObject>): Promise<string[]> {
  const seen: string[] = []
  await runInDurableObject(stub, (_o: OrderObject, state) => {
    const sql = state.storage.sql
    const exec = sql.exec.bind(sql)
    Object.assign(sql, {
      exec: (query: string, ...bindings: SqlStorageValue[]) => {
        seen.push(query.trim().split(/\s+/).slice(0, 3).join(' '))
        return exec(query, ...bindings)
      },
    })
  })
  return seen
}

it('a new payment reads nothing back from SQLite: its ingest runs 3 statements, its alarm 1', async () => {
  network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
  const order = uniqueOrder('STATEMENTS')
  const stub = stubFor(order)
  const seen = await statementsOf(stub)
  await stub.ingest({ order, notification: paymentNotification(order), settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
  // The object's one read of its schema, the table, and the head and event records in one statement.
  expect(seen.splice(0)).toEqual(['SELECT name FROM', 'CREATE TABLE IF', 'INSERT INTO records'])
  await runDurableObjectAlarm(stub)
  // The delivery's outcome, written into its event record.
  expect(seen).toEqual(['INSERT INTO records'])
})

it('a transaction writes its records in statements of at most 33 (99 bound parameters), all of them or none', async () => {
  const stub = stubFor(uniqueOrder('CHUNKS'))
  const seen = await statementsOf(stub)
  await runInDurableObject(stub, (_o: OrderObject, state) => {
    const store = new RecordStore(state.storage)
    store.knowTable(false)
    const keys = Array.from({ length: 70 }, (_, i) => `R${String(i).padStart(3, '0')}`)
    store.transaction(() => {
      for (const key of keys) store.put('refund', key, { key })
      store.put('refund', 'R000', { key: 'R000', changed: true })
    })
    // 70 records: 33 + 33 + 4, after the table.
    expect(seen.splice(0)).toEqual(['CREATE TABLE IF', 'INSERT INTO records', 'INSERT INTO records', 'INSERT INTO records'])
    const stored = state.storage.sql
      .exec<{ key: string; body: string }>("SELECT key, body FROM records WHERE kind = 'refund' ORDER BY key")
      .toArray()
    expect(stored.map((r) => r.key)).toEqual(keys)
    expect(JSON.parse(stored[0]!.body)).toEqual({ key: 'R000', changed: true })
    // A record changed again in a later transaction is updated in place (the upsert), and a failed one writes nothing.
    store.transaction(() => store.put('refund', 'R001', { key: 'R001', v: 2 }))
    expect(() =>
      store.transaction(() => {
        for (const key of keys) store.put('refund', `${key}-late`, {})
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    const after = new RecordStore(state.storage)
    expect(after.get('refund', 'R001')).toEqual({ key: 'R001', v: 2 })
    expect(after.list('refund')).toHaveLength(70)
  })
})

it('a statement failing in a later chunk rolls back the earlier ones, and the store reads what is stored again', async () => {
  const stub = stubFor(uniqueOrder('CHUNKFAIL'))
  await runInDurableObject(stub, (_o: OrderObject, state) => {
    state.storage.sql.exec(CREATE_RECORDS_TABLE)
    state.storage.sql.exec(
      "CREATE TRIGGER fail_second_chunk BEFORE INSERT ON records WHEN NEW.key = 'R040' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    const store = new RecordStore(state.storage)
    store.knowTable(true)
    const keys = Array.from({ length: 50 }, (_, i) => `R${String(i).padStart(3, '0')}`)
    // Read once, so the store holds a copy of the kind that the first INSERT then adds to.
    expect(store.list('refund')).toEqual([])
    expect(() =>
      store.transaction(() => {
        for (const key of keys) store.put('refund', key, { key })
      }),
    ).toThrow('disk full')
    // R000–R032 went in with the first INSERT; the second one failed, and the transaction took both back.
    expect(state.storage.sql.exec("SELECT count(*) AS n FROM records WHERE kind = 'refund'").one().n).toBe(0)
    expect(store.list('refund')).toEqual([])
    state.storage.sql.exec('DROP TRIGGER fail_second_chunk')
    store.transaction(() => store.put('refund', 'R040', { key: 'R040' }))
    expect(store.list('refund')).toEqual([{ key: 'R040', value: { key: 'R040' } }])
  })
})

it('a record is parsed once and shared frozen by its readers until the code awaits; a write gives a new value; getCopy is the caller’s own', async () => {
  const stub = stubFor(uniqueOrder('FROZEN'))
  await runInDurableObject(stub, async (_o: OrderObject, state) => {
    const store = new RecordStore(state.storage)
    store.knowTable(false)
    store.transaction(() => store.put('refund', 'R1', { amount: 100, log: [{ at: 1 }] }))
    const read = store.get<{ amount: number; log: Array<{ at: number }> }>('refund', 'R1')!
    expect(store.get('refund', 'R1')).toBe(read)
    expect(store.list('refund')[0]!.value).toBe(read)
    // No reader can change what the next one reads: a change throws (modules are strict), nested values too.
    expect(() => {
      read.amount = 1
    }).toThrow(TypeError)
    expect(() => read.log.push({ at: 2 })).toThrow(TypeError)

    const copy = store.getCopy<{ amount: number }>('refund', 'R1')!
    copy.amount = 250
    expect(store.get('refund', 'R1')).toEqual({ amount: 100, log: [{ at: 1 }] })
    store.transaction(() => {
      store.put('refund', 'R1', copy)
      // Inside the transaction, a read sees the buffered write.
      expect(store.get('refund', 'R1')).toMatchObject({ amount: 250 })
    })
    expect(store.get('refund', 'R1')).not.toBe(read)
    expect(new RecordStore(state.storage).get('refund', 'R1')).toEqual({ amount: 250, log: [{ at: 1 }] })

    // Once the code awaits, the store lets go of what it parsed (an idle object holds JSON text only): read again, the
    // record is parsed again, equal and as frozen.
    const before = store.get('refund', 'R1')
    await Promise.resolve()
    const after = store.get('refund', 'R1')
    expect(after).not.toBe(before)
    expect(after).toEqual(before)
    expect(Object.isFrozen(after)).toBe(true)
  })
})
