/**
 * @module Part 1 of `npm run bench`: paygate's own parse → verify → normalize (src/providers, unchanged) run
 * in a loop inside workerd, next to the bare WebCrypto floor of the same notification (the same key, message
 * and signature, one `crypto.subtle` call each). workerd freezes clocks while code runs, so nothing here
 * times itself: bench/run.mjs reads the process's CPU time from /proc around each `/run` request.
 */
import { fromBase64, readPem } from '../../src/crypto/encoding'
import { parseMerchantInput } from '../../src/merchants/schema'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/core/pipeline'
import { defaultRegistry, type Channel } from '../../src/providers'
import type { ChannelAdapter, RawNotification } from '../../src/providers/core/types'

type Bytes = Uint8Array<ArrayBuffer>

interface SetupBody {
  merchants: Record<string, unknown>
  cases: CaseInput[]
}

interface CaseInput {
  id: string
  channel: Channel
  merchantId: string
  headers: Record<string, string>
  /** base64 of the exact body bytes. */
  body: string
  /** The clock the pipeline is given (v3 checks its timestamp against it). */
  now: number
  floor: FloorInput
}

interface FloorInput {
  parts: ('rsa' | 'aesGcm' | 'md5' | 'hmac')[]
  rsa?: { hash: 'SHA-256' | 'SHA-1'; spkiPem: string; signature: string; message: string }
  aesGcm?: { key: string; iv: string; aad: string; sealed: string }
  md5?: { message: string }
  hmac?: { key: string; message: string }
}

interface PreparedCase {
  adapter: ChannelAdapter<unknown, unknown>
  merchant: MerchantConfig
  raw: RawNotification
  now: number
  floor: PreparedFloor
}

interface PreparedFloor {
  rsa?: { key: CryptoKey; signature: Bytes; message: Bytes }
  aesGcm?: { key: CryptoKey; iv: Bytes; aad: Bytes; sealed: Bytes }
  md5?: { message: Bytes }
  hmac?: { key: CryptoKey; message: Bytes }
}

/**
 * `pipeline` is the whole of what the notify handler runs before storage; `parse` and `parse+verify` stop
 * early, so the report can say where the time goes. The floors are bare WebCrypto calls.
 */
type RunKind = 'parse' | 'parse+verify' | 'pipeline' | 'floor' | 'floor-signature'

// One bench isolate, one set of cases: set by /setup, read by /run.
const prepared = new Map<string, PreparedCase>()

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/setup') return setup((await request.json()) as SetupBody)
    if (request.method === 'POST' && url.pathname === '/run') {
      const { id, kind, n } = (await request.json()) as { id: string; kind: RunKind; n: number }
      const c = prepared.get(id)
      if (c === undefined) return Response.json({ error: `unknown case ${id}` }, { status: 404 })
      const ok =
        kind === 'floor' || kind === 'floor-signature'
          ? await runFloor(c.floor, n, kind === 'floor-signature')
          : await runStages(c, n, kind)
      return Response.json({ id, kind, n, ok })
    }
    return new Response('micro benchmark: POST /setup, POST /run', { status: 404 })
  },
} satisfies ExportedHandler

async function setup(body: SetupBody): Promise<Response> {
  prepared.clear()
  const merchants = new Map<string, MerchantConfig>()
  for (const [id, input] of Object.entries(body.merchants)) {
    merchants.set(id, { id, ...(await parseMerchantInput(input, { allowLoopback: true })) })
  }
  for (const c of body.cases) {
    const merchant = merchants.get(c.merchantId)
    if (merchant === undefined) return Response.json({ error: `case ${c.id}: unknown merchant` }, { status: 400 })
    const item: PreparedCase = {
      adapter: defaultRegistry.channel(c.channel)!,
      merchant,
      raw: { body: fromBase64(c.body), headers: new Headers(c.headers), receivedAt: c.now },
      now: c.now,
      floor: await prepareFloor(c.floor),
    }
    // Both must accept before anything is timed: a benchmark of a rejection would measure the wrong path.
    const notification = await verifyNotification(item.adapter, item.raw, item.merchant, item.now)
    if (notification.outTradeNo === '') return Response.json({ error: `case ${c.id}: no order` }, { status: 400 })
    if ((await runFloor(item.floor, 1, false)) !== 1)
      return Response.json({ error: `case ${c.id}: floor does not verify` }, { status: 400 })
    prepared.set(c.id, item)
  }
  return Response.json({ cases: [...prepared.keys()] })
}

async function prepareFloor(floor: FloorInput): Promise<PreparedFloor> {
  const out: PreparedFloor = {}
  if (floor.parts.includes('rsa') && floor.rsa) {
    const spki = readPem(floor.rsa.spkiPem).der
    out.rsa = {
      key: await crypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: floor.rsa.hash }, false, ['verify']),
      signature: fromBase64(floor.rsa.signature),
      message: fromBase64(floor.rsa.message),
    }
  }
  if (floor.parts.includes('aesGcm') && floor.aesGcm) {
    out.aesGcm = {
      key: await crypto.subtle.importKey('raw', fromBase64(floor.aesGcm.key), 'AES-GCM', false, ['decrypt']),
      iv: fromBase64(floor.aesGcm.iv),
      aad: fromBase64(floor.aesGcm.aad),
      sealed: fromBase64(floor.aesGcm.sealed),
    }
  }
  if (floor.parts.includes('md5') && floor.md5) out.md5 = { message: fromBase64(floor.md5.message) }
  if (floor.parts.includes('hmac') && floor.hmac) {
    out.hmac = {
      key: await crypto.subtle.importKey('raw', fromBase64(floor.hmac.key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
      message: fromBase64(floor.hmac.message),
    }
  }
  return out
}

async function runStages(c: PreparedCase, n: number, kind: 'parse' | 'parse+verify' | 'pipeline'): Promise<number> {
  let ok = 0
  for (let i = 0; i < n; i++) {
    if (kind === 'pipeline') {
      // Exactly what src/http/notify.ts runs between reading the body and storing the notification.
      const notification = await verifyNotification(c.adapter, c.raw, c.merchant, c.now)
      if (notification.outTradeNo !== '') ok++
      continue
    }
    const wire = c.adapter.parse(c.raw)
    // The adapter sees its own provider's section of the merchant, as verifyNotification hands it over.
    if (kind === 'parse+verify') await c.adapter.verify(wire, c.merchant[c.adapter.provider as keyof MerchantConfig], c.now)
    ok++
  }
  return ok
}

/** One WebCrypto call per part per iteration; `signatureOnly` leaves out the v3 AES-GCM decryption. */
async function runFloor(floor: PreparedFloor, n: number, signatureOnly: boolean): Promise<number> {
  let ok = 0
  for (let i = 0; i < n; i++) {
    let pass = true
    if (floor.rsa) {
      pass &&= await crypto.subtle.verify('RSASSA-PKCS1-v1_5', floor.rsa.key, floor.rsa.signature, floor.rsa.message)
    }
    if (floor.aesGcm && !signatureOnly) {
      const { key, iv, aad, sealed } = floor.aesGcm
      pass &&= (await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, key, sealed)).byteLength > 0
    }
    if (floor.md5) pass &&= (await crypto.subtle.digest('MD5', floor.md5.message)).byteLength === 16
    if (floor.hmac) pass &&= (await crypto.subtle.sign('HMAC', floor.hmac.key, floor.hmac.message)).byteLength === 32
    if (pass) ok++
  }
  return ok
}
