/**
 * @module Recover, on a merchant's page: every failed delivery created in a window, counted first, confirmed in a
 * dialog, then sent again page by page with its original webhook-id; one recovery at a time.
 */
import { api, merchantPath, query, type Schemas } from '../api'
import { closeFromClick, failure, h, notice, replaceChildren } from '../dom'
import { localInputFromMs } from '../format'
import { dateInput, type Window, windowOf } from '../time-window'

/** Pages of 100 counted at most before the dialog says "at least". */
const RECOVER_COUNT_PAGES = 20

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

export function recoverForm(merchantId: string, refreshSoon: () => void): HTMLElement {
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
          // Its second click, were this a double-click, would land on whatever the dialog covered.
          closeFromClick(dialog)
          replaceChildren(status, notice('Sending again…'))
          status.focus()
          void recover(window, count)
            .catch((error: unknown) => replaceChildren(status, failure(error, 'Recover failed deliveries')))
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
