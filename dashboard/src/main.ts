/**
 * @module The console's shell: the sign-in form until a token works, then the header (navigation, sign-out) and the
 * page the hash names. Every page reads the admin API with the kept token; nothing is shown without it.
 */
import { ApiError, session, tokenWorks, whenSignedOut } from './api'
import { h, notice, replaceChildren, failure } from './dom'
import { zoneLabel } from './format'
import { deliveryPage } from './pages/delivery'
import { merchantPage } from './pages/merchant'
import { merchantsPage } from './pages/merchants'
import { orderPage } from './pages/order'
import { rejectedPage } from './pages/rejected'
import { href, parseRoute, type Route } from './routes'

const app = document.getElementById('app')!

/** Each page gets a signal that aborts when the viewer moves on, to stop its refreshing. */
let leaving = new AbortController()

function signInForm(message?: string): void {
  leaving.abort()
  const input = h('input', { id: 'token', type: 'password', name: 'token', autocomplete: 'current-password', required: true })
  const status = h('div', { 'aria-live': 'polite' }, message ? notice(message, 'alert') : null)
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        const token = input.value.trim()
        replaceChildren(status, notice('Checking…'))
        let works: boolean
        try {
          works = token !== '' && (await tokenWorks(token))
        } catch (error) {
          // Not a refusal: the typed token stays, to try again once the gateway answers.
          replaceChildren(status, failure(error))
          input.focus()
          return
        }
        if (works) {
          session.keep(token)
          void show()
        } else {
          replaceChildren(status, notice('That token was refused.', 'alert'))
          input.value = ''
          input.focus()
        }
      },
    },
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  )
  replaceChildren(
    app,
    h('main', { id: 'main' }, h('h1', {}, 'paygate console'), h('p', {}, 'Sign in with the admin token (ADMIN_TOKEN).'), form),
  )
  input.focus()
}

/** Which zone the times are in, and where UTC is (their hover title) unless they are in UTC already. */
function zoneNote(): string {
  const zone = zoneLabel()
  return zone === 'UTC' ? 'Times in UTC' : `Times in ${zone} (UTC on hover)`
}

function header(): HTMLElement {
  return h(
    'header',
    {},
    h('a', { class: 'brand', href: href.merchants() }, 'paygate'),
    h('nav', { 'aria-label': 'Main' }, h('a', { href: href.merchants() }, 'Merchants'), h('a', { href: href.rejected() }, 'Rejected')),
    h('span', { class: 'zone' }, zoneNote()),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          session.forget()
          signInForm('Signed out.')
        },
      },
      'Sign out',
    ),
  )
}

async function render(route: Route, main: HTMLElement, signal: AbortSignal): Promise<void> {
  switch (route.page) {
    case 'merchants':
      return merchantsPage(main)
    case 'merchant':
      return merchantPage(main, route.merchantId, signal)
    case 'order':
      return orderPage(main, route.merchantId, route.outTradeNo, route.provider)
    case 'delivery':
      return deliveryPage(main, route.deliveryId, signal)
    case 'rejected':
      return rejectedPage(main, route.merchantId, route.reason)
    case 'not-found':
      replaceChildren(main, h('h1', { tabindex: -1 }, 'Not found'), h('p', {}, h('a', { href: href.merchants() }, 'Back to the merchants')))
  }
}

async function show(): Promise<void> {
  if (session.token() === null) return signInForm()
  const route = parseRoute(location.hash)
  if (route === null) return
  leaving.abort()
  leaving = new AbortController()
  const main = h('main', { id: 'main' }, notice('Loading…'))
  replaceChildren(app, header(), main)
  try {
    await render(route, main, leaving.signal)
    // Keyboard and screen-reader users start at the new page's heading.
    main.querySelector<HTMLElement>('h1')?.focus()
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return
    const heading = h('h1', { tabindex: -1 }, 'Something went wrong')
    // The failure and a way to try again, with the focus on them as on any page.
    const retry = h('button', { type: 'button', onclick: () => void show() }, 'Try again')
    replaceChildren(main, heading, failure(error), h('p', {}, retry))
    heading.focus()
  }
}

whenSignedOut(() => signInForm('The token was refused: sign in again.'))
window.addEventListener('hashchange', () => void show())
void show()
