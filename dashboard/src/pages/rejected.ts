/**
 * @module Rejected notifications of a merchant, newest first, with their reasons, filtered by reason. Any merchant is
 * reached by its id (the first page of merchants is offered as suggestions only, so none is out of reach); without
 * one, the merchant last opened in this tab.
 */
import { api, merchantPath, query, session, type Schemas } from '../api'
import { failure, h, link, loadMoreButton, replaceChildren, table, timeOf, type Child } from '../dom'
import { href } from '../routes'
import { REJECTION_MEANINGS, rejectionMeaning } from '../../../src/providers/core/rejection-meanings'
import { orderLink } from './deliveries'

type Notification = Schemas['NotificationList']['notifications'][number]

const SUGGESTED_MERCHANTS = 100

/** A refusal's reason: its code, and what it means in a line (the code alone for one the console does not know). */
export function reasonOf(reason: string | null): Child {
  if (reason === null) return '—'
  const meaning = rejectionMeaning(reason)
  return [h('code', {}, reason), meaning === null ? null : h('span', { class: 'meaning' }, ` ${meaning}`)]
}

function countOf(n: Notification) {
  return n.count > 1 ? [`${n.count} (since `, timeOf(n.first_received_at), ')'] : 1
}

export async function rejectedPage(main: HTMLElement, merchantId: string | undefined, reason: string | undefined): Promise<void> {
  const suggested = (await api<Schemas['MerchantList']>(`/admin/merchants${query({ limit: SUGGESTED_MERCHANTS })}`)).merchants.map(
    (m) => m.id,
  )
  // The merchant asked for, else the one last opened in this tab, else the only one: never a merchant picked for the
  // operator (the newest was, and its empty list read as "no refusals" while another merchant had them).
  const last = session.lastMerchant()
  const chosen = merchantId ?? last ?? (suggested.length === 1 ? suggested[0] : undefined)
  const merchantInput = h('input', {
    id: 'rejected-merchant',
    name: 'merchant',
    value: chosen ?? '',
    list: 'rejected-merchants',
    required: true,
    autocomplete: 'off',
    spellcheck: false,
  })
  const reasonInput = h('input', {
    id: 'rejected-reason',
    name: 'reason',
    value: reason ?? '',
    list: 'rejected-reasons',
    autocomplete: 'off',
  })
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        const target = href.rejected(merchantInput.value.trim(), reasonInput.value.trim())
        // The same filter again: no hashchange would come, so the page asks again itself (new refusals since).
        if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'))
        else location.hash = target
      },
    },
    h('div', {}, h('label', { for: 'rejected-merchant' }, 'Merchant id'), merchantInput),
    h('div', {}, h('label', { for: 'rejected-reason' }, 'Reason'), reasonInput),
    h('button', { type: 'submit' }, 'Filter'),
    h('datalist', { id: 'rejected-merchants' }, ...suggested.map((id) => h('option', { value: id }))),
  )
  const heading = h('h1', { tabindex: -1 }, 'Rejected notifications')
  if (chosen === undefined) {
    if (suggested.length === 0) return replaceChildren(main, heading, h('p', {}, 'No merchants yet.'))
    const choices = h('ul', {}, ...suggested.map((id) => h('li', {}, link(href.rejected(id), id))))
    replaceChildren(main, heading, form, h('p', {}, 'Choose a merchant, or type its id above:'), choices)
    return
  }
  const list = h('div')
  const { button: more, news: moreNews } = loadMoreButton(() => load())
  let rows: Notification[] = []
  let cursor: string | null = null
  const load = async () => {
    const reply = await api<Schemas['NotificationList']>(
      `${merchantPath(chosen, 'notifications')}${query({ verdict: 'rejected', reason, limit: 50, cursor: cursor ?? undefined })}`,
    )
    rows = [...rows, ...reply.notifications]
    cursor = reply.next_cursor
    more.hidden = cursor === null
    replaceChildren(
      list,
      rows.length === 0
        ? h('p', {}, reason ? `No rejected notification with reason ${reason}.` : 'No rejected notifications.')
        : table(
            'Rejected notifications',
            ['Received', 'Channel', 'Reason', 'Order', 'Count'],
            rows.map((n) => [
              timeOf(n.received_at),
              n.channel,
              reasonOf(n.reason),
              orderLink(chosen, n.out_trade_no, n.channel),
              countOf(n),
            ]),
          ),
    )
  }
  // Reasons seen in the last 24 hours, offered as suggestions.
  const stats = await api<Schemas['Stats']>(merchantPath(chosen, 'stats')).catch(() => null)
  const reasons = h(
    'datalist',
    { id: 'rejected-reasons' },
    // Those seen in the last 24 hours first, then every other code, each with what it means.
    ...[...new Set([...Object.keys(stats?.notifications.rejected_by_reason ?? {}), ...Object.keys(REJECTION_MEANINGS)])].map((r) =>
      h('option', { value: r }, rejectionMeaning(r) ?? ''),
    ),
  )
  await load().catch((error: unknown) => replaceChildren(list, failure(error)))
  replaceChildren(main, heading, form, reasons, h('p', {}, `Newest first, for merchant ${chosen}.`), list, more, moreNews)
}
