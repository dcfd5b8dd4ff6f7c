/**
 * @module Hardened reader for WeChat Pay v2's flat XML (`<xml>` notifies, `<root>` refund `req_info`) and the
 * XML replies WeChat expects. Values stay exactly as signed: strings, untrimmed, CDATA verbatim, never coerced.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { refuse } from '../core/rejection'

export type FlatXmlRoot = 'xml' | 'root'

// DTDs are where XXE and entity expansion ("billion laughs") live; a WeChat message never has one
// (WeChat's 2018 XXE advisory), so any mention is refused before a parser sees the text.
const DTD_MARKUP = /<!(?:DOCTYPE|ENTITY)/i

// Characters XML 1.0 forbids anywhere in a document (the `Char` production), lone surrogates included.
const NON_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const WHITESPACE_ONLY = /^[ \t\r\n]*$/

// The parser's own entity handling is off: we decode the five predefined entities and character
// references ourselves, only in text (never in CDATA), and refuse anything else.
const REFERENCE = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(lt|gt|amp|apos|quot));/g
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' }

const TEXT = '#text'
const CDATA = '#cdata'

// Stateless between calls (each parse builds its own reader), so one configured instance is shared.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  cdataPropName: CDATA,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Names stay exact (`toString` is not renamed `__toString`): nodes are read with Object.entries and the
  // result is built with Object.fromEntries, so no name reaches a prototype. `__proto__`, `constructor`
  // and `prototype` still make the parser throw, which reads as malformed.
  onDangerousProperty: (name) => name,
})

/** One node of fast-xml-parser's `preserveOrder` output: `{ tag: children }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown>

/** The fields of a flat WeChat v2 document: element name → text. */
export type XmlFields = Readonly<Record<string, string>>

/** The fields that carry a value: v2 writes a value it leaves out as an empty element, and its sign skips those. */
export function presentFields(fields: XmlFields): XmlFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''))
}

/**
 * Reads `<root><k>v</k>…</root>` into `{ k: v }`. Refuses with `xml_entities` any DTD or entity
 * declaration, and with `malformed_body` anything that is not well-formed XML with exactly that root
 * and flat, unique children.
 */
export function readFlatXml(text: string, root: FlatXmlRoot): Record<string, string> {
  if (DTD_MARKUP.test(text)) refuse('xml_entities', 'XML with a DOCTYPE or entity declaration is refused')
  if (NON_XML_CHAR.test(text)) refuse('malformed_body', 'XML contains characters XML does not allow')
  if (XMLValidator.validate(text) !== true) refuse('malformed_body', 'body is not well-formed XML')

  const documentNodes = parseOrdered(text)
  const rootNode = singleElement(documentNodes)
  if (rootNode === undefined || rootNode.name !== root) refuse('malformed_body', `XML root must be <${root}>`)

  const fields = new Map<string, string>()
  for (const node of rootNode.children) {
    const [name, content] = onlyEntry(node)
    if (name === TEXT) {
      if (!WHITESPACE_ONLY.test(String(content))) refuse('malformed_body', `text directly inside <${root}>`)
      continue
    }
    if (name === CDATA) refuse('malformed_body', `CDATA directly inside <${root}>`)
    // Messages never echo names from the body: they end up in replies and the audit trail.
    if (fields.has(name)) refuse('malformed_body', 'a field appears twice')
    fields.set(name, leafValue(content))
  }
  return Object.fromEntries(fields)
}

/**
 * `<xml><k><![CDATA[v]]></k>…</xml>`, the shape of WeChat's replies. Keys are our own constants;
 * values may be anything, `]]>` included.
 */
export function buildXmlReply(fields: XmlFields): string {
  const children = Object.entries(fields).map(([name, value]) => `<${name}>${cdata(value)}</${name}>`)
  return `<xml>${children.join('')}</xml>`
}

function cdata(value: string): string {
  // A CDATA section cannot contain `]]>`; split it across two sections.
  return `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
}

function parseOrdered(text: string): OrderedNode[] {
  try {
    return parser.parse(text) as OrderedNode[]
  } catch {
    // e.g. a tag named `constructor`, which the parser refuses as a prototype-pollution risk.
    return refuse('malformed_body', 'body is not a readable XML document')
  }
}

function singleElement(nodes: OrderedNode[]): { name: string; children: OrderedNode[] } | undefined {
  const elements = nodes.map(onlyEntry).filter(([name]) => name !== TEXT)
  if (elements.length !== 1) return undefined
  const [name, children] = elements[0]!
  return Array.isArray(children) ? { name, children: children as OrderedNode[] } : undefined
}

function onlyEntry(node: OrderedNode): [string, unknown] {
  const entries = Object.entries(node)
  if (entries.length !== 1) refuse('malformed_body', 'unexpected XML structure')
  return entries[0]!
}

/** Concatenates a field's text and CDATA pieces; an element inside a field means it is not flat. */
function leafValue(content: unknown): string {
  if (!Array.isArray(content)) refuse('malformed_body', 'unexpected XML structure')
  let value = ''
  for (const piece of content as OrderedNode[]) {
    const [kind, inner] = onlyEntry(piece)
    if (kind === TEXT) value += decodeText(String(inner))
    else if (kind === CDATA) value += cdataText(inner)
    else refuse('malformed_body', 'a field holds a nested element')
  }
  return value
}

function cdataText(inner: unknown): string {
  if (!Array.isArray(inner)) refuse('malformed_body', 'unexpected CDATA structure')
  return (inner as OrderedNode[]).map((piece) => String(onlyEntry(piece)[1])).join('')
}

function decodeText(text: string): string {
  // Whatever `&` remains once valid references are removed is a bare ampersand or an undeclared entity.
  if (text.replace(REFERENCE, '').includes('&')) refuse('malformed_body', 'XML text has an unknown entity reference')
  return text.replace(REFERENCE, (_match, hex: string | undefined, decimal: string | undefined, name: string | undefined) => {
    if (name !== undefined) return PREDEFINED[name]!
    const codePoint = hex !== undefined ? Number.parseInt(hex, 16) : Number(decimal)
    if (!isXmlChar(codePoint)) refuse('malformed_body', 'XML character reference to a forbidden character')
    return String.fromCodePoint(codePoint)
  })
}

function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  )
}
