// The signed notifications the benchmark sends, built by the same independent signers as `npm run simulate`
// (scripts/lib/build-notification.mjs → test/fixtures/signers/*.mjs), never by paygate's own code.
import { createHash, createHmac } from 'node:crypto'
import { buildNotification } from '../../scripts/lib/build-notification.mjs'
import { alipaySignContent, buildAlipayNotify } from '../../test/fixtures/signers/alipay.mjs'

/** The realistic mix of issue #7: half Alipay, a third WeChat Pay APIv3, the rest APIv2 (MD5 and HMAC alike). */
export const MIX = [
  { kind: 'alipay', weight: 0.5 },
  { kind: 'wechatpay.v3', weight: 0.35 },
  { kind: 'wechatpay.v2/MD5', weight: 0.075 },
  { kind: 'wechatpay.v2/HMAC-SHA256', weight: 0.075 },
]
export const DUPLICATE_SHARE = 0.2

/** A small deterministic PRNG (mulberry32), so a rerun sends the same mix in the same order. */
export function seededRandom(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pickKind(random) {
  let r = random()
  for (const { kind, weight } of MIX) {
    if (r < weight) return kind
    r -= weight
  }
  return MIX[0].kind
}

/**
 * `count` distinct payment notifications for `merchantId`, in the mix above, each for its own order.
 * Each carries `x-bench-order` / `x-bench-notification` headers: paygate and the Node baseline ignore them;
 * the skeleton Worker routes by them instead of parsing anything.
 */
export function buildPool({ keys, merchantId, count, seed, runId, now = Date.now() }) {
  const random = seededRandom(seed)
  const pool = []
  for (let i = 0; i < count; i++) {
    const kind = pickKind(random)
    const [channel, v2SignType] = kind.split('/')
    const outTradeNo = `BENCH-${runId}-${String(i).padStart(6, '0')}`
    const built = buildNotification({
      channel,
      event: 'payment',
      keys,
      merchantId,
      outTradeNo,
      amount: 100 + Math.floor(random() * 99_900),
      now,
      ...(v2SignType ? { v2SignType } : {}),
    })
    const provider = channel === 'alipay' ? 'alipay' : 'wechatpay'
    pool.push({
      kind,
      channel,
      path: built.path,
      headers: { ...built.headers, 'x-bench-order': `${provider}:${outTradeNo}`, 'x-bench-notification': `${kind}:${outTradeNo}` },
      body: built.body,
      outTradeNo,
    })
  }
  return pool
}

/**
 * The seven notifications of part 1, one per channel and algorithm, with the inputs of the bare crypto
 * floor each one needs (the same message, signature and key, for one WebCrypto call or two).
 */
export function buildMicroCases({ keys, merchantId, rsaMerchantId, now = Date.now() }) {
  const wx = keys.wechatpay
  const cases = []

  for (const signType of ['MD5', 'HMAC-SHA256']) {
    const built = buildNotification({ channel: 'wechatpay.v2', event: 'payment', keys, merchantId, now, v2SignType: signType })
    const fields = flatXmlFields(built.body)
    const message = `${Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&')}&key=${wx.apiV2Key}`
    const expected =
      signType === 'MD5'
        ? createHash('md5').update(message, 'utf8').digest('hex').toUpperCase()
        : createHmac('sha256', wx.apiV2Key).update(message, 'utf8').digest('hex').toUpperCase()
    if (expected !== fields.sign) throw new Error(`v2 ${signType} floor message does not reproduce the sign`)
    cases.push({
      id: `wechatpay.v2 ${signType}`,
      channel: 'wechatpay.v2',
      merchantId,
      headers: built.headers,
      body: b64(built.body),
      now,
      floor:
        signType === 'MD5'
          ? { parts: ['md5'], md5: { message: b64(message) } }
          : { parts: ['hmac'], hmac: { key: b64(wx.apiV2Key), message: b64(message) } },
    })
  }

  {
    const built = buildNotification({ channel: 'wechatpay.v3', event: 'payment', keys, merchantId, now })
    const header = (name) => Object.entries(built.headers).find(([k]) => k.toLowerCase() === name)[1]
    const envelope = JSON.parse(built.body)
    cases.push({
      id: 'wechatpay.v3 RSA + AES-GCM',
      channel: 'wechatpay.v3',
      merchantId,
      headers: built.headers,
      body: b64(built.body),
      now: Number(header('wechatpay-timestamp')) * 1000,
      floor: {
        parts: ['rsa', 'aesGcm'],
        rsa: {
          hash: 'SHA-256',
          spkiPem: wx.publicKeyMode.publicKeyPem,
          signature: header('wechatpay-signature'),
          message: b64(`${header('wechatpay-timestamp')}\n${header('wechatpay-nonce')}\n${built.body}\n`),
        },
        aesGcm: {
          key: b64(wx.apiV3Key),
          iv: b64(envelope.resource.nonce),
          aad: b64(envelope.resource.associated_data),
          sealed: envelope.resource.ciphertext,
        },
      },
    })
  }

  for (const signType of ['RSA2', 'RSA']) {
    const rsa2 = buildNotification({ channel: 'alipay', event: 'payment', keys, merchantId, now })
    const params = Object.fromEntries(new URLSearchParams(rsa2.body))
    let body = rsa2.body
    if (signType === 'RSA') {
      delete params.sign
      delete params.sign_type
      const built = buildAlipayNotify(params, { privateKeyPem: keys.alipay.alipayKey.privateKeyPem, signType: 'RSA' })
      Object.assign(params, built.params)
      body = built.body.toString('ascii')
    }
    cases.push({
      id: `alipay ${signType}`,
      channel: 'alipay',
      merchantId: signType === 'RSA2' ? merchantId : rsaMerchantId,
      headers: rsa2.headers,
      body: b64(body),
      now,
      floor: {
        parts: ['rsa'],
        rsa: {
          hash: signType === 'RSA2' ? 'SHA-256' : 'SHA-1',
          spkiPem: keys.alipay.alipayKey.publicKeyPem,
          signature: params.sign,
          message: b64(alipaySignContent(params)),
        },
      },
    })
  }
  return cases
}

/** `<xml><k>v</k>…</xml>` (CDATA or not) → `{ k: v }`: enough for the flat XML our own signer wrote. */
function flatXmlFields(xml) {
  const fields = {}
  for (const m of xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) {
    if (m[1] !== 'xml') fields[m[1]] = m[2] ?? m[3]
  }
  return fields
}

function b64(text) {
  return Buffer.from(text, 'utf8').toString('base64')
}
