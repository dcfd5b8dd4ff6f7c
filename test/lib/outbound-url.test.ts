/** The outbound-URL policy (forward URLs, provider API bases, the ops URL): public unicast literals only, no ports. */
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { DNS_OVER_HTTPS_URL, outboundUrlProblem, resolvedHostProblem } from '../../src/lib/outbound-url'
import { network, PUBLIC_ADDRESS, resolveTo } from '../msw'

const PRODUCTION = { allowLoopback: false }
const LOCAL = { allowLoopback: true }
const REFUSED = 'private, loopback and link-local addresses are refused'

describe('outbound URLs', () => {
  it('accept public unicast IP literals and host names', () => {
    for (const url of [
      'https://merchant.example/hook',
      'https://1.1.1.1/hook',
      'https://[2606:4700::1111]/hook',
      'https://shop.example:443/x',
    ]) {
      expect(outboundUrlProblem(url, PRODUCTION), url).toBeNull()
    }
  })

  it('refuse every special-purpose IPv4 block, the ones ipaddr.js calls reserved included', () => {
    for (const host of [
      '0.1.2.3',
      '10.0.0.1',
      '100.64.0.1',
      '127.0.0.2',
      '169.254.169.254',
      '172.16.0.1',
      '192.0.0.8', // 192.0.0.0/24, IETF protocol assignments
      '192.0.2.1',
      '192.88.99.1', // 6to4 relay anycast
      '192.168.1.1',
      '198.18.0.1', // 198.18.0.0/15, benchmarking
      '198.19.255.254',
      '198.51.100.1',
      '203.0.113.1',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
    ]) {
      expect(outboundUrlProblem(`https://${host}/hook`, PRODUCTION), host).toBe(REFUSED)
    }
  })

  it('refuse IPv6 outside public unicast, and the forms that wrap a private IPv4 address', () => {
    for (const host of [
      '::',
      '::a00:1', // IPv4-compatible 10.0.0.1
      '::ffff:a9fe:a9fe', // IPv4-mapped metadata address
      '64:ff9b::a9fe:a9fe', // NAT64
      '64:ff9b:1::a00:1', // local-use NAT64
      '100::1', // discard-only
      '2001::a00:1', // Teredo
      '2001:db8::1', // documentation
      '2002:a00:1::1', // 6to4 of 10.0.0.1
      '2002:c0a8:101::1', // 6to4 of 192.168.1.1
      'fc00::1',
      'fd00::1',
      'fe80::1',
      'fec0::1', // site-local (deprecated, still routed inside some networks)
      'ff02::1',
      '4000::1', // outside 2000::/3
    ]) {
      expect(outboundUrlProblem(`https://[${host}]/hook`, PRODUCTION), host).toBe(REFUSED)
    }
  })

  it('refuse a port, which deployed Workers would ignore, except on loopback while running locally', () => {
    expect(outboundUrlProblem('https://merchant.example:8443/hook', PRODUCTION)).toBe(
      'must not name a port (deployed Workers ignore it and connect to 443)',
    )
    expect(outboundUrlProblem('https://1.1.1.1:8080/hook', LOCAL)).toMatch(/^must not name a port/)
    expect(outboundUrlProblem('http://localhost:4242/webhooks', LOCAL)).toBeNull()
    expect(outboundUrlProblem('http://127.0.0.1:8790', LOCAL)).toBeNull()
    expect(outboundUrlProblem('http://localhost:4242/webhooks', PRODUCTION)).toBe(
      'loopback addresses are allowed only when the gateway runs locally',
    )
  })

  it('keep refusing what it refused before: http, credentials, control characters, *.localhost', () => {
    expect(outboundUrlProblem('http://merchant.example/hook', PRODUCTION)).toBe('must use https')
    expect(outboundUrlProblem('https://u:p@merchant.example/hook', PRODUCTION)).toBe('must not contain credentials')
    expect(outboundUrlProblem('https://merchant.example/h ook', PRODUCTION)).toBe('must not contain spaces or control characters')
    expect(outboundUrlProblem('https://api.localhost./hook', PRODUCTION)).toBe(REFUSED)
    expect(outboundUrlProblem('https://2852039166/', PRODUCTION)).toBe(REFUSED)
  })
})

