/**
 * @module A merchant's deliveries, filtered by status, type and date, each with a link to its attempts and a button
 * to send it again; below them, recovery of every failed one in a window (./recover.ts).
 */
import { api, merchantPath, query, type Schemas } from '../api'
import {
  badge,
  failure,
  guardedClick,
  h,
  ident,
  link,
  loadMoreButton,
  notice,
  rememberFocus,
  replaceChildren,
  table,
  timeOf,
  type Child,
} from '../dom'
import { href } from '../routes'
import { dateInput, windowOf } from '../time-window'
import { recoverForm } from './recover'
// The server's own lists (a module of constants and types only: nothing else of the server enters the bundle).
import { DELIVERY_STATUSES, EVENT_TYPES } from '../../../src/storage/order/records'

type Delivery = Schemas['DeliveryList']['deliveries'][number]

/**
 * An order's number as a link to its page; a dash where there is none (a `provider.notification` is about no order).
 * `provider` (or a channel) picks the order when the merchant has one of each provider under that number.
 */
export function orderLink(merchantId: string, outTradeNo: string | null, provider?: string): Child {
  return outTradeNo === null || outTradeNo === '' ? '—' : link(href.order(merchantId, outTradeNo, provider), ident(outTradeNo))
}

/** Pending after failed attempts is shown as `retrying`: still to be sent, its endpoint failing. */
export function deliveryStatus(
  d: Pick<Delivery, 'status' | 'attempts'> & { reason?: string | null; next_attempt_at?: string | null },
): HTMLElement {
  if (d.status === 'delivered') return badge('delivered', 'ok')
  if (d.status === 'failed') return badge(`failed${d.reason ? ` (${d.reason.replaceAll('_', ' ')})` : ''}`, 'bad')
  // Pending with no time of its own: events go in order, so it goes once the one before it is delivered (or, failed,
  // recovered: it waits for that too).
  if (d.next_attempt_at === null) return badge('waiting for an earlier event to be delivered (recover it if it failed)', 'muted')
  // Attempts, not failures: a replayed delivery that had been delivered counts its success among them.
  return d.attempts > 0
    ? badge(`retrying (${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'} so far)`, 'warn')
    : badge('pending', 'muted')
}

/**
 * Sends a delivery again; says what the reply says became of it. A replay answers with the delivery pending (queued,
 * or its attempt already in flight); a refusal (409 while the endpoint is disabled) throws.
 */
export async function sendAgain(deliveryId: string): Promise<string> {
  const reply = await api<Schemas['DeliverySummary']>(`/admin/deliveries/${encodeURIComponent(deliveryId)}/replay`, { method: 'POST' })
  return reply.status === 'pending' ? 'Queued to be sent again, with the same webhook-id.' : `Not queued: the delivery is ${reply.status}.`
}

function select(id: string, label: string, values: readonly string[]): [HTMLLabelElement, HTMLSelectElement] {
  const element = h('select', { id, name: id }, h('option', { value: '' }, 'any'), ...values.map((v) => h('option', { value: v }, v)))
  return [h('label', { for: id }, label), element]
}

/**
 * `afterSends`: called once the list is drawn again after a send or a recovery, for the rest of the page (the counts,
 * the endpoint's last success) to catch up too.
 */
