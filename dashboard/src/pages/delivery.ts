/** @module One delivery: what it carries, every attempt (status code, duration, the start of the reply), and Send again. */
import { api, ApiError, type Schemas } from '../api'
import { h, link, notice, replaceChildren, table, timeOf, failure } from '../dom'
import { milliseconds } from '../format'
import { href } from '../routes'
import { deliveryStatus, orderLink } from './deliveries'

type Delivery = Schemas['Delivery']

/** While a delivery is still pending its page looks again this often, so a retry or a replay shows up by itself. */
const REFRESH_MS = 2000

function attemptsTable(delivery: Delivery): HTMLElement {
  if (delivery.attempts.length === 0) return h('p', {}, 'No attempt yet.')
  return table(
    'Attempts',
    ['#', 'At', 'Status code', 'Duration', 'Error', 'Response'],
    delivery.attempts.map((a, i) => [
      i + 1,
      timeOf(a.at),
      a.status_code ?? '—',
      milliseconds(a.duration_ms),
      a.error ?? '—',
      a.response_snippet === null || a.response_snippet === '' ? '—' : h('pre', { class: 'snippet' }, a.response_snippet),
    ]),
  )
}

function view(delivery: Delivery, news: HTMLElement, replay: () => void): HTMLElement[] {
  return [
    h(
      'p',
      { class: 'crumbs' },
      link(href.merchants(), 'Merchants'),
      ' / ',
      link(href.merchant(delivery.merchant_id), delivery.merchant_id),
      ' / ',
    ),
    h('h1', { tabindex: -1 }, `Delivery of ${delivery.type}`),
    h(
      'section',
      { class: 'card', 'aria-label': 'Delivery' },
      h(
        'dl',
        {},
        h('dt', {}, 'Status'),
        h(
          'dd',
          { id: 'delivery-status' },
          deliveryStatus({ status: delivery.status, attempts: delivery.attempts.length, reason: delivery.reason }),
        ),
        h('dt', {}, 'Order'),
        h('dd', {}, orderLink(delivery.merchant_id, delivery.out_trade_no)),
        h('dt', {}, 'Delivery id'),
        h('dd', {}, h('code', {}, delivery.id)),
        h('dt', {}, 'webhook-id'),
        h('dd', {}, h('code', {}, delivery.event_id)),
        h('dt', {}, 'Created'),
        h('dd', {}, timeOf(delivery.created_at)),
        h('dt', {}, 'Next attempt'),
        h('dd', {}, timeOf(delivery.next_attempt_at)),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: replay }, 'Send again')),
      news,
    ),
    h(
      'section',
      { 'aria-labelledby': 'attempts-heading', class: 'card' },
      h('h2', { id: 'attempts-heading' }, 'Attempts'),
      attemptsTable(delivery),
    ),
    h(
      'details',
      { class: 'card' },
      h('summary', {}, 'The event as the merchant receives it'),
      h('pre', { class: 'snippet' }, JSON.stringify(delivery.event, null, 2)),
    ),
  ]
}

export async function deliveryPage(main: HTMLElement, deliveryId: string, signal: AbortSignal): Promise<void> {
  const path = `/admin/deliveries/${encodeURIComponent(deliveryId)}`
  const news = h('div', { 'aria-live': 'polite' })
  let timer: ReturnType<typeof setTimeout> | undefined
  signal.addEventListener('abort', () => clearTimeout(timer))
  const replay = async () => {
    replaceChildren(news, notice('Sending again…'))
    try {
      await api(`${path}/replay`, { method: 'POST' })
      replaceChildren(news, notice('Queued: it is sent now, with the same webhook-id.'))
      await draw(false)
    } catch (error) {
      replaceChildren(news, failure(error))
    }
  }
  const draw = async (first: boolean) => {
    clearTimeout(timer)
    let delivery: Delivery
    try {
      delivery = await api<Delivery>(path)
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error
      replaceChildren(main, h('h1', { tabindex: -1 }, 'Delivery'), notice(`There is no delivery ${deliveryId}.`, 'alert'))
      return
    }
    if (signal.aborted) return
    // Keep the focus where it was when the page redraws itself.
    const focused = first ? null : document.activeElement?.textContent
    replaceChildren(main, ...view(delivery, news, () => void replay()))
    if (focused) [...main.querySelectorAll('button')].find((b) => b.textContent === focused)?.focus()
    if (delivery.status === 'pending') timer = setTimeout(() => void draw(false).catch(() => {}), REFRESH_MS)
  }
  await draw(true)
}
