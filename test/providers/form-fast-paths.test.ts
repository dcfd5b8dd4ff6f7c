import { describe, expect, it } from 'vitest'
import { alipaySignContent } from '../../src/providers/alipay/sign-content'
import { parseFormBytes, percentDecode } from '../../src/providers/core/form'

const encode = (text: string) => new TextEncoder().encode(text)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** The parser paygate had before the single-pass rewrite, kept here as the reference it must agree with. */
function referenceParse(body: Uint8Array): Map<string, Uint8Array> | 'malformed' {
  const fields = new Map<string, Uint8Array>()
  for (const pair of decode(body).split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const rawKey = equals === -1 ? pair : pair.slice(0, equals)
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1)
    const key = referenceDecode(rawKey)
    if (key === null || key.length === 0 || key.some((b) => b < 0x21 || b > 0x7e)) return 'malformed'
    const name = String.fromCharCode(...key)
    const value = referenceDecode(rawValue)
    if (fields.has(name) || value === null) return 'malformed'
    fields.set(name, value)
  }
  return fields
}

function referenceDecode(text: string): Uint8Array | null {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '+') out.push(0x20)
    else if (c === '%') {
      if (!/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) return null
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else out.push(...encode(c))
  }
  return Uint8Array.from(out)
}

function outcome(body: string): Record<string, number[]> | 'malformed' {
  try {
    return Object.fromEntries([...parseFormBytes(encode(body))].map(([k, v]) => [k, Array.from(v)]))
  } catch (error) {
    expect(error).toMatchObject({ code: 'malformed_body' })
    return 'malformed'
  }
}

describe('form parsing in one pass', () => {
  it('agrees with a straightforward reference parser on well-formed and malformed bodies alike', () => {
    const bodies = [
      'a=1&b=2',
      'a=x+y%2Bz&b=%253d&c=%E4%b8%ad',
      '&&a=1&&',
      'flag&a=',
      'a=b=c&d==',
      'a=%4&b=1',
      'a=%',
      'a=1%2',
      'a=%zz',
      '=1',
      'a%20b=1',
      'a%3Db=1',
      'a=1&a=2',
      'k%41=v',
      `long=${'x'.repeat(5000)}&${'n'.repeat(300)}=v`,
      'gmt_create=2026-11-25+16%3A40%3A01&subject=%E6%BC%94%E7%A4%BA&sign=ab%2Bcd%3D%3D',
    ]
    for (const body of bodies) {
      const reference = referenceParse(encode(body))
      const expected = reference === 'malformed' ? 'malformed' : Object.fromEntries([...reference].map(([k, v]) => [k, Array.from(v)]))
      expect(outcome(body), body).toEqual(expected)
    }
  })

  it('never lets an escape borrow hex digits from the next pair', () => {
    expect(outcome('a=%4&41=1')).toBe('malformed')
    expect(outcome('a=%&41=1')).toBe('malformed')
  })

  it('returns values that own their bytes, whatever happens to the body afterwards', () => {
    const body = encode('a=plain&b=%41%42')
    const fields = parseFormBytes(body)
    body.fill(0)
    expect(decode(fields.get('a')!)).toBe('plain')
    expect(decode(fields.get('b')!)).toBe('AB')
    expect(fields.get('a')!.byteLength).toBe(fields.get('a')!.buffer.byteLength)
  })

  it('decodes a whole buffer with percentDecode as before', () => {
    expect(Array.from(percentDecode(encode('x+y%2b%E4')))).toEqual([0x78, 0x20, 0x79, 0x2b, 0xe4])
    expect(() => percentDecode(encode('%'))).toThrow(expect.objectContaining({ code: 'malformed_body' }))
  })
})

describe('alipay sign content in one buffer', () => {
  it('joins sorted ASCII names and raw value bytes exactly as the field-by-field version did', () => {
    const fields = parseFormBytes(encode('b=2&a=%D6%D0&sign_type=RSA2&sign=abc&empty='))
    expect(Array.from(alipaySignContent(fields, 'v1'))).toEqual([...encode('a='), 0xd6, 0xd0, ...encode('&b=2')])
    expect(decode(alipaySignContent(fields, 'v2')).endsWith('&b=2&sign_type=RSA2')).toBe(true)
  })

  it('still UTF-8 encodes a name that is not ASCII', () => {
    const fields = new Map([
      ['名', encode('x')],
      ['a', encode('1')],
    ])
    expect(decode(alipaySignContent(fields, 'v1'))).toBe('a=1&名=x')
  })

  it('is empty when nothing is signed', () => {
    expect(alipaySignContent(new Map([['sign', encode('s')]]), 'v1').byteLength).toBe(0)
  })
})
