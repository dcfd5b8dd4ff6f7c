/**
 * The OpenAPI document: served without a token, generated from the route specs (the committed docs/openapi.json is
 * the current one), and covering exactly the admin routes the router serves. Its validity against the OpenAPI 3.1
 * schema is checked in Node (test/node/openapi.test.ts), where the validator can compile schemas.
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import committed from '../../docs/openapi.json'
import { buildRouter } from '../../src/http/router'
import { defaultRegistry } from '../../src/providers'
import { admin, putOwnIdsMerchant } from '../support/gateway'

interface Document {
  openapi: string
  paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>
}

describe('GET /admin/openapi.json', () => {
  it('serves the OpenAPI 3.1 document without a token, the same as the committed docs/openapi.json', async () => {
    const response = await exports.default.fetch('https://gw.test/admin/openapi.json')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const document = (await response.json()) as Document
    expect(document.openapi).toBe('3.1.0')
    // `npm run openapi` writes docs/openapi.json (and the CLI's types) from the same code.
    expect(document).toEqual(committed)
    expect(document.paths['/admin/openapi.json']!.get!.security).toEqual([])
  })

  it('lists every admin route the router serves, and nothing else (method and path)', async () => {
    const router = buildRouter(defaultRegistry) as unknown as { routes: [string, RegExp, unknown[], string][] }
    const served = router.routes
      .filter(([method, , , path]) => path.startsWith('/admin/') && path !== '/admin/*' && method !== 'ALL')
      .map(([method, , , path]) => `${method.toLowerCase()} ${path.replace(/:(\w+)/g, '{$1}')}`)
      .sort()
    const document = (await (await exports.default.fetch('https://gw.test/admin/openapi.json')).json()) as Document
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort()
    expect(served).toEqual(documented)
    expect(served.length).toBeGreaterThanOrEqual(18)
    // Every route the contract names is among them.
    for (const route of [
      'get /admin/merchants',
      'patch /admin/merchants/{merchantId}',
      'get /admin/deliveries/{deliveryId}',
      'post /admin/merchants/{merchantId}/endpoint/disable',
      'post /admin/merchants/{merchantId}/endpoint/enable',
      'post /admin/merchants/{merchantId}/deliveries/recover',
      'post /admin/merchants/{merchantId}/test-event',
      'get /admin/merchants/{merchantId}/stats',
      'get /admin/openapi.json',
    ]) {
      expect(served).toContain(route)
    }
  })

  it('needs a token for everything else under /admin', async () => {
    expect((await exports.default.fetch('https://gw.test/admin/merchants')).status).toBe(401)
    expect((await exports.default.fetch('https://gw.test/admin/openapi.yaml')).status).toBe(401)
  })

  it('documents the 400 that every route with a path value answers when the value is not valid percent-encoding', async () => {
    const document = committed as unknown as { paths: Record<string, Record<string, { operationId: string; responses: object }>> }
    const answers: Record<string, { status: number; code?: string; documented: boolean }> = {}
    for (const [path, methods] of Object.entries(document.paths).filter(([path]) => path.includes('{'))) {
      for (const [method, operation] of Object.entries(methods)) {
        let first = true
        const url = path.replace(/\{\w+\}/g, () => {
          const value = first ? '%E0' : 'x'
          first = false
          return value
        })
        const response = await admin(url, { method: method.toUpperCase(), ...(method === 'get' ? {} : { body: '{}' }) })
        const { error } = (await response.json()) as { error?: { code: string } }
        answers[operation.operationId] = {
          status: response.status,
          ...(error === undefined ? {} : { code: error.code }),
          documented: String(response.status) in operation.responses,
        }
      }
    }
    expect(Object.keys(answers).length).toBeGreaterThan(10)
    expect(Object.entries(answers).filter(([, answer]) => answer.status !== 400 || !answer.documented)).toEqual([])
  })

  it("documents every field of a merchant's GET reply, each flag included", async () => {
    await putOwnIdsMerchant('openapi-flags', { requireRegisteredOrders: true, confirmPaymentsByQuery: true, keepRejectedBodies: true })
    const shown = (await (await admin('/admin/merchants/openapi-flags')).json()) as Record<string, unknown>
    const merchant = (committed as unknown as { components: { schemas: { Merchant: { properties: Record<string, unknown> } } } }).components
      .schemas.Merchant
    expect(Object.keys(shown)).toEqual(expect.arrayContaining(['requireRegisteredOrders', 'confirmPaymentsByQuery', 'keepRejectedBodies']))
    expect(Object.keys(shown).filter((field) => !(field in merchant.properties))).toEqual([])
  })

  it('describes each member of the PATCH body as the PUT body does, and the patch itself as a merge patch', () => {
    interface Schema {
      description?: string
      anyOf?: Schema[]
      properties?: Record<string, Schema>
    }
    const schemas = (committed as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas
    /** Every member's path with its description, an optional or nullable member's own included. */
    const described = (schema: Schema, path: string, into: Map<string, string>): Map<string, string> => {
      if (schema.description !== undefined && path !== '') into.set(path, schema.description)
      for (const option of schema.anyOf ?? []) described(option, path, into)
      for (const [name, member] of Object.entries(schema.properties ?? {})) described(member, `${path}.${name}`, into)
      return into
    }
    const put = described(schemas.MerchantInput!, '', new Map())
    const patch = described(schemas.MerchantPatch!, '', new Map())
    expect(put.size).toBeGreaterThan(30)
    expect([...put].filter(([path, text]) => patch.get(path) !== text)).toEqual([])
    expect(schemas.MerchantPatch!.description).toMatch(/merge patch \(RFC 7396\)/)
  })
})
