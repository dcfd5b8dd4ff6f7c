/**
 * @module A merchant's deliveries, filtered by status, type and date, each with a link to its attempts and a button
 * to send it again; and recovery of every failed one in a window, after a confirmation that says how many.
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
import { instantFromLocalInput, localInputFromMs } from '../format'
import { href } from '../routes'
// The server's own lists (a module of constants and types only: nothing else of the server enters the bundle).
import { DELIVERY_STATUSES, EVENT_TYPES } from '../../../src/storage/order/records'

type Delivery = Schemas['DeliveryList']['deliveries'][number]
type Window = { since: string | undefined; until: string | undefined }

const RECOVER_COUNT_PAGES = 20

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
  // Pending with no time of its own: events of an order go in order, so it goes once the one before it is settled.
  if (d.next_attempt_at === null) return badge('waiting for an earlier event of its order', 'muted')
  // Attempts, not failures: a replayed delivery that had been delivered counts its success among them.
  return d.attempts > 0
    ? badge(`retrying (${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'} so far)`, 'warn')
    : badge('pending', 'muted')
}

/**
 * Sends a delivery again; says what the reply says became of it. A replay answers with the delivery pending (queued,
 * or its attempt already in flight); a refusal (409 while the endpoint is disabled) throws, with the API's message.
 */
export async function sendAgain(deliveryId: string): Promise<string> {
  const reply = await api<Schemas['DeliverySummary']>(`/admin/deliveries/${encodeURIComponent(deliveryId)}/replay`, { method: 'POST' })
  return reply.status === 'pending' ? 'Queued to be sent again, with the same webhook-id.' : `Not queued: the delivery is ${reply.status}.`
}

/** A time window from two `datetime-local` inputs, or what is wrong with it. */
export function windowOf(since: HTMLInputElement, until: HTMLInputElement, labels: [string, string]): Window | string {
  const window = { since: instantFromLocalInput(since.value), until: instantFromLocalInput(until.value) }
  if (window.since !== undefined && window.until !== undefined && window.since >= window.until) {
    return `“${labels[0]}” must be earlier than “${labels[1]}”.`
  }
  return window
}

function select(id: string, label: string, values: readonly string[]): [HTMLLabelElement, HTMLSelectElement] {
  const element = h('select', { id, name: id }, h('option', { value: '' }, 'any'), ...values.map((v) => h('option', { value: v }, v)))
  return [h('label', { for: id }, label), element]
}

function dateInput(id: string, label: string, value = ''): [HTMLLabelElement, HTMLInputElement] {
  return [h('label', { for: id }, label), h('input', { id, name: id, type: 'datetime-local', value })]
}

export async function deliveriesSection(merchantId: string, signal: AbortSignal): Promise<HTMLElement> {
  const [statusLabel, status] = select('delivery-status', 'Status', DELIVERY_STATUSES)
  const [typeLabel, type] = select('delivery-type', 'Type', EVENT_TYPES)
  const [sinceLabel, since] = dateInput('delivery-since', 'Created since')
  const [untilLabel, until] = dateInput('delivery-until', 'Created before')
  const list = h('div')
  const news = h('div', { 'aria-live': 'polite' })
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
      replaceChildren(news, failure(error))
      return
    }
    // The row's button goes when the list is drawn again: the focus stays on it, or on the row's link once delivered.
    refreshSoon(rememberFocus(list, () => list.querySelector<HTMLElement>(`a[href="${href.delivery(delivery.id)}"]`)))
  }
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
      : h(
          'button',
          { type: 'button', class: 'small', 'data-focus-key': `replay-${d.id}`, onclick: guardedClick(() => replay(d)) },
          'Send again',
        ),
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
    setTimeout(() => signal.aborted || void refresh().then(restoreFocus), 1500)
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

