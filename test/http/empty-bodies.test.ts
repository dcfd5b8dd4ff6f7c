/**
 * A POST whose body fields are all optional takes no body at all (it stands for `{}`), as the OpenAPI document says
 * (`requestBody.required: false`); a route that needs fields, and a merge patch, still refuse an empty one.
 */
import { describe, expect, it } from 'vitest'
import { admin, putMerchant } from '../support/gateway'

const M = 'empty-bodies'

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string } }).error
}

describe('a request with no body', () => {
  it('is `{}` for the retention walk, a re-drive and a reseal, which then run', async () => {
    await putMerchant(M)
    const walk = await admin(`/admin/merchants/${M}/retention`, { method: 'POST' })
    expect(walk.status).toBe(200)
    expect(await walk.json()).toMatchObject({ checked: 0, failed: 0, next_cursor: null })
    const redrive = await admin('/admin/projection/redrive', { method: 'POST' })
    expect(redrive.status).toBe(200)
    expect(await redrive.json()).toMatchObject({ redriven: expect.any(Number), remaining: expect.any(Number) })
    const reseal = await admin('/admin/reseal', { method: 'POST' })
    expect(reseal.status).toBe(200)
    expect(await reseal.json()).toMatchObject({ unreadable: [] })
  })

  it('is refused where fields are needed (recover, a merchant) and for a merge patch, as not valid JSON', async () => {
    await putMerchant(M)
    for (const [path, method] of [
      [`/admin/merchants/${M}/deliveries/recover`, 'POST'],
      [`/admin/merchants/${M}`, 'PUT'],
      [`/admin/merchants/${M}`, 'PATCH'],
    ] as const) {
      const response = await admin(path, { method })
      expect(response.status, `${method} ${path}`).toBe(400)
      expect(await errorOf(response)).toEqual({ code: 'invalid_request', message: 'body: not valid JSON' })
    }
  })

  it('is allowed by the OpenAPI document exactly where the routes take it', async () => {
    const document = (await (await admin('/admin/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, { requestBody?: { required: boolean } }>>
    }
    const optional = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) =>
        operation.requestBody?.required === false ? [`${method.toUpperCase()} ${path}`] : [],
      ),
    )
    expect(optional.sort()).toEqual([
      'POST /admin/merchants/{merchantId}/retention',
      'POST /admin/projection/redrive',
      'POST /admin/reseal',
    ])
  })
})
