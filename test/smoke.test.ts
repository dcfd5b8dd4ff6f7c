import { env, exports } from 'cloudflare:workers'
import { runInDurableObject } from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { expect, it } from 'vitest'
import { network } from './msw'

it('boots', async () => {
  network.use(http.post('https://merchant.example/hook', () => HttpResponse.text('hi')))
  const r = await exports.default.fetch('https://gw/x')
  expect(await r.text()).toBe('ok')
  const f = await fetch('https://merchant.example/hook', { method: 'POST' })
  expect(await f.text()).toBe('hi')
  const stub = env.ORDERS.getByName('a')
  expect(await stub.ping()).toBe('pong')
  await runInDurableObject(stub, (_o, state) => { state.storage.sql.exec('create table t(x)') })
  const n = await env.DB.prepare('select count(*) n from smoke').first('n')
  expect(n).toBe(0)
  const md5 = await crypto.subtle.digest('MD5', new TextEncoder().encode('a'))
  expect(md5.byteLength).toBe(16)
})
