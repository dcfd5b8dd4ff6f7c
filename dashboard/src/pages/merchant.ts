/** @module One merchant: its endpoint (disable, enable, test event), its counts as a chart, its deliveries, an order by number. */
import { api, ApiError, merchantPath, session, type Schemas } from '../api'
import { statsChart } from '../chart'
import { breadcrumbs, type Child, closeFromClick, failure, h, link, notice, rememberFocus, replaceChildren, timeOf } from '../dom'
import { milliseconds, percent } from '../format'
import { href } from '../routes'
import { attemptError } from '../words'
import { deliveriesSection } from './deliveries'
import { endpointState } from './merchants'

type Merchant = Schemas['Merchant']

/**
 * Disable asks first: it stops every delivery of the merchant, not one. Cancel or Escape changes nothing. The focus
 * starts on Cancel, so an Enter held down on Disable endpoint does not confirm it as well.
 */
function disableDialog(url: string, disable: () => void): { dialog: HTMLDialogElement; ask: () => void } {
  const dialog = h('dialog', { 'aria-labelledby': 'disable-title' })
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')
  const confirm = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: (event: Event) => {
        // Not the second click of a double-click on Disable endpoint, had the dialog opened under the pointer.
        if ((event as UIEvent).detail > 1) return
        closeFromClick(dialog)
        disable()
      },
    },
    'Disable',
  )
  replaceChildren(
    dialog,
    h('h2', { id: 'disable-title' }, 'Disable the endpoint?'),
    h('p', {}, 'Nothing will be sent to ', h('span', { class: 'url' }, url), ' until it is enabled again, not even a test event.'),
    h(
      'p',
      {},
      'New events, and those waiting for a retry, wait as failed (reason ',
      h('code', {}, 'endpoint_disabled'),
      '). Enabling sends nothing by itself: then Recover, below, sends them.',
    ),
    h('div', { class: 'actions' }, confirm, cancel),
  )
  return {
    dialog,
    ask: () => {
      dialog.showModal()
      cancel.focus()
    },
  }
}

/** `status` outlives the section, which is drawn again after each action, so the action's outcome stays on screen. */
function endpointSection(merchantId: string, merchant: Merchant, status: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const { forward } = merchant
  const health = merchant.endpoint_health
  const actions = h('div', { class: 'actions' })
  /** `button`: the name of the one clicked, for a refusal to say what was refused. */
  const act = async (button: string, label: string, action: () => Promise<Child>) => {
    // One action at a time: a test event clicked while a disable is in flight would still go out.
    const buttons = [...actions.querySelectorAll('button')]
    // Remembered before the buttons are disabled (a disabled button loses the focus) and the section drawn again.
    // Within the endpoint's slot (the section is replaced in it): focus moved elsewhere meanwhile stays there.
    const restoreFocus = rememberFocus(actions.closest('section')?.parentElement ?? actions)
    for (const button of buttons) button.disabled = true
    replaceChildren(status, notice(`${label}…`))
    try {
      const message = await action()
      await refresh()
      replaceChildren(status, notice(message))
    } catch (error) {
      replaceChildren(status, failure(error, button))
    } finally {
      for (const button of buttons) button.disabled = false
      restoreFocus()
    }
  }
  const post = <T>(path: string) => api<T>(merchantPath(merchantId, ...path.split('/')), { method: 'POST' })
  const enabled = forward.disabled_at === undefined
  const [name, verb, action, done] = enabled
    ? ['Disable endpoint', 'Disabling', 'endpoint/disable', 'Endpoint disabled: new events wait as failed.']
    : ['Enable endpoint', 'Enabling', 'endpoint/enable', 'Endpoint enabled. Recover sends what failed meanwhile.']
  const change = () =>
    act(name, verb, async () => {
      await post(action)
      return done
    })
  // Closed, the dialog gives the focus back to Disable endpoint, which act remembers.
  const confirmation = enabled ? disableDialog(forward.url, () => void change()) : null
  const toggle = h(
    'button',
    {
      type: 'button',
      class: enabled ? 'danger' : null,
      // Disable becomes Enable when the section is drawn again: the focus follows it.
      'data-focus-key': 'endpoint-toggle',
      onclick: confirmation?.ask ?? change,
    },
    name,
  )
  const testEvent = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: () =>
        act('Send test event', 'Sending a test event', async () => {
          const result = await post<Schemas['TestEventResult']>('test-event')
          const reply = result.status_code === null ? attemptError(result.error ?? 'no reply') : `HTTP ${result.status_code}`
          return [`Test event ${result.delivered ? 'delivered' : 'failed'}: `, reply, ` in ${milliseconds(result.duration_ms)}.`]
        }),
    },
    'Send test event',
  )
  actions.append(toggle, testEvent)
  return h(
    'section',
    { 'aria-labelledby': 'endpoint-heading', class: 'card' },
    h('h2', { id: 'endpoint-heading' }, 'Endpoint'),
    h(
      'dl',
      {},
      h('dt', {}, 'URL'),
      h('dd', { class: 'url' }, forward.url),
      h('dt', {}, 'State'),
      h(
        'dd',
        {},
        endpointState({
          disabled_at: forward.disabled_at ?? null,
          disabled_reason: forward.disabled_reason ?? null,
          failing_since: health?.failing_since ?? null,
          last_attempt_at: health?.last_success_at ?? health?.last_failure_at ?? null,
        }),
      ),
      forward.disabled_at === undefined ? null : [h('dt', {}, 'Disabled at'), h('dd', {}, timeOf(forward.disabled_at))],
      h('dt', {}, 'Failing since'),
      h('dd', {}, timeOf(health?.failing_since)),
      h('dt', {}, 'Last success'),
      h('dd', {}, timeOf(health?.last_success_at)),
      h('dt', {}, 'Last failure'),
      h('dd', {}, timeOf(health?.last_failure_at)),
    ),
    actions,
    status,
    confirmation?.dialog,
  )
}

