import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { expect, it } from 'vitest'
import type { OrderObject } from '../../../src/order/order-object'
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

it('a new payment reads nothing back from SQLite: its ingest runs 4 statements, its alarm 1', async () => {
  network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
  const order = uniqueOrder('STATEMENTS')
  const stub = stubFor(order)
  const seen = await statementsOf(stub)
  await stub.ingest({ order, notification: paymentNotification(order), settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
  // The object's one read of its schema, the table, the head record, the event record.
  expect(seen.splice(0)).toEqual(['SELECT name FROM', 'CREATE TABLE IF', 'INSERT INTO records', 'INSERT INTO records'])
  await runDurableObjectAlarm(stub)
  // The delivery's outcome, written into its event record.
  expect(seen).toEqual(['INSERT INTO records'])
})
