/**
 * @module The few X.509 fields paygate reads, straight from the DER: serial number, issuer and subject attributes,
 * validity, signature algorithm and the public key. A small strict reader (definite lengths only, as DER requires),
 * so the bytes are read the same way everywhere, whatever a runtime's certificate object prints.
 */
import { readPem } from './encoding'
import type { Bytes } from './primitives'

/** One attribute of a distinguished name, in certificate order (RDN by RDN). */
export interface NameAttribute {
  /** Dotted object identifier, e.g. `2.5.4.3` for CN. */
  oid: string
  value: string
}

export interface CertificateFields {
  /** The serial number's unsigned big-endian bytes (DER's sign octet removed). */
  serialNumber: Bytes
  /** Whether the serial is above zero, as RFC 5280 requires (a negative one's bytes would pass for another's). */
  serialIsPositive: boolean
  issuer: NameAttribute[]
  subject: NameAttribute[]
  notBefore: Date
  notAfter: Date
  /** The issuer's signature algorithm (outer `signatureAlgorithm`), dotted. */
  signatureAlgorithm: string
  /** The subject's public key as SPKI DER, what WebCrypto imports. */
  subjectPublicKeyInfo: Bytes
}

interface Element {
  tag: number
  /** Where the element (its tag) starts in the buffer it was read from. */
  start: number
  /** Content bytes. */
  body: Bytes
  /** Index just past the element in the buffer it was read from. */
  end: number
}

function fault(): never {
  throw new RangeError('certificate is not well-formed DER')
}

function readElement(bytes: Bytes, start: number): Element {
  if (start + 2 > bytes.length) fault()
  const tag = bytes[start]!
  let length = bytes[start + 1]!
  let offset = start + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4 || offset + count > bytes.length) fault()
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + i]!
    offset += count
  }
  if (offset + length > bytes.length) fault()
  return { tag, start, body: bytes.subarray(offset, offset + length) as Bytes, end: offset + length }
}

/** The elements inside a constructed element's content. */
function children(body: Bytes): Element[] {
  const out: Element[] = []
  for (let offset = 0; offset < body.length; ) {
    const element = readElement(body, offset)
    out.push(element)
    offset = element.end
  }
  return out
}

function expect(element: Element | undefined, tag: number): Element {
  if (element === undefined || element.tag !== tag) fault()
  return element
}

const SEQUENCE = 0x30
const SET = 0x31
const INTEGER = 0x02
const OID = 0x06
const UTC_TIME = 0x17
const GENERALIZED_TIME = 0x18
const VERSION = 0xa0

function oidText(body: Bytes): string {
  const values: number[] = []
  let value = 0
  for (const byte of body) {
    value = value * 128 + (byte & 0x7f)
    if (!(byte & 0x80)) {
      values.push(value)
      value = 0
    }
  }
  if (values.length === 0 || body[body.length - 1]! & 0x80) fault()
  // The first subidentifier packs the first two arcs: 40 × X + Y, X being at most 2.
  const first = values[0]!
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]
  return [...head, ...values.slice(1)].join('.')
}

const latin1 = new TextDecoder('latin1')
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true })

function utf32be(body: Bytes): string {
  if (body.length % 4 !== 0) fault()
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  let text = ''
  for (let i = 0; i < body.length; i += 4) {
    const code = view.getUint32(i)
    if (code > 0x10ffff) fault()
    text += String.fromCodePoint(code)
  }
  return text
}

/** An attribute value as text: the directory string types certificates use. */
function stringValue(element: Element): string {
  switch (element.tag) {
    case 0x0c: // UTF8String
      return utf8.decode(element.body)
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString, read as Latin-1 as most decoders do
      return latin1.decode(element.body)
    case 0x1e: // BMPString
      return utf16be.decode(element.body)
    case 0x1c: // UniversalString: UTF-32BE
      return utf32be(element.body)
    default:
      throw new RangeError('certificate name has a value type paygate does not read')
  }
}

function nameAttributes(name: Element): NameAttribute[] {
  return children(expect(name, SEQUENCE).body).flatMap((rdn) =>
    children(expect(rdn, SET).body).map((attribute) => {
      const [type, value] = children(expect(attribute, SEQUENCE).body)
      if (value === undefined) fault()
      return { oid: oidText(expect(type, OID).body), value: stringValue(value) }
    }),
  )
}

function time(element: Element | undefined): Date {
  if (element === undefined) fault()
  const text = latin1.decode(element.body)
  const match =
    element.tag === UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : element.tag === GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null
  if (match === null) fault()
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number]
  // RFC 5280: UTCTime years 50–99 are 19xx, 00–49 are 20xx.
  const fullYear = element.tag === UTC_TIME ? (year >= 50 ? 1900 + year : 2000 + year) : year
  return new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second))
}

/** Reads one DER certificate. Throws `RangeError` when it is not one. */
export function readCertificate(der: Bytes): CertificateFields {
  const certificate = readElement(der, 0)
  if (certificate.tag !== SEQUENCE || certificate.end !== der.length) fault()
  const [tbs, signatureAlgorithm] = children(certificate.body)
  const fields = children(expect(tbs, SEQUENCE).body)
  // The version is an optional explicit [0]; v1 certificates leave it out.
  const at = fields[0]?.tag === VERSION ? 1 : 0
  const serial = expect(fields[at], INTEGER).body
  const validity = children(expect(fields[at + 3], SEQUENCE).body)
  const spki = expect(fields[at + 5], SEQUENCE)
  const [issuer, subject] = [fields[at + 2], fields[at + 4]]
  return {
    serialNumber: (serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial).slice() as Bytes,
    serialIsPositive: (serial[0]! & 0x80) === 0 && serial.some((byte) => byte !== 0),
    // Names are read when asked for: the serial, validity and key of a certificate whose names use a rare string type
    // stay readable.
    get issuer() {
      return nameAttributes(expect(issuer, SEQUENCE))
    },
    get subject() {
      return nameAttributes(expect(subject, SEQUENCE))
    },
    notBefore: time(validity[0]),
    notAfter: time(validity[1]),
    signatureAlgorithm: oidText(expect(children(expect(signatureAlgorithm, SEQUENCE).body)[0], OID).body),
    subjectPublicKeyInfo: tbs!.body.slice(spki.start, spki.end) as Bytes,
  }
}

/** A `CERTIFICATE` block of a PEM text. */
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/**
 * What `text` holds besides its certificates that could be a key, said for an error message: another PEM block (a
 * private key in a bundle) or a long base64 run outside every certificate block (a key as Alipay's tool writes it,
 * bare); null when nothing. Comments and attribute lines (`openssl pkcs12` output) are no keys.
 */
export function nonCertificateContent(text: string): string | null {
  for (const [, label] of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)) if (label !== 'CERTIFICATE') return `a ${label} block`
  const outside = text.replace(CERTIFICATE_BLOCK, '\n').replace(/[ \t]*\r?\n[ \t]*/g, '')
  return /[A-Za-z0-9+/]{200,}/.test(outside) ? 'base64 text' : null
}

/** Every `CERTIFICATE` block of a PEM text (a chain such as Alipay's root certificate file), as DER. */
export function certificatesInPem(text: string): Bytes[] {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? []
  return blocks.map((block) => readPem(block).der)
}
