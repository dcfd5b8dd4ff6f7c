/**
 * @module Which URLs the gateway will call (merchant forward URLs, provider API bases): https only, never private or
 * link-local addresses (SSRF), loopback http only while running locally.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

function isPrivateOrLocalIpv4(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (!m) return false
  const [a, b] = [Number(m[1]), Number(m[2])]
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224 // multicast and reserved
  )
}

function isPrivateOrLocalIpv6(host: string): boolean {
  if (!host.startsWith('[')) return false
  // WHATWG URL serialises IPv6 canonically: lowercase, zeros compressed, no embedded dotted IPv4.
  const addr = host.slice(1, -1).toLowerCase()
  return (
    // 0000::/16: unspecified, loopback, IPv4-compatible and IPv4-mapped (which could name any IPv4 address).
    addr.startsWith('::') ||
    addr.startsWith('0:') ||
    addr.startsWith('64:ff9b:') || // NAT64: an IPv4 address (metadata service included) behind a gateway
    addr.startsWith('fc') ||
    addr.startsWith('fd') || // unique local
    /^fe[89ab]/.test(addr) || // link-local
    addr.startsWith('ff') // multicast
  )
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f]/

/** Longer URLs are refused: no real endpoint needs one, and every stored copy costs. */
export const MAX_URL_LENGTH = 2048

/** Why the gateway may not call `url` (a forward URL, a provider API base), or null when it may. */
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
  // `localhost.` is `localhost`: a fully qualified name's trailing dot must not slip past the name checks.
  const host = parsed.hostname.toLowerCase().replace(/\.+$/, '')
  const loopback = LOOPBACK_HOSTS.has(host)
  if (loopback) {
    if (!options.allowLoopback) return 'loopback addresses are allowed only when the gateway runs locally'
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? null : 'must use https'
  }
  if (parsed.protocol !== 'https:') return 'must use https'
  if (isPrivateOrLocalIpv4(host) || isPrivateOrLocalIpv6(host) || host.endsWith('.localhost') || host === '') {
    return 'private, loopback and link-local addresses are refused'
  }
  return null
}
