/**
 * @module A merchant's deliveries, filtered by status, type and date, each with a link to its attempts and a button
 * to send it again; and recovery of every failed one since a time, after a confirmation that says how many.
 */
import { api, merchantPath, query, type Schemas } from '../api'
import { badge, h, link, notice, replaceChildren, table, timeOf, type Child, failure } from '../dom'
import { instantFromLocalInput, localInputFromMs } from '../format'
import { href } from '../routes'
// The server's own lists (a module of constants and types only: nothing else of the server enters the bundle).
import { DELIVERY_STATUSES, EVENT_TYPES } from '../../../src/storage/order/records'

type Delivery = Schemas['DeliverySummary']

const RECOVER_COUNT_PAGES = 20

/** Pending after failed attempts is shown as `retrying`: still to be sent, its endpoint failing. */
/** An order's number as a link to its page; a dash where there is none (a `provider.notification` is about no order). */
export function orderLink(merchantId: string, outTradeNo: string | null): Child {
  return outTradeNo === null || outTradeNo === '' ? '—' : link(href.order(merchantId, outTradeNo), outTradeNo)
}

export function deliveryStatus(d: Pick<Delivery, 'status' | 'attempts'> & { reason?: string | null }): HTMLElement {
  if (d.status === 'delivered') return badge('delivered', 'ok')
  if (d.status === 'failed') return badge(`failed${d.reason ? ` (${d.reason.replaceAll('_', ' ')})` : ''}`, 'bad')
  return d.attempts > 0 ? badge(`retrying (${d.attempts} failed)`, 'warn') : badge('pending', 'muted')
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
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => void load(false) }, 'Load more')
  let rows: Delivery[] = []
  let cursor: string | null = null

  const replay = async (delivery: Delivery) => {
    await api(`/admin/deliveries/${encodeURIComponent(delivery.id)}/replay`, { method: 'POST' })
    replaceChildren(news, notice(`${delivery.type}${delivery.out_trade_no === null ? '' : ` for ${delivery.out_trade_no}`} queued again.`))
    setTimeout(() => signal.aborted || void load(true), 1500)
  }
  const row = (d: Delivery): Child[] => [
    link(href.delivery(d.id), timeOf(d.created_at)),
    d.type,
    orderLink(merchantId, d.out_trade_no),
    deliveryStatus(d),
    d.attempts,
    d.last_status_code ?? '—',
    timeOf(d.next_attempt_at),
    d.status === 'delivered' ? '' : h('button', { type: 'button', class: 'small', onclick: () => void replay(d) }, 'Send again'),
  ]
  const load = async (fresh: boolean) => {
    const filters = {
      status: status.value,
      type: type.value,
      since: instantFromLocalInput(since.value),
      until: instantFromLocalInput(until.value),
    }
    const reply = await api<Schemas['DeliveryList']>(
      `${merchantPath(merchantId, 'deliveries')}${query({ ...filters, limit: 50, cursor: fresh ? undefined : (cursor ?? undefined) })}`,
    )
    rows = fresh ? reply.deliveries : [...rows, ...reply.deliveries]
    cursor = reply.next_cursor
    more.hidden = cursor === null
    replaceChildren(
      list,
      rows.length === 0
        ? h('p', {}, 'No deliveries match.')
        : table('Deliveries', ['Created', 'Type', 'Order', 'Status', 'Attempts', 'Last reply', 'Next attempt', ''], rows.map(row)),
    )
  }
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        void load(true)
      },
    },
    h('div', {}, statusLabel, status),
    h('div', {}, typeLabel, type),
    h('div', {}, sinceLabel, since),
    h('div', {}, untilLabel, until),
    h('button', { type: 'submit' }, 'Filter'),
  )
  await load(true)
  return h(
    'section',
    { 'aria-labelledby': 'deliveries-heading', class: 'card' },
    h('h2', { id: 'deliveries-heading' }, 'Deliveries'),
    filters,
    news,
    list,
    more,
    recoverForm(merchantId, () => load(true)),
  )
}

/** Failed deliveries that recover would send: those of orders (a provider notification's are replayed one by one). */
async function countRecoverable(merchantId: string, since: string, until: string): Promise<{ count: number; capped: boolean }> {
  let count = 0
  let cursor: string | undefined
  for (let page = 0; page < RECOVER_COUNT_PAGES; page++) {
    const reply = await api<Schemas['DeliveryList']>(
      `${merchantPath(merchantId, 'deliveries')}${query({ status: 'failed', since, until, limit: 100, cursor })}`,
    )
    count += reply.deliveries.filter((d) => d.type !== 'provider.notification').length
    if (reply.next_cursor === null) return { count, capped: false }
    cursor = reply.next_cursor
  }
  return { count, capped: true }
}

function recoverForm(merchantId: string, reload: () => Promise<void>): HTMLElement {
  const [sinceLabel, since] = dateInput('recover-since', 'Failed deliveries created since', localInputFromMs(Date.now() - 86_400_000))
  since.required = true
  const status = h('div', { 'aria-live': 'polite' })
  const dialog = h('dialog', { 'aria-labelledby': 'recover-title' })
  const recover = async (window: { since: string; until: string }) => {
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
    replaceChildren(status, notice(`${recovered} ${recovered === 1 ? 'delivery' : 'deliveries'} queued to be sent again.`))
    setTimeout(() => void reload(), 1500)
  }
  const confirm = (count: number, capped: boolean, window: { since: string; until: string }) => {
    const what = `${capped ? 'At least ' : ''}${count} failed ${count === 1 ? 'delivery' : 'deliveries'}`
    const send = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          dialog.close()
          void recover(window).catch(fail)
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
        const window = { since: instantFromLocalInput(since.value) ?? '', until: new Date().toISOString() }
        replaceChildren(status, notice('Counting…'))
        try {
          const { count, capped } = await countRecoverable(merchantId, window.since, window.until)
          if (count === 0) {
            replaceChildren(
              status,
              notice('No failed delivery since then. One still being retried is pending: open it and use Send again.'),
            )
          } else {
            replaceChildren(status)
            confirm(count, capped, window)
          }
        } catch (error) {
          fail(error)
        }
      },
    },
    h('h3', { id: 'recover-heading' }, 'Recover'),
    sinceLabel,
    since,
    h('button', { type: 'submit' }, 'Recover failed deliveries…'),
    status,
    dialog,
  )
}
