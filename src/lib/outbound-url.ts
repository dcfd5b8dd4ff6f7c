/**
 * @module Which URLs the gateway will call (merchant forward URLs, provider API bases, the ops webhook): https only,
 * IP literals only in public unicast space (SSRF), no explicit port (Workers in production ignore it), loopback http
 * only while running locally.
 */
import { isDevelopment } from './environment'
import ipaddr from 'ipaddr.js'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
/** One message for every refused address (the wording predates the special-purpose ranges it now also covers). */
const REFUSED = 'private, loopback and link-local addresses are refused'

/**
 * Global unicast IPv6 (2000::/3): everything else (IPv4-compatible `::a.b.c.d`, unallocated space) routes
 * nowhere public. Inside it, ipaddr.js names the special-purpose blocks (6to4, Teredo, NAT64, documentation…).
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3')

/**
 * Why an IP-literal host is refused, or null when it is public unicast. Only ipaddr.js's `unicast` range passes:
 * private, loopback, link-local, CGNAT, multicast, reserved (192.0.0.0/24, 198.18.0.0/15, documentation), 6to4,
 * Teredo, NAT64, discard-only, site-local and IPv4-mapped addresses are all refused.
 */
function ipLiteralProblem(host: string): string | null {
  let address: ipaddr.IPv4 | ipaddr.IPv6
  if (isBracketed(host)) {
    const inner = host.slice(1, -1)
    if (!ipaddr.IPv6.isValid(inner)) return 'is not a valid IPv6 address'
    const v6 = ipaddr.IPv6.parse(inner)
    if (!v6.match(GLOBAL_UNICAST_V6)) return REFUSED
    address = v6
  } else if (ipaddr.IPv4.isValidFourPartDecimal(host)) {
    address = ipaddr.IPv4.parse(host)
  } else {
    return null
  }
  return address.range() === 'unicast' ? null : REFUSED
}

const isBracketed = (host: string): boolean => host.startsWith('[') && host.endsWith(']')

/** An IP literal as a URL host writes it: `[v6]` or dotted-decimal v4 (the WHATWG parser normalizes the others). */
const isIpLiteral = (host: string): boolean => isBracketed(host) || ipaddr.IPv4.isValidFourPartDecimal(host)

/** `localhost.` is `localhost`: a fully qualified name's trailing dot must not slip past the name checks. */
const hostOf = (url: URL): string => url.hostname.toLowerCase().replace(/\.+$/, '')

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f]/

/** Longer URLs are refused: no real endpoint needs one, and every stored copy costs. */
export const MAX_URL_LENGTH = 2048

/** Loopback forward and provider URLs are for a Worker running locally only (`wrangler.toml`'s default `[vars]`). */
export function allowsLoopback(env: Pick<Env, 'ENVIRONMENT'>): boolean {
  return isDevelopment(env)
}

/** Why the gateway may not call `url` (a forward URL, a provider API base, the ops URL), or null when it may. */
export function outboundUrlProblem(url: string, options: { allowLoopback: boolean }): string | null {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`
  // The URL parser silently drops tabs and newlines and trims spaces: what is stored must be what is called.
  if (CONTROL_OR_SPACE.test(url)) return 'must not contain spaces or control characters'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'must be an absolute URL'
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain credentials'
  const host = hostOf(parsed)
  if (LOOPBACK_HOSTS.has(host)) {
    if (!options.allowLoopback) return 'loopback addresses are allowed only when the gateway runs locally'
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? null : 'must use https'
  }
  if (parsed.protocol !== 'https:') return 'must use https'
  // The URL parser drops a default port (`:443`), so any port left is another one: deployed Workers ignore it
  // and connect to 443, which would deliver somewhere the merchant did not name.
  if (parsed.port !== '') return 'must not name a port (deployed Workers ignore it and connect to 443)'
  if (host === '' || host.endsWith('.localhost')) return REFUSED
  return ipLiteralProblem(host)
}

/** DNS over HTTPS (JSON), for the addresses a forward URL's host name resolves to at delivery. */
export const DNS_OVER_HTTPS_URL = 'https://cloudflare-dns.com/dns-query'
const DNS_TYPES = { A: 1, AAAA: 28 } as const
/** A lookup's own time limit: it must not eat the attempt's. */
const DNS_TIMEOUT_MS = 3000

/**
 * What DNS says of a URL's host name right before a delivery (the contract's check at delivery): `refused` when any
 * address it resolves to is not public unicast (a name pointed at a private network after it was saved),
 * `unresolved` when no address could be had, null when every address may be called. One record type that DNS itself
 * fails (SERVFAIL: many name servers fail AAAA queries, and the runtime would get no such address either) is judged on
 * the other's answer; a lookup that got no DNS answer at all (timeout, HTTP error) leaves the name unresolved, since
 * its addresses are unknown. IP literals and loopback hosts were judged by outboundUrlProblem and are not looked up.
 */
export async function resolvedHostProblem(url: string): Promise<'refused' | 'unresolved' | null> {
  const host = hostOf(new URL(url))
  if (LOOPBACK_HOSTS.has(host) || isIpLiteral(host)) return null
  const signal = AbortSignal.timeout(DNS_TIMEOUT_MS)
  const answers = await Promise.all((Object.keys(DNS_TYPES) as (keyof typeof DNS_TYPES)[]).map((type) => lookUp(host, type, signal)))
  if (answers.includes('no answer')) return 'unresolved'
  const addresses = answers.flatMap((answer) => (answer === 'failed' ? [] : answer))
  if (addresses.length === 0) return 'unresolved'
  return addresses.some((address) => addressProblem(address) !== null) ? 'refused' : null
}

/** An address from a DNS answer, judged like an IP literal; one that is not an address at all is refused too. */
function addressProblem(address: string): string | null {
  const literal = address.includes(':') ? `[${address}]` : address
  return isIpLiteral(literal) ? ipLiteralProblem(literal) : REFUSED
}

/**
 * The addresses of one record type (none for a name without such records); `failed` when DNS answered with a failure
 * (SERVFAIL…), `no answer` when no DNS answer came at all.
 */
async function lookUp(host: string, type: keyof typeof DNS_TYPES, signal: AbortSignal): Promise<string[] | 'failed' | 'no answer'> {
  try {
    const response = await fetch(`${DNS_OVER_HTTPS_URL}?name=${encodeURIComponent(host)}&type=${type}`, {
      headers: { accept: 'application/dns-json' },
      signal,
    })
    if (!response.ok) return 'no answer'
    const answer = (await response.json()) as { Status?: number; Answer?: { type?: number; data?: unknown }[] }
    // 0: NOERROR (with or without records of this type); 3: NXDOMAIN, no such name; others: DNS failed.
    if (answer.Status === 3) return []
    if (answer.Status !== 0) return 'failed'
    return (answer.Answer ?? []).flatMap((record) =>
      record.type === DNS_TYPES[type] && typeof record.data === 'string' ? [record.data] : [],
    )
  } catch {
    return 'no answer'
  }
}
