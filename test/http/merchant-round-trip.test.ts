/**
 * A merchant's GET reply is the PUT body with every secret left out, plus what only GET shows (platform keys and
 * certificates with their expiries, the endpoint's state and health). Both are documented, and GET's reply with the
 * secrets added back saves the same merchant again: what only GET shows is accepted and ignored, and nothing is lost.
 */
import { describe, expect, it } from 'vitest'
import openapi from '../../docs/openapi.json'
import keys from '../fixtures/keys.json'
import { admin, FORWARD_SECRET, merchantBody, withOwnIds } from '../support/gateway'

type Schema = { properties?: Record<string, Schema>; anyOf?: Schema[]; readOnly?: boolean }
const schemas = (openapi as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas

const put = (id: string, body: unknown) => admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
const shown = async (id: string) => (await (await admin(`/admin/merchants/${id}`)).json()) as Record<string, Record<string, unknown>>

/** A merchant in Alipay's certificate mode, WeChat Pay with a configured certificate: every GET-only field shows. */
function certificateMerchant(id: string): Record<string, unknown> {
  const body = withOwnIds(id, merchantBody())
  const { certMode } = keys.alipay
  const { alipayPublicKey: _key, ...alipay } = body.alipay as Record<string, unknown>
  return {
    ...body,
    alipay: {
      ...alipay,
      alipayPublicCert: certMode.alipayCert.certificatePem,
      alipayRootCert: certMode.rootCertPem,
      appCert: certMode.appCert.certificatePem,
      appPrivateKey: certMode.appCert.privateKeyPem,
    },
  }
}

/** GET's reply with the merchant's secrets put back: what an operator saves after editing it. */
function withSecrets(view: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return {
    ...view,
    forward: { ...view.forward, secret: FORWARD_SECRET },
    wechatpay: { ...view.wechatpay, apiV2Key: keys.wechatpay.apiV2Key, apiV3Key: keys.wechatpay.apiV3Key },
    alipay: { ...view.alipay, appPrivateKey: keys.alipay.certMode.appCert.privateKeyPem },
  }
}

describe("a merchant's GET reply", () => {
  it('documents every field of each provider section, what only GET shows marked read-only in the PUT body', async () => {
    expect((await put('view-doc', certificateMerchant('view-doc'))).status).toBe(201)
    const view = await shown('view-doc')
    const undocumented = ['wechatpay', 'alipay'].flatMap((section) =>
      Object.keys(view[section]!)
        .filter((field) => !(field in (schemas.Merchant!.properties?.[section]?.properties ?? {})))
        .map((field) => `${section}.${field}`),
    )
    expect(undocumented).toEqual([])
    // In the PUT body and in the PATCH body alike (where each section may also be null: anyOf [object, null]).
    const member = (schema: Schema | undefined, name: string): Schema | undefined =>
      schema?.properties?.[name] ?? schema?.anyOf?.find((option) => option.properties)?.properties?.[name]
    for (const body of ['MerchantInput', 'MerchantPatch']) {
      const root = schemas[body]
      expect({
        body,
        platformKeys: member(member(root, 'wechatpay'), 'platformKeys')?.readOnly,
        certificates: member(member(root, 'alipay'), 'certificates')?.readOnly,
        endpoint_health: member(root, 'endpoint_health')?.readOnly,
        disabled_at: member(member(root, 'forward'), 'disabled_at')?.readOnly,
        disabled_reason: member(member(root, 'forward'), 'disabled_reason')?.readOnly,
      }).toEqual({ body, platformKeys: true, certificates: true, endpoint_health: true, disabled_at: true, disabled_reason: true })
    }
  })

  it('saves the same merchant again with its secrets added back, keeping a configured certificate and its expiry', async () => {
    expect((await put('view-roundtrip', certificateMerchant('view-roundtrip'))).status).toBe(201)
    const before = await shown('view-roundtrip')
    const { platformCertA } = keys.wechatpay
    // A certificate shows as given, not as the key taken from it: saved back, it still expires.
    expect((before.wechatpay!.platformPublicKeys as Record<string, string>)[platformCertA.serial]).toBe(platformCertA.certificatePem)
    expect(before.wechatpay!.platformKeys).toContainEqual({
      serial: platformCertA.serial,
      source: 'configured',
      expires_at: expect.any(String),
    })

    const saved = await put('view-roundtrip', withSecrets(before))
    expect({ status: saved.status, body: saved.status === 200 ? null : await saved.json() }).toEqual({ status: 200, body: null })
    expect(await shown('view-roundtrip')).toEqual(before)
  })

  it('of a disabled endpoint saves back too: its state is ignored, and the PUT enables it as any PUT does', async () => {
    expect((await put('view-disabled', withOwnIds('view-disabled', merchantBody()))).status).toBe(201)
    expect((await admin('/admin/merchants/view-disabled/endpoint/disable', { method: 'POST' })).status).toBe(200)
    const disabled = await shown('view-disabled')
    expect(disabled.forward).toMatchObject({ disabled_at: expect.any(String), disabled_reason: 'manual' })
    const saved = await put('view-disabled', withSecrets(disabled))
    expect(saved.status).toBe(200)
    const { forward, ...rest } = await shown('view-disabled')
    const { disabled_at: _at, disabled_reason: _reason, ...enabled } = disabled.forward!
    expect({ forward, ...rest }).toEqual({ ...disabled, forward: enabled })
  })

  it('still refuses a field GET does not show, naming only the fields to send', async () => {
    expect((await put('view-typo', withOwnIds('view-typo', merchantBody()))).status).toBe(201)
    const view = await shown('view-typo')
    const typo = await put('view-typo', withSecrets({ ...view, wechatpay: { ...view.wechatpay, platformKey: [] } }))
    expect(typo.status).toBe(400)
    const { error } = (await typo.json()) as { error: { message: string } }
    expect(error.message).toMatch(/^wechatpay\.platformKey: unknown field \(expected one of appid, mchid, /)
    expect(error.message).not.toContain('platformKeys')
  })
})
