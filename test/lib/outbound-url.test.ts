/** The outbound-URL policy (forward URLs, provider API bases, the ops URL): public unicast literals only, no ports. */
import { describe, expect, it } from 'vitest'
import { outboundUrlProblem } from '../../src/lib/outbound-url'

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
