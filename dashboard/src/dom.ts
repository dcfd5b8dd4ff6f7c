/** @module A few lines instead of a framework: `h()` builds elements, `timeOf()` an instant with its UTC title. */
import { ApiError, refusalOf } from './api'
import { localTime, utcTime } from './format'

export type Child = Node | string | number | null | undefined | false | Child[]
type Attr = string | number | boolean | null | undefined | ((event: Event) => void)

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

function setAttributes(element: Element, attrs: Record<string, Attr>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value))
  }
}

/** `h('a', { href: '#/' }, 'Merchants')`; `on…` attributes become listeners, `true` an empty attribute. */
export function h<Tag extends keyof HTMLElementTagNameMap>(tag: Tag, attrs: Record<string, Attr> = {}, ...children: Child[]) {
  const element = document.createElement(tag)
  setAttributes(element, attrs)
  append(element, children)
  return element
}

export function svg(tag: string, attrs: Record<string, Attr> = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag)
  setAttributes(element, attrs)
  append(element, children)
  return element
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, children)
}

/**
 * A click handler that runs `action` once per click meant: the second click of a double-click (`event.detail` 2 or
 * more) is ignored, as is any click while the last run is still going (its button says so with aria-disabled, which,
 * unlike disabled, keeps the focus on it). Keyboard activation (detail 0) is one click. Made once and given to each
 * button drawn for the same action, the guard outlives a redraw.
 */
export function guardedClick(action: () => Promise<void>): (event: Event) => void {
  let running = false
  return (event) => {
    if ((event as UIEvent).detail > 1 || running) return
    const button = event.currentTarget as HTMLElement
    running = true
    button.setAttribute('aria-disabled', 'true')
    void action().finally(() => {
      running = false
      button.removeAttribute('aria-disabled')
    })
  }
}

/**
 * Closes a dialog from a click on one of its buttons. The second click of a double-click would land on whatever the
 * dialog covered (a link, another row's button) once it is gone: the clicks of that double-click (detail 2 or more)
 * are swallowed, until a click of its own (detail 1) or a second has passed. A key is untouched.
 */
export function closeFromClick(dialog: HTMLDialogElement): void {
  dialog.close()
  const done = () => document.removeEventListener('click', swallow, true)
  const swallow = (event: MouseEvent) => {
    if (event.detail < 2) return done()
    event.preventDefault()
    event.stopImmediatePropagation()
  }
  document.addEventListener('click', swallow, true)
  setTimeout(done, 1000)
}

/** An instant in the viewer's zone, with UTC on hover (`title`) and in `datetime` for machines. */
export function timeOf(iso: string | null | undefined): Child {
  if (iso === null || iso === undefined) return '—'
  return h('time', { datetime: iso, title: utcTime(iso) }, localTime(iso))
}

/**
 * A table inside a scrollable, focusable region, so a wide table works on a phone and by keyboard. The region is
 * named "… table", apart from the section around it; a heading given as `{ hidden }` is read out but not shown.
 */
export function table(label: string, headings: (string | { hidden: string })[], rows: Child[][]): HTMLElement {
  const heading = (text: string | { hidden: string }) =>
    typeof text === 'string' ? text : h('span', { class: 'visually-hidden' }, text.hidden)
  return h(
    'div',
    { class: 'scroll', role: 'region', 'aria-label': `${label} table`, tabindex: 0, 'data-focus-key': `table:${label}` },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...headings.map((text) => h('th', { scope: 'col' }, heading(text))))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
    ),
  )
}

/** A status word with its colour class (`ok`, `bad`, `warn`, `muted`); the word itself carries the meaning. */
export function badge(text: string, tone: 'ok' | 'bad' | 'warn' | 'muted'): HTMLElement {
  return h('span', { class: `badge ${tone}` }, text)
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href }, ...children)
}

/** The way back up, `Merchants / acme`: the page's own heading follows, so nothing trails the last link. */
export function breadcrumbs(...links: HTMLAnchorElement[]): HTMLElement {
  return h(
    'nav',
    { 'aria-label': 'Breadcrumb' },
    h(
      'p',
      { class: 'crumbs' },
      links.flatMap((a, i) => (i === 0 ? [a] : [' / ', a])),
    ),
  )
}

/** How many of an id's last characters stay in view when it is cut short. */
const IDENT_END = 6

/**
 * An id that may be 64 characters long, cut short in a table so the columns after it stay in view; whole on hover and
 * when copied. It is cut in the middle: order numbers often differ only at the end.
 */
export function ident(text: string): HTMLElement {
  if (text.length <= 3 * IDENT_END) return h('span', { class: 'ident', title: text }, text)
  return h(
    'span',
    { class: 'ident', title: text },
    h('span', { class: 'ident-start' }, text.slice(0, -IDENT_END)),
    h('span', { class: 'ident-end' }, text.slice(-IDENT_END)),
  )
}

/** A message for assistive technology too: `role=status` for news, `role=alert` for errors. */
export function notice(text: Child, kind: 'status' | 'alert' = 'status'): HTMLElement {
  return h('p', { role: kind, class: `notice ${kind}` }, text)
}

/**
 * A failure as an alert notice: its message, or what was thrown. Given the `button` that asked (and what `of`), a
 * refusal (409) names it, in the console's words rather than the API's (./api.ts, refusalOf).
 */
export function failure(error: unknown, button?: string, of?: string): HTMLElement {
  if (button !== undefined && error instanceof ApiError && error.status === 409) return notice(refusalOf(error, button, of), 'alert')
  return notice(error instanceof Error ? error.message : String(error), 'alert')
}

/**
 * A list's "Load more" button, hidden until there is more, and where its failure is told: `loadNext` fetches and
 * shows the next page; when it fails, the list on screen stays and the error shows beside the button.
 */
export function loadMoreButton(loadNext: () => Promise<void>): { button: HTMLButtonElement; news: HTMLElement } {
  const news = h('div', { 'aria-live': 'polite' })
  const button = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more')
  button.addEventListener('click', () => {
    replaceChildren(news)
    void loadNext()
      .then(() => {
        // The last page hides the button under the focus: say so where the focus goes instead of dropping it.
        if (button.hidden && (document.activeElement === button || document.activeElement === document.body)) {
          replaceChildren(news, notice('That was the last page.'))
          news.tabIndex = -1
          news.focus()
        }
      })
      .catch((error: unknown) => replaceChildren(news, failure(error)))
  })
  return { button, news }
}

/** What identifies a control across a redraw: its `data-focus-key`, else a link's target or the control's text. */
function focusKey(element: HTMLElement): string {
  return element.dataset.focusKey ?? `${element.tagName}:${element.getAttribute('href') ?? element.textContent}`
}

/**
 * Remembers which control inside `root` has the focus, before a redraw replaces it; the function returned gives the
 * focus to its counterpart after the redraw, else to `fallback` (when the control is gone, e.g. a row's button once
 * the row is delivered). Does nothing when the focus was elsewhere, or has moved on meanwhile.
 */
export function rememberFocus(root: HTMLElement, fallback?: () => HTMLElement | null): () => void {
  const active = document.activeElement
  if (!(active instanceof HTMLElement) || !root.contains(active) || active === root) return () => {}
  const key = focusKey(active)
  return () => {
    const now = document.activeElement
    if (now !== null && now !== document.body && !root.contains(now)) return
    const controls = root.querySelectorAll<HTMLElement>('a, button, summary, input, select, textarea, [tabindex]')
    const match = [...controls].find((control) => focusKey(control) === key) ?? fallback?.() ?? null
    match?.focus()
  }
}
