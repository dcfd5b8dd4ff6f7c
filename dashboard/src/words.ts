/**
 * @module The API's codes in the console's words: an order's and a refund's status, why an attempt got no reply.
 * Shown as rejection reasons are, with their meaning: the words, and the code beside them (what the API, the CLI and
 * the logs say), so that neither has to be translated. Typed by the server's own lists: a new code without words does not compile.
 */
import type { AttemptError } from '../../src/delivery/attempt-errors'
import type { OrderStatus, RefundStatus } from '../../src/storage/order/records'
import { type Child, h } from './dom'

const ORDER_STATUS_WORDS: Readonly<Record<OrderStatus, string>> = {
  pending: 'not paid yet',
  paid: 'paid',
  partially_refunded: 'partially refunded',
  refunded: 'refunded in full',
  closed: 'closed unpaid',
  amount_mismatch: 'amount does not match the registered order',
}

const REFUND_STATUS_WORDS: Readonly<Record<RefundStatus, string>> = {
  pending: 'not settled yet',
  succeeded: 'refunded',
  failed: 'failed',
  closed: 'closed, not refunded',
}

/** The attempt reached no merchant's reply (or a redirect, not followed): what happened, said of the endpoint. */
const ATTEMPT_ERROR_WORDS: Readonly<Record<AttemptError, string>> = {
  timeout: 'no reply in time',
  'network error': 'could not connect to the endpoint, or the connection broke',
  'redirect not followed': 'the endpoint answered with a redirect, which is not followed',
  'dns lookup failed': "the endpoint's host name did not resolve",
  'resolves to a refused address': "the endpoint's host name resolves to a private or reserved address",
}

/** `words (code)`, the code in `<code>`; the code alone when it has no words here, the words alone when they are it. */
function worded(table: Readonly<Record<string, string>>, code: string, strong = false): Child {
  const words = Object.hasOwn(table, code) ? table[code] : undefined
  if (words === undefined) return h('code', {}, code)
  const shown = strong ? h('strong', {}, words) : words
  return words === code ? shown : [shown, ' (', h('code', {}, code), ')']
}

export const orderStatus = (status: string): Child => worded(ORDER_STATUS_WORDS, status, true)
export const refundStatus = (status: string): Child => worded(REFUND_STATUS_WORDS, status)

/** An attempt's error; one the gateway words itself (`forward URL refused: …`, `endpoint gone (410)`) as it is. */
export function attemptError(error: string): Child {
  return Object.hasOwn(ATTEMPT_ERROR_WORDS, error) ? worded(ATTEMPT_ERROR_WORDS, error) : error
}
