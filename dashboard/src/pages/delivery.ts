/** @module One delivery: what it carries, every attempt (status code, duration, the start of the reply), and Send again. */
import { api, ApiError, type Schemas } from '../api'
import { breadcrumbs, failure, guardedClick, h, link, notice, rememberFocus, replaceChildren, table, timeOf, type Child } from '../dom'
import { localTime, milliseconds } from '../format'
import { href } from '../routes'
import { attemptError } from '../words'
import { deliveryStatus, orderLink, sendAgain } from './deliveries'

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
      a.error === null ? '—' : attemptError(a.error),
      a.response_snippet === null || a.response_snippet === '' ? '—' : h('pre', { class: 'snippet' }, a.response_snippet),
    ]),
  )
}

/** What the delivery is about: its order, or for a `provider.notification` (about no order) the notification's type and subject. */
function subject(delivery: Delivery): Child[] {
  const data = (delivery.event.data ?? {}) as { notification_type?: unknown; subject_id?: unknown }
  if (delivery.type !== 'provider.notification') {
    return [h('dt', {}, 'Order'), h('dd', {}, orderLink(delivery.merchant_id, delivery.out_trade_no, delivery.provider))]
  }
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? h('code', {}, value) : '—')
  return [
    h('dt', {}, 'Notification type'),
    h('dd', {}, text(data.notification_type)),
    h('dt', {}, 'Subject'),
    h('dd', {}, text(data.subject_id)),
  ]
}

/** What outlives a redraw: the news of an action and of the last refresh, and whether the event panel is open. */
interface Kept {
  news: HTMLElement
  refreshNews: HTMLElement
  panel: { open: boolean }
}

function view(delivery: Delivery, replay: (event: Event) => void, { news, refreshNews, panel }: Kept): HTMLElement[] {
  return [
    breadcrumbs(link(href.merchants(), 'Merchants'), link(href.merchant(delivery.merchant_id), delivery.merchant_id)),
    h('h1', { tabindex: -1 }, `Delivery of ${delivery.type}`),
    refreshNews,
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
          deliveryStatus({
            status: delivery.status,
            attempts: delivery.attempts.length,
            reason: delivery.reason,
            next_attempt_at: delivery.next_attempt_at,
          }),
        ),
        h('dt', {}, 'Provider'),
        h('dd', {}, delivery.provider),
        subject(delivery),
        h('dt', {}, 'Delivery id'),
        h('dd', {}, h('code', {}, delivery.id)),
        h('dt', {}, 'webhook-id'),
        h('dd', {}, h('code', {}, delivery.event_id)),
        h('dt', {}, 'Created'),
        h('dd', {}, timeOf(delivery.created_at)),
        h('dt', {}, 'Next attempt'),
        h('dd', {}, timeOf(delivery.next_attempt_at)),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'button', 'data-focus-key': 'replay', onclick: replay }, 'Send again')),
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
      { class: 'card', open: panel.open, ontoggle: (event: Event) => (panel.open = (event.target as HTMLDetailsElement).open) },
      h('summary', {}, 'The event as the merchant receives it'),
      // Focusable, so the panel scrolls by keyboard too.
      h('pre', { class: 'snippet', tabindex: 0 }, JSON.stringify(delivery.event, null, 2)),
    ),
  ]
}

export async function deliveryPage(main: HTMLElement, deliveryId: string, signal: AbortSignal): Promise<void> {
  const path = `/admin/deliveries/${encodeURIComponent(deliveryId)}`
  const kept: Kept = { news: h('div', { 'aria-live': 'polite' }), refreshNews: h('div', { 'aria-live': 'polite' }), panel: { open: false } }
  const { news, refreshNews } = kept
  let timer: ReturnType<typeof setTimeout> | undefined
  signal.addEventListener('abort', () => clearTimeout(timer))
  // One send per click meant (a double-click sent the event twice), across the redraw that follows each.
  const replay = guardedClick(async () => {
    replaceChildren(news, notice('Sending again…'))
    try {
      replaceChildren(news, notice(await sendAgain(deliveryId)))
      await draw(false)
    } catch (error) {
      replaceChildren(news, failure(error, 'Send again'))
    }
  })
  /** Looks again while the delivery is pending; a failed look is said, and the next one still comes. */
  const poll = () => {
    timer = setTimeout(async () => {
      try {
        await draw(false)
        replaceChildren(refreshNews)
      } catch (error) {
        if (signal.aborted) return
        const reason = error instanceof Error ? error.message : String(error)
        const at = localTime(new Date().toISOString())
        replaceChildren(
          refreshNews,
          notice(`The last refresh (${at}) failed: ${reason} (trying again every ${REFRESH_MS / 1000} s)`, 'alert'),
        )
        poll()
      }
    }, REFRESH_MS)
  }
  let shown: string | undefined
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
    // Drawn again only when it changed, and not under a selection the operator is making (a delivery id to copy):
    // a retry hours away would otherwise take the focus and the selection away every few seconds.
    const text = JSON.stringify(delivery)
    const selecting = !first && main.contains(document.getSelection()?.anchorNode ?? null) && !document.getSelection()?.isCollapsed
    if (first || (text !== shown && !selecting)) {
      const restoreFocus = rememberFocus(main)
      replaceChildren(main, ...view(delivery, replay, kept))
      restoreFocus()
      shown = text
    }
    // Also while a change waits undrawn under a selection: it is drawn once the selection is gone.
    if (delivery.status === 'pending' || text !== shown) poll()
  }
  await draw(true)
}
