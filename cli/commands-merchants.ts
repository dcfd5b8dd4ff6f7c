/** @module The CLI's merchant commands: list, get, put and patch (keys read from files), the endpoint's switch, a test event. */
import { buildBody, UsageError } from './body.ts'
import { unwrap, type AdminClient, type Schemas } from './client.ts'
import { listPages, moreLine, pageLimit, out, type Options, type Output } from './commands.ts'
import { record, table } from './format.ts'

export async function merchantsList(client: AdminClient, options: Options): Promise<Output> {
  const limit = pageLimit(options)
  const { items: merchants, next } = await listPages(options, async (cursor) => {
    const page = await unwrap(client.GET('/admin/merchants', { params: { query: { limit, cursor } } }))
    return { items: page.merchants, next: page.next_cursor }
  })
  const rows = merchants.map((m) => ({
    id: m.id,
    url: m.forward.url,
    disabled: m.forward.disabled_at ?? '',
    providers: m.providers.join(','),
    updated: m.updated_at,
  }))
  return out({ merchants, next_cursor: next }, table(rows, ['id', 'url', 'disabled', 'providers', 'updated']) + moreLine(next))
}

export async function merchantsGet(client: AdminClient, merchantId: string): Promise<Output> {
  const merchant = await unwrap(client.GET('/admin/merchants/{merchantId}', { params: { path: { merchantId } } }))
  return out(merchant, record(merchant))
}

export async function merchantsPut(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  if (options.file === undefined && (options.key ?? []).length === 0 && (options.set ?? []).length === 0) {
    throw new UsageError('merchants put needs --file body.json (and --key name=@file.pem for keys kept in files)')
  }
  const body = buildBody(options) as Schemas['MerchantInput']
  const { data, error, response } = await client.PUT('/admin/merchants/{merchantId}', { params: { path: { merchantId } }, body })
  const merchant = await unwrap(Promise.resolve({ data, error, response }))
  return out(merchant, `${response.status === 201 ? 'created' : 'replaced'} ${merchantId}\n${record(merchant)}`)
}

/** The maps of a merchant whose entries `GET` shows by key (platform keys by serial): `--unset` of a missing one is a typo. */
const SHOWN_MAPS = ['wechatpay.platformPublicKeys']

/**
 * Refuses `--unset` of a shown map's entry the merchant does not have (removing it would change nothing, and the key
 * meant, say the old serial during a rotation, would stay trusted).
 */
async function checkUnsetEntries(client: AdminClient, merchantId: string, paths: readonly string[]): Promise<void> {
  const entries = paths.flatMap((path) => {
    const map = SHOWN_MAPS.find((name) => path.startsWith(`${name}.`) && !path.slice(name.length + 1).includes('.'))
    return map === undefined ? [] : [{ path, map, key: path.slice(map.length + 1) }]
  })
  if (entries.length === 0) return
  const view = await unwrap(client.GET('/admin/merchants/{merchantId}', { params: { path: { merchantId } } }))
  for (const { path, map, key } of entries) {
    const shown = map.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown> | undefined)?.[name], view)
    const keys = shown !== null && typeof shown === 'object' ? Object.keys(shown) : []
    if (!keys.includes(key)) {
      throw new UsageError(
        `--unset ${path}: ${merchantId} has no ${map} entry ${key} (it has: ${keys.join(', ') || 'none'}); nothing was sent`,
      )
    }
  }
}

export async function merchantsPatch(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const body = buildBody(options) as Schemas['MerchantPatch']
  if (Object.keys(body).length === 0) throw new UsageError('merchants patch needs --file, --set, --key or --unset')
  await checkUnsetEntries(client, merchantId, options.unset ?? [])
  const merchant = await unwrap(client.PATCH('/admin/merchants/{merchantId}', { params: { path: { merchantId } }, body }))
  return out(merchant, `patched ${merchantId}\n${record(merchant)}`)
}

export async function endpoint(client: AdminClient, action: 'disable' | 'enable', merchantId: string): Promise<Output> {
  const params = { params: { path: { merchantId } } }
  const reply = await unwrap(
    action === 'disable'
      ? client.POST('/admin/merchants/{merchantId}/endpoint/disable', params)
      : client.POST('/admin/merchants/{merchantId}/endpoint/enable', params),
  )
  const state =
    action === 'disable'
      ? 'disabled: nothing is sent to it until it is enabled'
      : 'enabled (deliveries recover sends what failed meanwhile)'
  return out(reply, `${merchantId}'s endpoint ${state}\n${record(reply)}`)
}

export async function testEvent(client: AdminClient, merchantId: string): Promise<Output> {
  const result = await unwrap(client.POST('/admin/merchants/{merchantId}/test-event', { params: { path: { merchantId } } }))
  const verdict = result.delivered ? 'delivered' : 'NOT delivered'
  return { ...out(result, `webhook.test ${result.event_id}: ${verdict}\n${record(result)}`), exitCode: result.delivered ? 0 : 1 }
}
