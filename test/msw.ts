/** @module Network-level mock of everything the Worker fetches (merchant origins, provider APIs, the ops webhook). */
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { DNS_OVER_HTTPS_URL } from '../src/lib/outbound-url'

/** OPS_WEBHOOK_URL in the tests (vitest.config.ts): answered 204 unless a test installs its own handler. */
export const OPS_URL = 'https://ops.example/paygate'

/** A public address (example.com's) every name resolves to unless a test says otherwise (`resolveTo`). */
export const PUBLIC_ADDRESS = '93.184.215.14'

/**
 * DNS over HTTPS, as the delivery's check at delivery time asks it: every name has one public IPv4 address and no
 * IPv6 one, unless `resolveTo` said otherwise for it.
 */
const dnsAnswers = new Map<string, { A: string[]; AAAA: string[] }>()
export function resolveTo(name: string, addresses: { A?: string[]; AAAA?: string[] }): void {
  dnsAnswers.set(name, { A: addresses.A ?? [], AAAA: addresses.AAAA ?? [] })
}
const dnsOverHttps = http.get(DNS_OVER_HTTPS_URL, ({ request }) => {
  const url = new URL(request.url)
  const name = url.searchParams.get('name') ?? ''
  const type = url.searchParams.get('type') === 'AAAA' ? 'AAAA' : 'A'
  const data = (dnsAnswers.get(name) ?? { A: [PUBLIC_ADDRESS], AAAA: [] })[type]
  return HttpResponse.json({ Status: 0, Answer: data.map((address) => ({ name, type: type === 'A' ? 1 : 28, TTL: 60, data: address })) })
})

export const network = setupServer(
  http.post(OPS_URL, () => new HttpResponse(null, { status: 204 })),
  dnsOverHttps,
)