export async function deliveriesSection(
  merchantId: string,
  signal: AbortSignal,
  afterSends: () => Promise<void> = async () => {},
): Promise<HTMLElement> {
  const [statusLabel, status] = select('delivery-status', 'Status', DELIVERY_STATUSES)
  const [typeLabel, type] = select('delivery-type', 'Type', EVENT_TYPES)
  const [sinceLabel, since] = dateInput('delivery-since', 'Created since')
  const [untilLabel, until] = dateInput('delivery-until', 'Created before')
  const list = h('div')
  // Space kept for a line of news, so its first notice pushes no row down under the pointer: a second click on the
  // spot just clicked hit the row above's Send again.
  const news = h('div', { 'aria-live': 'polite', class: 'news' })
  const { button: more, news: moreNews } = loadMoreButton(() => loadMore())
  let rows: Delivery[] = []
  let cursor: string | null = null
  // The filter of the list on screen: Load more continues it, whatever the form says meanwhile.
  let applied: Record<string, string | undefined> = {}

  const replay = async (delivery: Delivery) => {
    const what = `${delivery.type}${delivery.out_trade_no === null ? '' : ` for ${delivery.out_trade_no}`}`
    replaceChildren(news, notice(`Sending ${what} again…`))
    try {
      replaceChildren(news, notice(`${what}: ${await sendAgain(delivery.id)}`))
    } catch (error) {
      replaceChildren(news, failure(error, 'Send again', what))
      return
    }
    // The row's button goes when the list is drawn again: the focus stays on it, or on the row's link once delivered.
    refreshSoon(rememberFocus(list, () => list.querySelector<HTMLElement>(`a[href="${href.delivery(delivery.id)}"]`)))
  }
  // One guard per delivery, kept across redraws (Load more, Filter, the refresh after a send): a send in flight is
  // not sent again from the row drawn anew meanwhile.
  const guards = new Map<string, (event: Event) => void>()
  const replayGuard = (d: Delivery) =>
    guards.get(d.id) ??
    guards
      .set(
        d.id,
        guardedClick(() => replay(d)),
      )
      .get(d.id)!
  const row = (d: Delivery): Child[] => [
    link(href.delivery(d.id), timeOf(d.created_at)),
    d.type,
    orderLink(merchantId, d.out_trade_no, d.provider),
    deliveryStatus(d),
    d.attempts,
    d.last_status_code ?? '—',
    timeOf(d.next_attempt_at),
    d.status === 'delivered'
      ? ''
      : h('button', { type: 'button', class: 'small', 'data-focus-key': `replay-${d.id}`, onclick: replayGuard(d) }, 'Send again'),
  ]
  const draw = () =>
    replaceChildren(
      list,
      rows.length === 0
        ? h('p', {}, 'No deliveries match.')
        : table(
            'Deliveries',
            ['Created', 'Type', 'Order', 'Status', 'Attempts', 'Last reply', 'Next attempt', { hidden: 'Action' }],
            rows.map(row),
          ),
    )
  const page = (after: string | null) =>
    api<Schemas['DeliveryList']>(`${merchantPath(merchantId, 'deliveries')}${query({ ...applied, limit: 50, cursor: after ?? undefined })}`)
  /** The first page of the applied filter; on failure the old list goes, for it no longer answers what was asked. */
  const refresh = async () => {
    replaceChildren(moreNews)
    try {
      const reply = await page(null)
      rows = reply.deliveries
      cursor = reply.next_cursor
      draw()
    } catch (error) {
      rows = []
      cursor = null
      replaceChildren(list, failure(error))
    }
    more.hidden = cursor === null
  }
  /** After a replay or a recovery, once the runs it queued had a moment: not when the page has been left meanwhile. */
  const refreshSoon = (restoreFocus: () => void = () => {}) => {
    setTimeout(
      () =>
        signal.aborted ||
        void refresh()
          .then(restoreFocus)
          .then(afterSends)
          .catch(() => {}),
      1500,
    )
  }
  const loadMore = async () => {
    const reply = await page(cursor)
    rows = [...rows, ...reply.deliveries]
    cursor = reply.next_cursor
    more.hidden = cursor === null
    draw()
  }
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        const window = windowOf(since, until, ['Created since', 'Created before'])
        if (typeof window === 'string') {
          replaceChildren(news, notice(window, 'alert'))
          return
        }
        replaceChildren(news)
        applied = { status: status.value, type: type.value, ...window }
        void refresh()
      },
    },
    h('div', {}, statusLabel, status),
    h('div', {}, typeLabel, type),
    h('div', {}, sinceLabel, since),
    h('div', {}, untilLabel, until),
    h('button', { type: 'submit' }, 'Filter'),
  )
  await refresh()
  return h(
    'section',
    { 'aria-labelledby': 'deliveries-heading', class: 'card' },
    h('h2', { id: 'deliveries-heading' }, 'Deliveries'),
    filters,
    news,
    list,
    more,
    moreNews,
    recoverForm(merchantId, refreshSoon),
  )
}