async function statsSection(merchantId: string): Promise<HTMLElement> {
  const stats = await api<Schemas['Stats']>(`${merchantPath(merchantId, 'stats')}?interval=hour`)
  const { notifications: n, deliveries: d } = stats
  return h(
    'section',
    { 'aria-labelledby': 'stats-heading', class: 'card' },
    h('h2', { id: 'stats-heading' }, 'Last 24 hours'),
    h(
      'p',
      {},
      `${n.accepted} accepted, ${n.duplicate} duplicate, ${n.rejected} rejected notifications · `,
      `${d.delivered} delivered, ${d.failed} still failed, ${d.pending} pending deliveries · success ${percent(d.success_rate)} · `,
      `latency p50 ${milliseconds(d.latency_ms.p50)}, p95 ${milliseconds(d.latency_ms.p95)}`,
    ),
    statsChart(stats.series ?? []),
    h('p', {}, h('a', { href: href.rejected(merchantId) }, 'Rejected notifications of this merchant')),
  )
}

function orderLookup(merchantId: string): HTMLElement {
  const input = h('input', { id: 'order-number', name: 'order', required: true, autocomplete: 'off', spellcheck: false })
  return h(
    'section',
    { 'aria-labelledby': 'order-heading', class: 'card' },
    h('h2', { id: 'order-heading' }, 'An order'),
    h(
      'form',
      {
        class: 'inline',
        onsubmit: (event: Event) => {
          event.preventDefault()
          location.hash = href.order(merchantId, input.value.trim())
        },
      },
      h('label', { for: 'order-number' }, 'Order number (out_trade_no)'),
      input,
      h('button', { type: 'submit' }, 'Show timeline'),
    ),
  )
}

export async function merchantPage(main: HTMLElement, merchantId: string, signal: AbortSignal): Promise<void> {
  let merchant: Merchant
  try {
    merchant = await api<Merchant>(merchantPath(merchantId))
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error
    replaceChildren(main, h('h1', { tabindex: -1 }, merchantId), notice(`There is no merchant ${merchantId}.`, 'alert'))
    return
  }
  session.rememberMerchant(merchantId)
  const endpointSlot = h('div')
  const status = h('div', { 'aria-live': 'polite' })
  const refresh = async () => {
    merchant = await api<Merchant>(merchantPath(merchantId))
    replaceChildren(endpointSlot, endpointSection(merchantId, merchant, status, refresh))
  }
  replaceChildren(endpointSlot, endpointSection(merchantId, merchant, status, refresh))
  const statsSlot = h('div')
  // After a send or a recovery, the counts and the endpoint's last success catch up with the list (they stayed as
  // they were until a reload).
  const afterSends = async () => {
    const restoreFocus = rememberFocus(main)
    await refresh()
    replaceChildren(statsSlot, await statsSection(merchantId))
    restoreFocus()
  }
  const [stats, deliveries] = await Promise.all([statsSection(merchantId), deliveriesSection(merchantId, signal, afterSends)])
  replaceChildren(statsSlot, stats)
  replaceChildren(
    main,
    breadcrumbs(link(href.merchants(), 'Merchants')),
    h('h1', { tabindex: -1 }, merchantId),
    endpointSlot,
    statsSlot,
    deliveries,
    orderLookup(merchantId),
  )
}
