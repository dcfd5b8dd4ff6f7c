/** @module Rejected notifications of a merchant, newest first, with their reasons, filtered by reason. */
import { api, merchantPath, query, type Schemas } from '../api'
import { h, replaceChildren, table, timeOf, failure } from '../dom'
import { href } from '../routes'
import { orderLink } from './deliveries'

type Notification = Schemas['NotificationList']['notifications'][number]

export async function rejectedPage(main: HTMLElement, merchantId: string | undefined, reason: string | undefined): Promise<void> {
  const merchants = (await api<Schemas['MerchantList']>('/admin/merchants?limit=100')).merchants.map((m) => m.id)
  const chosen = merchantId ?? merchants[0]
  const merchantSelect = h(
    'select',
    { id: 'rejected-merchant', name: 'merchant' },
    ...[...new Set([...(chosen ? [chosen] : []), ...merchants])].map((id) => h('option', { value: id, selected: id === chosen }, id)),
  )
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
        location.hash = href.rejected(merchantSelect.value, reasonInput.value.trim())
      },
    },
    h('div', {}, h('label', { for: 'rejected-merchant' }, 'Merchant'), merchantSelect),
    h('div', {}, h('label', { for: 'rejected-reason' }, 'Reason'), reasonInput),
    h('button', { type: 'submit' }, 'Filter'),
  )
  const heading = h('h1', { tabindex: -1 }, 'Rejected notifications')
  if (chosen === undefined) {
    replaceChildren(main, heading, h('p', {}, 'No merchants yet.'))
    return
  }
  const list = h('div')
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => void load() }, 'Load more')
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
              h('code', {}, n.reason ?? '—'),
              orderLink(chosen, n.out_trade_no),
              n.count > 1 ? `${n.count} (since ${n.first_received_at ?? '?'})` : 1,
            ]),
          ),
    )
  }
  // Reasons seen in the last 24 hours, offered as suggestions.
  const stats = await api<Schemas['Stats']>(merchantPath(chosen, 'stats')).catch(() => null)
  const reasons = h(
    'datalist',
    { id: 'rejected-reasons' },
    ...Object.keys(stats?.notifications.rejected_by_reason ?? {}).map((r) => h('option', { value: r })),
  )
  await load().catch((error: unknown) => replaceChildren(list, failure(error)))
  replaceChildren(main, heading, form, reasons, h('p', {}, 'Newest first.'), list, more)
}
