/** @module The console's pages as hash routes (`#/merchants/acme`): links work without a server round trip, and hold no token. */

export type Route =
  | { page: 'merchants' }
  | { page: 'merchant'; merchantId: string }
  | { page: 'order'; merchantId: string; outTradeNo: string; provider: string | undefined }
  | { page: 'delivery'; deliveryId: string }
  | { page: 'rejected'; merchantId: string | undefined; reason: string | undefined }
  | { page: 'not-found' }

const enc = encodeURIComponent

export const href = {
  merchants: (): string => '#/merchants',
  merchant: (merchantId: string): string => `#/merchants/${enc(merchantId)}`,
  /** One merchant may have an order of each provider under the same number: `provider` (or a channel) says which. */
  order: (merchantId: string, outTradeNo: string, provider?: string): string =>
    `#/merchants/${enc(merchantId)}/orders/${enc(outTradeNo)}${provider ? `?provider=${enc(provider)}` : ''}`,
  delivery: (deliveryId: string): string => `#/deliveries/${enc(deliveryId)}`,
  rejected: (merchantId?: string, reason?: string): string => {
    const params = new URLSearchParams()
    if (merchantId) params.set('merchant', merchantId)
    if (reason) params.set('reason', reason)
    const text = params.toString()
    return `#/rejected${text === '' ? '' : `?${text}`}`
  },
}

/** The route a hash names; anything not starting `#/` (an in-page anchor) is not a route: null. */
export function parseRoute(hash: string): Route | null {
  if (hash === '' || hash === '#' || hash === '#/') return { page: 'merchants' }
  if (!hash.startsWith('#/')) return null
  const [path = '', search = ''] = hash.slice(2).split('?')
  let parts: string[]
  try {
    parts = path.split('/').map(decodeURIComponent)
  } catch {
    return { page: 'not-found' }
  }
  const [first, id, sub, subId] = parts
  if (first === 'merchants' && id === undefined) return { page: 'merchants' }
  if (first === 'merchants' && id && sub === undefined) return { page: 'merchant', merchantId: id }
  const params = new URLSearchParams(search)
  if (first === 'merchants' && id && sub === 'orders' && subId) {
    // Links from before the provider was carried have none: the order page then finds it.
    return { page: 'order', merchantId: id, outTradeNo: subId, provider: params.get('provider') ?? undefined }
  }
  if (first === 'deliveries' && id && sub === undefined) return { page: 'delivery', deliveryId: id }
  if (first === 'rejected' && id === undefined) {
    return { page: 'rejected', merchantId: params.get('merchant') ?? undefined, reason: params.get('reason') ?? undefined }
  }
  return { page: 'not-found' }
}
