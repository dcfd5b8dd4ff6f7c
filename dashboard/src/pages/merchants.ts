/** @module The merchants, each with its endpoint's health: disabled, failing since, attempts that succeeded, last attempt. */
import { api, query, type Schemas } from '../api'
import { badge, h, ident, link, loadMoreButton, replaceChildren, table, timeOf, type Child } from '../dom'
import { percent } from '../format'
import { href } from '../routes'
import { parkedRecordsNotice } from './projection'

type Endpoint = Schemas['EndpointHealthList']['endpoints'][number]

export function endpointState(endpoint: Pick<Endpoint, 'disabled_at' | 'disabled_reason' | 'failing_since' | 'last_attempt_at'>) {
  if (endpoint.disabled_at !== null) return badge(`disabled (${endpoint.disabled_reason ?? 'manual'})`, 'bad')
  if (endpoint.failing_since !== null) return badge('failing', 'bad')
  if (endpoint.last_attempt_at === null) return badge('no attempts yet', 'muted')
  return badge('healthy', 'ok')
}

function row(endpoint: Endpoint): Child[] {
  const { attempts, attempt_success_rate: rate } = endpoint.last_24h
  return [
    link(href.merchant(endpoint.merchant_id), ident(endpoint.merchant_id)),
    h('span', { class: 'url' }, endpoint.url),
    endpointState(endpoint),
    timeOf(endpoint.failing_since),
    attempts === 0 ? '—' : `${percent(rate)} of ${attempts}`,
    timeOf(endpoint.last_attempt_at),
  ]
}

export async function merchantsPage(main: HTMLElement): Promise<void> {
  const loaded: Endpoint[] = []
  let cursor: string | null = null
  const search = h('input', { id: 'merchant-search', type: 'search', name: 'merchant', autocomplete: 'off', spellcheck: false })
  const list = h('div')
  const { button: more, news: moreNews } = loadMoreButton(() => loadPage())

  const draw = () => {
    const term = search.value.trim().toLowerCase()
    const shown = loaded.filter((e) => e.merchant_id.toLowerCase().includes(term))
    replaceChildren(
      list,
      shown.length === 0
        ? h('p', {}, loaded.length === 0 ? 'No merchants yet.' : 'No merchant loaded so far has that id; press Enter to open it anyway.')
        : table('Merchants', ['Merchant', 'Endpoint', 'State', 'Failing since', 'Attempts OK (24 h)', 'Last attempt'], shown.map(row)),
    )
  }
  const loadPage = async () => {
    const reply = await api<Schemas['EndpointHealthList']>(`/admin/endpoints${query({ limit: 50, cursor: cursor ?? undefined })}`)
    loaded.push(...reply.endpoints)
    cursor = reply.next_cursor
    more.hidden = cursor === null
    draw()
  }
  search.addEventListener('input', draw)
  const form = h(
    'form',
    {
      class: 'inline',
      role: 'search',
      onsubmit: (event: Event) => {
        event.preventDefault()
        const id = search.value.trim()
        if (id !== '') location.hash = href.merchant(id)
      },
    },
    h('label', { for: 'merchant-search' }, 'Find a merchant by id'),
    search,
    h('button', { type: 'submit' }, 'Open'),
  )
  const [parked] = await Promise.all([parkedRecordsNotice(), loadPage()])
  replaceChildren(main, h('h1', { tabindex: -1 }, 'Merchants'), parked, form, list, more, moreNews)
}
