/**
 * @module What the skeleton and floor Workers of `npm run bench` read from a request instead of parsing and verifying
 * it: the channel from the notify path (so they answer with its accept reply, as paygate does), the order and the
 * notification id from the `x-bench-*` headers. Their order objects are named as paygate names its own.
 */
import { orderObjectName, type OrderRef } from '../../src/order/order-key'
import { defaultRegistry, type ChannelAdapter, type ProviderName } from '../../src/providers'

const CHANNEL_BY_PATH = new Map(defaultRegistry.channels.map((adapter) => [adapter.path, adapter]))
const NOTIFY_PATH = /^\/notify\/([A-Za-z0-9_-]{1,64})\/([a-z0-9/]+)$/

export interface BenchRequest {
  adapter: ChannelAdapter
  order: OrderRef
  /** The order object's name, as paygate's `orderStub` names it. */
  objectName: string
  notificationId: string
}

/** The request's bench fields, or the reply for a request that has none (404, 400). */
export function readBenchRequest(request: Request): BenchRequest | Response {
  const route = NOTIFY_PATH.exec(new URL(request.url).pathname)
  const adapter = route === null ? undefined : CHANNEL_BY_PATH.get(route[2]!)
  if (route === null || adapter === undefined || request.method !== 'POST') return new Response('not found', { status: 404 })
  const orderHeader = request.headers.get('x-bench-order') ?? ''
  const notificationId = request.headers.get('x-bench-notification') ?? ''
  const colon = orderHeader.indexOf(':')
  if (colon < 1 || notificationId === '') return new Response('x-bench-order and x-bench-notification are required', { status: 400 })
  const order: OrderRef = {
    merchantId: route[1]!,
    provider: orderHeader.slice(0, colon) as ProviderName,
    outTradeNo: orderHeader.slice(colon + 1),
  }
  return { adapter, order, objectName: orderObjectName(order), notificationId }
}