describe('the host name at delivery (DNS over HTTPS)', () => {
  /** Answers every lookup of `name` with `reply` (a DNS JSON body, or an HTTP status), the other names as usual. */
  function answer(name: string, reply: (type: string) => object | number): void {
    network.use(
      http.get(DNS_OVER_HTTPS_URL, ({ request }) => {
        const url = new URL(request.url)
        if (url.searchParams.get('name') !== name) return undefined
        const body = reply(url.searchParams.get('type')!)
        return typeof body === 'number' ? new HttpResponse(null, { status: body }) : HttpResponse.json(body)
      }),
    )
  }
  const records = (type: number, ...data: string[]) => ({ Status: 0, Answer: data.map((d) => ({ type, data: d })) })

  it('passes a name whose every address is public; IP literals and loopback are not looked up', async () => {
    expect(await resolvedHostProblem('https://public.example/hook')).toBeNull()
    resolveTo('both.example', { A: [PUBLIC_ADDRESS], AAAA: ['2606:4700::1111'] })
    expect(await resolvedHostProblem('https://both.example./hook')).toBeNull()
    answer('never-asked.example', () => 500)
    for (const url of ['https://1.1.1.1/h', 'https://[2606:4700::1111]/h', 'http://localhost:4242/h']) {
      expect(await resolvedHostProblem(url)).toBeNull()
    }
  })

  it('refuses a name with any private, reserved or wrapped address, or an answer that is no address', async () => {
    const cases: [string, { A?: string[]; AAAA?: string[] }][] = [
      ['private.example', { A: [PUBLIC_ADDRESS, '192.168.1.5'] }],
      ['metadata.example', { A: ['169.254.169.254'] }],
      ['mapped.example', { AAAA: ['::ffff:10.0.0.1'] }],
      ['sixtofour.example', { A: [PUBLIC_ADDRESS], AAAA: ['2002:a00:1::1'] }],
      ['garbage.example', { A: ['not-an-address'] }],
    ]
    for (const [name, addresses] of cases) {
      resolveTo(name, addresses)
      expect(await resolvedHostProblem(`https://${name}/hook`), name).toBe('refused')
    }
  })

  it('follows the answer past CNAME records to the addresses', async () => {
    answer('alias.example', (type) =>
      type === 'A'
        ? {
            Status: 0,
            Answer: [
              { type: 5, data: 'target.example.' },
              { type: 1, data: '10.1.2.3' },
            ],
          }
        : records(28),
    )
    expect(await resolvedHostProblem('https://alias.example/hook')).toBe('refused')
  })

  it('judges the other answer when DNS fails one record type; no DNS answer, or no address at all, is unresolved', async () => {
    answer('aaaa-servfail.example', (type) => (type === 'A' ? records(1, PUBLIC_ADDRESS) : { Status: 2 }))
    expect(await resolvedHostProblem('https://aaaa-servfail.example/hook')).toBeNull()
    answer('a-servfail.example', (type) => (type === 'A' ? { Status: 2 } : records(28, 'fe80::1')))
    expect(await resolvedHostProblem('https://a-servfail.example/hook')).toBe('refused')
    // The lookup of one type got no DNS answer (an HTTP error): what it would have said is unknown.
    answer('aaaa-down.example', (type) => (type === 'A' ? records(1, PUBLIC_ADDRESS) : 503))
    expect(await resolvedHostProblem('https://aaaa-down.example/hook')).toBe('unresolved')
    answer('nxdomain.example', () => ({ Status: 3 }))
    expect(await resolvedHostProblem('https://nxdomain.example/hook')).toBe('unresolved')
    answer('down.example', () => 502)
    expect(await resolvedHostProblem('https://down.example/hook')).toBe('unresolved')
  })
})
