/** @module What every channel's `redact` shares: signatures cut short, bodies read as text whatever their bytes. */

/** How much of a signature a redacted callback keeps: enough to tell two apart, never enough to reuse. */
const SIGNATURE_PREFIX_SHOWN = 8

/** `abcdefgh…`: a signature (or any other value that must not be shown whole) cut short. */
export function cutSignature(signature: string): string {
  return `${signature.slice(0, SIGNATURE_PREFIX_SHOWN)}…`
}

/**
 * `text` with every whole copy of `signature` cut short: a sender may repeat the signature it was verified with
 * outside the place it is read from (a comment, another header), and a kept body shows none whole.
 */
export function withoutSignature(text: string, signature: string): string {
  // Up to the prefix shown, a signature is shown whole anyway; cutting it would only mark every match.
  if (signature.length <= SIGNATURE_PREFIX_SHOWN) return text
  return text.replaceAll(signature, cutSignature(signature))
}

/** The body as UTF-8 text; bytes that are not UTF-8 show as U+FFFD rather than fail. */
export function bodyText(body: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(body)
}

/** The named headers that are present, lower-cased names, in the order given. */
export function pickHeaders(headers: Headers, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = headers.get(name)
    if (value !== null) picked[name.toLowerCase()] = value
  }
  return picked
}
