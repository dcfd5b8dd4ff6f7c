/**
 * @module The CLI's commands, each one or a few calls of the typed admin client. Each returns what `--json` prints
 * (the API's own replies) and the readable text shown otherwise. Here what they share, and the order, refund,
 * notification and stats commands; merchants, deliveries and the gateway-wide walks have files of their own.
 */
import { UsageError, type BodyOptions } from './body.ts'
import { unwrap, type AdminClient, type Query } from './client.ts'
import { deliveryState, record, table } from './format.ts'

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

export function integer(value: string, flag: string): number
export function integer(value: string | undefined, flag: string): number | undefined
export function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: expected a whole number`)
  return Number(value)
}

/** `--limit`: a list's page size, 1 to 100 as the API takes it (refused here, before anything is sent). */
export function pageLimit(options: Pick<Options, 'limit'>): number | undefined {
  const limit = integer(options.limit, '--limit')
  if (limit !== undefined && (limit < 1 || limit > 100)) throw new UsageError('--limit: from 1 to 100')
  return limit
}

export const out = (json: unknown, text: string): Output => ({ json, text })

/**
 * A list's page from `--cursor`, or with `--all` every page from there on: the items, and the cursor after them (null
 * at the end). `read` fetches one page after a cursor.
 */
export async function listPages<Item>(
  options: Pick<Options, 'cursor' | 'all'>,
  read: (cursor: string | undefined) => Promise<{ items: Item[]; next: string | null }>,
): Promise<{ items: Item[]; next: string | null }> {
  const items: Item[] = []
  let cursor = options.cursor
  let next: string | null = null
  do {
    const page = await read(cursor)
    items.push(...page.items)
    next = page.next
    cursor = next ?? undefined
  } while (options.all === true && next !== null)
  return { items, next }
}

/** The line after a page of a list: how to get the next one, or nothing at the end. */
export function moreLine(next: string | null): string {
  return next === null ? '' : `\nmore: the same command (same filters) with --cursor ${next}, or --all for every page`
}

export async function ordersGet(client: AdminClient, merchantId: string, outTradeNo: string, options: Options): Promise<Output> {
  const order = await unwrap(
    client.GET('/admin/merchants/{merchantId}/orders/{outTradeNo}', {
      params: { path: { merchantId, outTradeNo }, query: { provider: options.provider as Query<'getOrder'>['provider'] } },
    }),
  )
  const summary = record({
    out_trade_no: order.out_trade_no,
    provider: order.provider,
    status: order.status,
    amount: order.amount,
    // What the merchant registered: beside an amount_mismatch, the figure the payment did not match.
    ...(order.expected_amount === null ? {} : { expected_amount: order.expected_amount }),
    currency: order.currency,
    transaction_id: order.transaction_id,
    paid_at: order.paid_at,
    refunded_amount: order.refunded_amount,
    // Only once it happened: what is missing below is then past its retention date.
    ...(order.compacted_at === null ? {} : { compacted_at: order.compacted_at }),
    ...(order.other_providers.length === 0 ? {} : { other_providers: order.other_providers.join(', ') }),
  })
  const notifications = table(
    order.notifications.map((n) => ({
      received_at: n.received_at,
      channel: n.channel,
      verdict: n.verdict,
      reason: n.reason,
      source: n.source,
    })),
    ['received_at', 'channel', 'verdict', 'reason', 'source'],
  )
  const refunds = table(
    (order.refunds ?? []).map((r) => ({
      out_refund_no: r.out_refund_no,
      refund_id: r.refund_id,
      amount: r.amount,
      registered: r.registered_amount,
      status: r.status,
      next_query: r.next_query_at,
    })),
    ['out_refund_no', 'refund_id', 'amount', 'registered', 'status', 'next_query'],
  )
  const deliveries = table(
    order.deliveries.map((d) => ({ id: d.id, event_id: d.event_id, type: d.type, status: deliveryState(d), attempts: d.attempts })),
    ['id', 'event_id', 'type', 'status', 'attempts'],
  )
  const sections = [summary, `notifications\n${notifications}`, `refunds\n${refunds}`, `deliveries\n${deliveries}`]
  if (order.reconciliation !== null) sections.push(`queries\n${record(order.reconciliation)}`)
  return out(order, sections.join('\n\n'))
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
  const limit = pageLimit(options)
  const { items: notifications, next } = await listPages(options, async (cursor) => {
    const page = await unwrap(
      client.GET('/admin/merchants/{merchantId}/notifications', {
        params: {
          path: { merchantId },
          query: {
            limit,
            cursor,
            out_trade_no: options.order,
            verdict: options.verdict as Query<'listNotifications'>['verdict'],
            reason: options.reason,
            since: options.since,
            until: options.until,
          },
        },
      }),
    )
    return { items: page.notifications, next: page.next_cursor }
  })
  const rows = notifications.map((n) => ({
    ...n,
    // A provider notification is about no order: its type and what it names stand where an order number would.
    about: n.out_trade_no ?? ([n.notification_type, n.subject_id].filter((part) => part !== null).join(' ') || null),
    count: n.count > 1 ? n.count : '',
  }))
  return out(
    { notifications, next_cursor: next },
    table(rows, ['received_at', 'channel', 'verdict', 'reason', 'about', 'count']) + moreLine(next),
  )
}

export async function stats(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const reply = await unwrap(
    client.GET('/admin/merchants/{merchantId}/stats', {
      params: {
        path: { merchantId },
        query: { since: options.since, until: options.until, interval: options.interval as Query<'getStats'>['interval'] },
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
