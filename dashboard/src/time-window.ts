/** @module A time window chosen in two `datetime-local` inputs (the viewer's zone): the inputs, and the window they say. */
import { h } from './dom'
import { instantFromLocalInput } from './format'

export type Window = { since: string | undefined; until: string | undefined }

/** A labelled `datetime-local` input. */
export function dateInput(id: string, label: string, value = ''): [HTMLLabelElement, HTMLInputElement] {
  return [h('label', { for: id }, label), h('input', { id, name: id, type: 'datetime-local', value })]
}

/** A time window from two `datetime-local` inputs, or what is wrong with it. */
export function windowOf(since: HTMLInputElement, until: HTMLInputElement, labels: [string, string]): Window | string {
  const window = { since: instantFromLocalInput(since.value), until: instantFromLocalInput(until.value) }
  if (window.since !== undefined && window.until !== undefined && window.since >= window.until) {
    return `“${labels[0]}” must be earlier than “${labels[1]}”.`
  }
  return window
}