/** Failed deliveries that recover would send: every failed one in the window, of any type. */
async function countRecoverable(merchantId: string, window: Window): Promise<{ count: number; capped: boolean }> {
  let count = 0
  let cursor: string | undefined
  for (let page = 0; page < RECOVER_COUNT_PAGES; page++) {
    const reply = await api<Schemas['DeliveryList']>(
      `${merchantPath(merchantId, 'deliveries')}${query({ status: 'failed', ...window, limit: 100, cursor })}`,
    )
    count += reply.deliveries.length
    if (reply.next_cursor === null) return { count, capped: false }
    cursor = reply.next_cursor
  }
  return { count, capped: true }
}

const deliveries = (n: number) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`

function recoverForm(merchantId: string, refreshSoon: () => void): HTMLElement {
  const [sinceLabel, since] = dateInput('recover-since', 'Failed deliveries created since', localInputFromMs(Date.now() - 86_400_000))
  const [untilLabel, until] = dateInput('recover-until', 'Created before (optional; default now)')
  since.required = true
  // Focused once a recovery is sent: the dialog would give the focus back to the Recover button, where a second Enter
  // started the whole thing again over deliveries already queued.
  const status = h('div', { 'aria-live': 'polite', tabindex: -1 })
  const dialog = h('dialog', { 'aria-labelledby': 'recover-title' })
  // One recovery at a time: a submit while one is counted or sent is ignored.
  let running = false
  const recover = async (window: { since: string; until: string }, counted: number) => {
    let recovered = 0
    let cursor: string | undefined
    do {
      const reply: Schemas['RecoverResult'] = await api(merchantPath(merchantId, 'deliveries', 'recover'), {
        method: 'POST',
        body: { ...window, status: 'failed', ...(cursor ? { cursor } : {}) },
      })
      recovered += reply.recovered
      cursor = reply.next_cursor ?? undefined
    } while (cursor !== undefined)
    // The reply's count is what was queued; one that became pending or delivered since the count is not sent twice.
    const short = recovered < counted ? ` (${counted} counted: the others were no longer failed, or could not be sent again)` : ''
    replaceChildren(status, notice(`${deliveries(recovered)} queued to be sent again.${short}`))
    refreshSoon()
  }
  const confirm = (count: number, capped: boolean, window: { since: string; until: string }) => {
    const what = `${capped ? 'At least ' : ''}${count} failed ${count === 1 ? 'delivery' : 'deliveries'}`
    const send = h(
      'button',
      {
        type: 'button',
        onclick: (event: Event) => {
          if ((event as UIEvent).detail > 1 || running) return
          running = true
          dialog.close()
          replaceChildren(status, notice('Sending again…'))
          status.focus()
          void recover(window, count)
            .catch(fail)
            .finally(() => (running = false))
        },
      },
      `Send ${count}`,
    )
    replaceChildren(
      dialog,
      h('h2', { id: 'recover-title' }, 'Send them again?'),
      h('p', {}, `${what} will be sent again, each with its original webhook-id.`),
      h('div', { class: 'actions' }, send, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')),
    )
    dialog.showModal()
    send.focus()
  }
  const fail = (error: unknown) => replaceChildren(status, failure(error))
  return h(
    'form',
    {
      class: 'recover',
      'aria-labelledby': 'recover-heading',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        if (running || dialog.open) return
        const chosen = windowOf(since, until, ['Failed deliveries created since', 'Created before'])
        if (typeof chosen === 'string') return fail(chosen)
        const window = { since: chosen.since ?? '', until: chosen.until ?? new Date().toISOString() }
        if (window.since >= window.until) return fail('“Failed deliveries created since” must be in the past.')
        replaceChildren(status, notice('Counting…'))
        running = true
        try {
          const { count, capped } = await countRecoverable(merchantId, window)
          if (count === 0) {
            replaceChildren(status, notice('No delivery created in that window is failed: there is nothing to recover.'))
          } else {
            replaceChildren(status)
            confirm(count, capped, window)
          }
        } catch (error) {
          fail(error)
        } finally {
          running = false
        }
      },
    },
    h('h3', { id: 'recover-heading' }, 'Recover'),
    sinceLabel,
    since,
    untilLabel,
    until,
    h('button', { type: 'submit' }, 'Recover failed deliveries…'),
    status,
    dialog,
  )
}
