/** @module Reads an HTTP body (a request, or a provider API response) up to a limit without ever holding more than the limit in memory. */

export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge'
}

/** 64 KiB: real provider callbacks are a few KiB at most. */
export const NOTIFY_BODY_LIMIT = 64 * 1024

/** Reads a request's (or a provider response's) body; throws `BodyTooLarge` past `limit`. */
export async function readBodyWithLimit(request: Pick<Request, 'headers' | 'body'>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw new BodyTooLarge(`body larger than ${limit} bytes`)
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      // Stop reading: the rest of an oversized (or endless) body is never buffered.
      await reader.cancel().catch(() => undefined)
      throw new BodyTooLarge(`body larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}
