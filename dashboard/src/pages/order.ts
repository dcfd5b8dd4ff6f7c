/**
 * @module One order's whole story on one timeline: each notification (verdict, reason), each event with its delivery
 * and that delivery's attempts, in the order they happened; then its refunds and their state.
 */
import { api, ApiError, merchantPath, query, type Schemas } from '../api'
import { badge, breadcrumbs, h, link, notice, replaceChildren, table, timeOf } from '../dom'
import { localTime, milliseconds, money } from '../format'
import { href } from '../routes'
import { attemptError, orderStatus, refundStatus } from '../words'
import { deliveryStatus } from './deliveries'
import { reasonOf } from './rejected'

type Order = Schemas['Order']
type OrderEvent = Order['events'][number]

const VERDICT_TONE = { accepted: 'ok', duplicate: 'muted', rejected: 'bad' } as const

/** What an event is worth: a refund's own amount for `refund.*` (its `data.amount` is the order's total). */
function eventAmount(event: OrderEvent): number | undefined {
  const { data } = event
  const amount = event.type.startsWith('refund.') ? (data.refund as { amount?: unknown } | null | undefined)?.amount : data.amount
  return typeof amount === 'number' ? amount : undefined
}

/** The order's amount as the gateway knows it: paid, else registered, else what its newest payment event says (a close). */
function orderAmount(order: Order): number | null {
  if (order.amount !== null) return order.amount
  if (order.expected_amount !== null) return order.expected_amount
  const payments = order.events.filter((e) => e.type.startsWith('payment.'))
  return payments.map(eventAmount).findLast((amount) => amount !== undefined) ?? null
}

function timeline(merchantId: string, order: Order): HTMLElement {
  type Entry = { at: string; item: HTMLElement }
  const entries: Entry[] = order.notifications.map((n) => ({
    at: n.received_at,
    item: h(
      'li',
      { class: 'notification' },
      // The gateway's own provider query is not a notification the provider sent.
      h('span', { class: 'kind' }, n.source === 'query' ? 'Query result' : 'Notification'),
      timeOf(n.received_at),
      ` ${n.channel} `,
      badge(n.verdict, VERDICT_TONE[n.verdict]),
      n.reason ? [' ', reasonOf(n.reason)] : null,
    ),
  }))
  for (const event of order.events) {
    const delivery = order.deliveries.find((d) => d.event_id === event.id)
    const value = eventAmount(event)
    // An event names its currency (a refund's is its order's).
    const currency = typeof event.data.currency === 'string' ? event.data.currency : order.currency
    const amount = value === undefined ? '' : ` ${money(value, currency)}`
    const attempts = (delivery?.attempt_log ?? []).map((a) =>
      h(
        'li',
        {},
        h('span', { class: 'kind' }, `Attempt ${a.number}`),
        timeOf(a.started_at),
        ' ',
        a.status_code === null ? attemptError(a.error ?? 'no reply') : `HTTP ${a.status_code}`,
        ` in ${milliseconds(a.latency_ms)}`,
      ),
    )
    entries.push({
      at: event.created_at,
      item: h(
        'li',
        { class: 'event' },
        h('span', { class: 'kind' }, 'Event'),
        timeOf(event.created_at),
        ` ${event.type}${amount} `,
        // Named by its event for a screen reader's list of links, where every one read "delivery".
        delivery
          ? [
              deliveryStatus(delivery),
              ' ',
              link(
                href.delivery(delivery.id),
                'delivery',
                h('span', { class: 'visually-hidden' }, ` of ${event.type}, ${localTime(event.created_at)}`),
              ),
            ]
          : null,
        attempts.length > 0 ? h('ol', { class: 'attempts' }, attempts) : null,
      ),
    })
  }
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  return h('ol', { class: 'timeline', 'aria-label': `Timeline of ${order.out_trade_no} at ${merchantId}` }, ...entries.map((e) => e.item))
}

