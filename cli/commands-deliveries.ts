/** @module The CLI's delivery commands: list, one with its attempts, replay, and bulk recovery with progress. */
import { UsageError } from './body.ts'
import { unwrap, type AdminClient, type Query } from './client.ts'
import { listPages, moreLine, pageLimit, type Options, type Output, type Progress } from './commands.ts'
import { deliveryState, record, table } from './format.ts'

/** Orders per recover call: small pages, so progress shows as the recovery goes. */
const RECOVER_PAGE = 50

type DeliveryQuery = Query<'listDeliveries'>

export async function deliveriesList(client: AdminClient, merchantId: string, options: Options): Promise<Output> {
  const limit = pageLimit(options)
  const { items: deliveries, next } = await listPages(options, async (cursor) => {
    const page = await unwrap(
      client.GET('/admin/merchants/{merchantId}/deliveries', {
        params: {
          path: { merchantId },
          query: {
            limit,
            cursor,
            status: options.status as DeliveryQuery['status'],
            type: options.type as DeliveryQuery['type'],
            out_trade_no: options.order,
            since: options.since,
            until: options.until,
          },
        },
      }),
    )
    return { items: page.deliveries, next: page.next_cursor }
  })
  const rows = deliveries.map((d) => ({
    id: d.id,
    event_id: d.event_id,
    type: d.type,
    out_trade_no: d.out_trade_no,
    status: deliveryState(d),
    reason: d.reason,
    attempts: d.attempts,
    last: d.last_status_code,
    created: d.created_at,
  }))
  return {
    json: { deliveries, next_cursor: next },
    text: table(rows, ['id', 'event_id', 'type', 'out_trade_no', 'status', 'reason', 'attempts', 'last', 'created']) + moreLine(next),
  }
}

export async function deliveriesGet(client: AdminClient, deliveryId: string): Promise<Output> {
  const delivery = await unwrap(client.GET('/admin/deliveries/{deliveryId}', { params: { path: { deliveryId } } }))
  const { attempts, event, ...rest } = delivery
  const attemptRows = attempts.map((a) => ({
    at: a.at,
    status: a.status_code,
    ms: a.duration_ms,
    error: a.error,
    reply: (a.response_snippet ?? '').replace(/\s+/g, ' ').slice(0, 60),
  }))
  return {
    json: delivery,
    text: `${record(rest)}\n\nattempts\n${table(attemptRows, ['at', 'status', 'ms', 'error', 'reply'])}\n\nevent\n${JSON.stringify(event, null, 2)}`,
  }
}

export async function deliveriesReplay(client: AdminClient, deliveryId: string): Promise<Output> {
  const delivery = await unwrap(client.POST('/admin/deliveries/{deliveryId}/replay', { params: { path: { deliveryId } } }))
  return {
    json: delivery,
    text: `queued ${delivery.event_id} again (${[delivery.type, delivery.out_trade_no].filter((v) => v !== null).join(', ')})`,
  }
}

/** Sends every failed delivery of the window again, a page of orders per call, reporting as it goes. */
export async function deliveriesRecover(client: AdminClient, merchantId: string, options: Options, progress: Progress): Promise<Output> {
  if (options.since === undefined) throw new UsageError('deliveries recover needs --since <ISO-8601 instant> (and optionally --until)')
  let recovered = 0
  let orders = 0
  let cursor: string | undefined
  do {
    const page = await unwrap(
      client.POST('/admin/merchants/{merchantId}/deliveries/recover', {
        params: { path: { merchantId } },
        body: { since: options.since, until: options.until, status: 'failed', limit: RECOVER_PAGE, cursor },
      }),
    )
    recovered += page.recovered
    orders += page.orders
    progress(`recovering: ${recovered} deliveries queued again, ${orders} orders done${page.next_cursor === null ? '' : '…'}`)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return {
    json: { recovered, orders },
    text: `recovered ${plural(recovered, 'delivery', 'deliveries')} of ${plural(orders, 'order', 'orders')}: each is sent again with its original webhook-id`,
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
