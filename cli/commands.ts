/**
 * @module The CLI's commands, each one or a few calls of the typed admin client. Each returns what `--json` prints
 * (the API's own replies) and the readable text shown otherwise.
 */
import { buildBody, UsageError, type BodyOptions } from './body.ts'
import { ApiError, unwrap, type AdminClient, type Schemas } from './client.ts'
import { record, table } from './format.ts'

export interface Options extends BodyOptions {
  limit?: string
  cursor?: string
  all?: boolean
  status?: string
  type?: string
  order?: string
  since?: string
  until?: string
  interval?: string
  provider?: string
  amount?: string
  verdict?: string
  reason?: string
}

export interface Output {
  json: unknown
  text: string
  /** The exit code when the call succeeded but what it did did not (a test event not delivered): 1. Default 0. */
  exitCode?: number
}

/** Progress lines for long commands (on stderr, so `--json` output stays clean). */
export type Progress = (line: string) => void

function need(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`)
  return value
}

function integer(value: string, flag: string): number
function integer(value: string | undefined, flag: string): number | undefined
function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: expected a whole number`)
  return Number(value)
}

const out = (json: unknown, text: string): Output => ({ json, text })

export async function merchantsList(client: AdminClient, options: Options): Promise<Output> {
  const merchants: Schemas['MerchantList']['merchants'] = []
  let cursor = options.cursor
  let next: string | null = null
  do {
    const page = await unwrap(client.GET('/admin/merchants', { params: { query: { limit: integer(options.limit, '--limit'), cursor } } }))
    merchants.push(...page.merchants)
    next = page.next_cursor
    cursor = next ?? undefined
  } while (options.all === true && next !== null)
  const rows = merchants.map((m) => ({
    id: m.id,
    url: m.forward.url,
    disabled: m.forward.disabled_at ?? '',
    providers: m.providers.join(','),
    updated: m.updated_at,
  }))
  const more = next === null ? '' : `\nmore: --cursor ${next} (or --all)`
  return out({ merchants, next_cursor: next }, table(rows, ['id', 'url', 'disabled', 'providers', 'updated']) + more)
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

export async function merchantsPatch(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const body = buildBody(options) as Schemas['MerchantPatch']
  if (Object.keys(body).length === 0) throw new UsageError('merchants patch needs --file, --set, --key or --unset')
  const merchant = await unwrap(client.PATCH('/admin/merchants/{merchantId}', { params: { path: { merchantId } }, body }))
  return out(merchant, `patched ${merchantId}\n${record(merchant)}`)
}

export async function endpoint(client: AdminClient, action: string, merchantId: string): Promise<Output> {
  const params = { params: { path: { merchantId } } }
  if (action !== 'disable' && action !== 'enable') throw new UsageError('endpoint disable|enable <merchantId>')
  const reply = await unwrap(
    action === 'disable'
      ? client.POST('/admin/merchants/{merchantId}/endpoint/disable', params)
      : client.POST('/admin/merchants/{merchantId}/endpoint/enable', params),
  )
  return out(reply, record(reply))
}

export async function testEvent(client: AdminClient, merchantId: string): Promise<Output> {
  const result = await unwrap(client.POST('/admin/merchants/{merchantId}/test-event', { params: { path: { merchantId } } }))
  const verdict = result.delivered ? 'delivered' : 'NOT delivered'
  return { ...out(result, `webhook.test ${result.event_id}: ${verdict}\n${record(result)}`), exitCode: result.delivered ? 0 : 1 }
}

export async function ordersGet(client: AdminClient, merchantId: string, outTradeNo: string, options: Options): Promise<Output> {
  const order = await unwrap(
    client.GET('/admin/merchants/{merchantId}/orders/{outTradeNo}', {
      params: { path: { merchantId, outTradeNo }, query: { provider: options.provider } },
    }),
  )
  const summary = record({
    out_trade_no: order.out_trade_no,
    provider: order.provider,
    status: order.status,
    amount: order.amount,
    currency: order.currency,
    transaction_id: order.transaction_id,
    paid_at: order.paid_at,
    refunded_amount: order.refunded_amount,
    // Only once it happened: what is missing below is then past its retention date.
    ...(order.compacted_at === null ? {} : { compacted_at: order.compacted_at }),
  })
  const deliveries = table(
    order.deliveries.map((d) => ({ id: d.id, event_id: d.event_id, type: d.type, status: d.status, attempts: d.attempts })),
    ['id', 'event_id', 'type', 'status', 'attempts'],
  )
  return out(order, `${summary}\n\ndeliveries\n${deliveries}`)
}

/** `PUT …/orders/{outTradeNo}/refunds/{outRefundNo}` registers a refund the merchant asked the provider for. */
export async function refundsPut(
  client: AdminClient,
  path: { merchantId: string; outTradeNo: string; outRefundNo: string },
  options: Options,
): Promise<Output> {
  const amount = integer(need(options.amount, '--amount (fen)'), '--amount')
  const reply = await unwrap(
    client.PUT('/admin/merchants/{merchantId}/orders/{outTradeNo}/refunds/{outRefundNo}', { params: { path }, body: { amount } }),
  )
  return out(reply, record(reply))
}

export async function notificationsList(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const page = await unwrap(
    client.GET('/admin/merchants/{merchantId}/notifications', {
      params: {
        path: { merchantId },
        query: {
          limit: integer(options.limit, '--limit'),
          cursor: options.cursor,
          out_trade_no: options.order,
          verdict: options.verdict as 'accepted' | 'duplicate' | 'rejected' | undefined,
          reason: options.reason,
          since: options.since,
          until: options.until,
        },
      },
    }),
  )
  const rows = page.notifications.map((n) => ({
    ...n,
    // A provider notification is about no order: its type and what it names stand where an order number would.
    about: n.out_trade_no ?? ([n.notification_type, n.subject_id].filter((part) => part !== null).join(' ') || null),
    count: n.count > 1 ? n.count : '',
  }))
  const more = page.next_cursor === null ? '' : `\nmore: the same command (same filters) with --cursor ${page.next_cursor}`
  return out(page, table(rows, ['received_at', 'channel', 'verdict', 'reason', 'about', 'count']) + more)
}

export async function stats(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const reply = await unwrap(
    client.GET('/admin/merchants/{merchantId}/stats', {
      params: {
        path: { merchantId },
        query: { since: options.since, until: options.until, interval: options.interval as 'minute' | 'hour' | 'day' | undefined },
      },
    }),
  )
  const { series, ...totals } = reply
  const rate = totals.deliveries.success_rate === null ? '-' : `${(totals.deliveries.success_rate * 100).toFixed(1)} %`
  let text = `${record({ ...totals, deliveries: { ...totals.deliveries, success_rate: rate } })}`
  if (series !== undefined) {
    const rows = series.map((p) => ({
      start: p.start,
      accepted: p.notifications.accepted,
      duplicate: p.notifications.duplicate,
      rejected: p.notifications.rejected,
      delivered: p.deliveries.delivered,
      failed: p.deliveries.failed,
    }))
    text += `\n\n${table(rows, ['start', 'accepted', 'duplicate', 'rejected', 'delivered', 'failed'])}`
  }
  return out(reply, text)
}

export async function resealAll(client: AdminClient, progress: Progress): Promise<Output> {
  let resealed = 0
  let unchanged = 0
  const unreadable: string[] = []
  let cursor: string | undefined
  do {
    const page = await unwrap(client.POST('/admin/reseal', { body: cursor === undefined ? {} : { cursor } }))
    resealed += page.resealed
    unchanged += page.unchanged
    unreadable.push(...page.unreadable)
    progress(`resealed ${resealed}, already current ${unchanged}…`)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  const done = `resealed ${resealed} merchant(s); ${unchanged} already under the current MASTER_KEY`
  if (unreadable.length === 0) return out({ resealed, unchanged, unreadable }, done)
  // Left as they are: only the key they were sealed under opens them.
  const text =
    `${done}; ${unreadable.length} could not be opened with MASTER_KEY or MASTER_KEY_PREVIOUS: ${unreadable.join(', ')}\n` +
    'set MASTER_KEY_PREVIOUS to the key they were sealed under, then run reseal again'
  return { ...out({ resealed, unchanged, unreadable }, text), exitCode: 1 }
}

export async function projectionStatus(client: AdminClient): Promise<Output> {
  const status = await unwrap(client.GET('/admin/projection'))
  const since = status.oldest_parked_at === null ? '' : ` (the oldest since ${status.oldest_parked_at})`
  return out(
    status,
    `${status.parked} projection record(s) parked${since}${status.parked > 0 ? ': npm run admin -- projection redrive' : ''}`,
  )
}

export async function redriveProjection(client: AdminClient, progress: Progress): Promise<Output> {
  let redriven = 0
  let remaining = 0
  do {
    const page = await unwrap(client.POST('/admin/projection/redrive', { body: {} }))
    redriven += page.redriven
    remaining = page.remaining
    progress(`sent again ${redriven}, still parked ${remaining}…`)
    if (page.redriven === 0) break
  } while (remaining > 0)
  return out({ redriven, remaining }, `sent ${redriven} parked projection record(s) back to the queue; ${remaining} still parked`)
}

/** Every merchant's id, page by page: for the commands that walk them all. */
async function allMerchantIds(client: AdminClient): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  do {
    const page = await unwrap(client.GET('/admin/merchants', { params: { query: { limit: 100, cursor } } }))
    ids.push(...page.merchants.map((m) => m.id))
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return ids
}

interface RetentionTotals {
  checked: number
  scheduled: number
  failed: number
}

/** One merchant's retention walk, page by page: its totals. */
async function walkRetention(client: AdminClient, merchantId: string, progress: Progress): Promise<RetentionTotals> {
  const totals: RetentionTotals = { checked: 0, scheduled: 0, failed: 0 }
  let cursor: string | undefined
  do {
    const page = await unwrap(
      client.POST('/admin/merchants/{merchantId}/retention', {
        params: { path: { merchantId } },
        body: cursor === undefined ? {} : { cursor },
      }),
    )
    totals.checked += page.checked
    totals.scheduled += page.scheduled
    totals.failed += page.failed
    progress(`${merchantId}: checked ${totals.checked}, dated ${totals.scheduled}, failed ${totals.failed}…`)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return totals
}

/**
 * Gives each stored object of the merchant named (else of every merchant) its retention date: after upgrading, or
 * shortening it. Walking every merchant, one whose walk fails is reported and the others are walked.
 */
export async function scheduleRetention(client: AdminClient, merchantId: string | undefined, progress: Progress): Promise<Output> {
  const merchants = merchantId === undefined ? await allMerchantIds(client) : [merchantId]
  const totals: RetentionTotals = { checked: 0, scheduled: 0, failed: 0 }
  const unwalked: { merchant_id: string; error: string }[] = []
  for (const id of merchants) {
    try {
      const walked = await walkRetention(client, id, progress)
      totals.checked += walked.checked
      totals.scheduled += walked.scheduled
      totals.failed += walked.failed
    } catch (error) {
      if (merchantId !== undefined || !(error instanceof ApiError)) throw error
      unwalked.push({ merchant_id: id, error: `${error.status} ${error.code}: ${error.message}` })
      progress(`${id}: not walked: ${error.status} ${error.code}: ${error.message}`)
    }
  }
  let text = `checked ${totals.checked} stored object(s) of ${merchants.length} merchant(s); ${totals.scheduled} given their retention date`
  if (totals.failed > 0) text += `\n${totals.failed} could not be reached: run it again later`
  for (const { merchant_id, error } of unwalked) text += `\nnot walked: ${merchant_id} (${error})`
  const output = out({ merchants: merchants.length, ...totals, unwalked }, text)
  return totals.failed > 0 || unwalked.length > 0 ? { ...output, exitCode: 1 } : output
}