/** Why a timeline may begin late: what the order no longer keeps, past its retention date. Static: not a live region. */
function compacted(merchantId: string, order: Order): HTMLElement | null {
  if (order.compacted_at === null) return null
  return h(
    'p',
    { class: 'notice status', id: 'compacted' },
    'At ',
    timeOf(order.compacted_at),
    ', past its retention date, the gateway dropped the events this order had delivered, and its duplicates and refusals: ',
    'they are no longer listed here. ',
    link(href.merchant(merchantId), "The merchant's deliveries"),
    ' still show their status.',
  )
}

/** The same number as an order of other providers (the API names them: paid twice, say): each link says which. */
function sameNumberElsewhere(merchantId: string, order: Order): HTMLElement | null {
  const links = order.other_providers.map((provider) => link(href.order(merchantId, order.out_trade_no, provider), `its ${provider} order`))
  return links.length === 0
    ? null
    : notice(['This number is also an order of another provider: ', links.flatMap((a, i) => (i === 0 ? [a] : [', ', a]))])
}

/**
 * An order the gateway never stored may still be named by notifications it refused after checking their signature (a
 * merchant id that does not match, say): the answer to "why did this payment never arrive?".
 */
async function refusedNaming(merchantId: string, outTradeNo: string): Promise<HTMLElement | null> {
  const path = `${merchantPath(merchantId, 'notifications')}${query({ out_trade_no: outTradeNo, verdict: 'rejected', limit: 50 })}`
  const reply = await api<Schemas['NotificationList']>(path).catch(() => null)
  if (reply === null || reply.notifications.length === 0) return null
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'refused-heading' },
    h('h2', { id: 'refused-heading' }, 'Refused notifications naming this order'),
    h('p', {}, 'Authentic notifications about this order that the gateway refused, newest first, with the reason.'),
    table(
      'Refused notifications',
      ['Received', 'Channel', 'Reason'],
      reply.notifications.map((n) => [timeOf(n.received_at), n.channel, reasonOf(n.reason)]),
    ),
  )
}

export async function orderPage(main: HTMLElement, merchantId: string, outTradeNo: string, provider: string | undefined): Promise<void> {
  let order: Order
  try {
    order = await api<Order>(`${merchantPath(merchantId, 'orders', outTradeNo)}${query({ provider })}`)
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error
    const refused = await refusedNaming(merchantId, outTradeNo)
    replaceChildren(main, h('h1', { tabindex: -1 }, `Order ${outTradeNo}`), notice(error.message, 'alert'), refused)
    return
  }
  // A link without a provider shows the order with the latest activity; the others stay reachable from here.
  const elsewhere = sameNumberElsewhere(merchantId, order)
  const { refunds } = order
  replaceChildren(
    main,
    breadcrumbs(link(href.merchants(), 'Merchants'), link(href.merchant(merchantId), merchantId)),
    h('h1', { tabindex: -1 }, `Order ${order.out_trade_no}`),
    elsewhere,
    h(
      'section',
      { class: 'card', 'aria-label': 'Order' },
      h(
        'dl',
        {},
        h('dt', {}, 'Status'),
        h('dd', {}, orderStatus(order.status)),
        h('dt', {}, 'Provider'),
        h('dd', {}, order.provider),
        h('dt', {}, 'Amount'),
        h('dd', {}, money(orderAmount(order), order.currency)),
        h('dt', {}, 'Refunded'),
        h('dd', {}, money(order.refunded_amount, order.currency)),
        h('dt', {}, 'Paid at'),
        h('dd', {}, timeOf(order.paid_at)),
        h('dt', {}, 'Transaction'),
        h('dd', {}, order.transaction_id ? h('code', {}, order.transaction_id) : '—'),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'timeline-heading' },
      h('h2', { id: 'timeline-heading' }, 'Timeline'),
      compacted(merchantId, order),
      timeline(merchantId, order),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'refunds-heading' },
      h('h2', { id: 'refunds-heading' }, 'Refunds'),
      refunds.length === 0
        ? h('p', {}, 'No refunds.')
        : table(
            'Refunds',
            ['Refund', 'Provider id', 'Amount', 'Registered', 'State'],
            refunds.map((r) => [
              r.out_refund_no,
              r.refund_id ?? '—',
              money(r.amount, order.currency),
              money(r.registered_amount, order.currency),
              refundStatus(r.status),
            ]),
          ),
    ),
  )
}
