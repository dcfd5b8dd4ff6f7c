/**
 * @module Live-signed provider notifications for the security tests, made with node:crypto and the
 * throwaway keys in test/fixtures/keys.json, never with paygate's own code. The fixtures under
 * test/fixtures are signed once for fixed orders; these helpers sign fresh orders (and, for WeChat
 * Pay v3, the current clock) the same way: the formats are those of test/fixtures/signers/*.mjs,
 * which cannot be imported inside workerd themselves (alipay-sdk pulls in undici).
 */
import { createCipheriv, createHash, createHmac, createSign, randomBytes } from 'node:crypto'
import keys from '../fixtures/keys.json'

export type V2SignType = 'MD5' | 'HMAC-SHA256'

export interface WechatIdentity {
  appid: string
  mchid: string
  apiV2Key: string
  apiV3Key: string
}

export const SEC_WECHAT: WechatIdentity = {
  appid: keys.wechatpay.appid,
  mchid: keys.wechatpay.mchid,
  apiV2Key: keys.wechatpay.apiV2Key,
  apiV3Key: keys.wechatpay.apiV3Key,
}

export interface AlipayIdentity {
  appId: string
  sellerId: string
}

export const SEC_ALIPAY: AlipayIdentity = { appId: keys.alipay.appId, sellerId: keys.alipay.sellerId }

/** Ten digits derived from `seed` (FNV-1a), so every seed gets ids of its own. */
function digitsOf(seed: string): string {
  let hash = 0x811c9dc5
  for (const char of seed) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0
  return String(hash).padStart(10, '0')
}

/**
 * Provider ids of its own for the merchant `seed` (its id): no two merchants may claim one provider identity
 * (src/merchants/identities.ts), so merchants in one test file that do not post the committed fixtures (signed
 * for the fixture ids) each take these. The keys stay the fixtures': the rule is about ids, not keys.
 */
export function ownIds(seed: string): { wechat: WechatIdentity; alipay: AlipayIdentity } {
  const digits = digitsOf(seed)
  return {
    wechat: { ...SEC_WECHAT, appid: `wx${digits}000000`, mchid: `19${digits.slice(2)}` },
    alipay: { appId: `2021${digits}00`, sellerId: `2088${digits}00` },
  }
}

/** A notification as the provider POSTs it. */
export interface SignedNotify {
  body: string
  headers: Record<string, string>
  /** The signature it carries, to check that it never shows up in logs, replies or stored rows. */
  signature: string
}

let sequence = 0
function unique(): string {
  sequence += 1
  return `${Date.now().toString(36)}${sequence.toString(36)}${randomBytes(3).toString('hex')}`
}

/** A fresh order number no other test uses. */
export function freshOrderNo(prefix: string): string {
  return `${prefix}-${unique()}`
}

// --- WeChat Pay APIv2 ---------------------------------------------------------------------------

/** Uppercase hex sign over the sorted non-empty fields but `sign`, then `&key=` (WeChat's APIv2 rule). */
export function signV2(fields: Record<string, string>, apiV2Key: string, signType: V2SignType): string {
  const text = `${Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name] !== '')
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&')}&key=${apiV2Key}`
  const digest = signType === 'MD5' ? createHash('md5').update(text, 'utf8') : createHmac('sha256', apiV2Key).update(text, 'utf8')
  return digest.digest('hex').toUpperCase()
}

export function v2Xml(fields: Record<string, string>): string {
  return `<xml>${Object.entries(fields)
    .map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`)
    .join('')}</xml>`
}

/** Partner mode (服务商): the sub-merchant a payment is for; `identity` is then the service provider's. */
export interface SubMerchant {
  subMchid: string
  subAppid?: string
}

export interface V2PaymentOptions {
  outTradeNo: string
  amount: number
  signType?: V2SignType
  identity?: WechatIdentity
  /** Another of the merchant's apps than `identity.appid`. */
  appid?: string
  partner?: SubMerchant
}

export function v2PaymentFields({
  outTradeNo,
  amount,
  signType = 'MD5',
  identity = SEC_WECHAT,
  appid,
  partner,
}: V2PaymentOptions): Record<string, string> {
  const subMerchant =
    partner === undefined ? {} : { sub_mch_id: partner.subMchid, ...(partner.subAppid ? { sub_appid: partner.subAppid } : {}) }
  return {
    ...subMerchant,
    appid: identity.appid,
    bank_type: 'OTHERS',
    cash_fee: String(amount),
    fee_type: 'CNY',
    is_subscribe: 'N',
    mch_id: identity.mchid,
    nonce_str: randomBytes(16).toString('hex').toUpperCase(),
    openid: 'oPaygateSecurityOpenid00000001',
    out_trade_no: outTradeNo,
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    sign_type: signType,
    time_end: '20251124235958',
    total_fee: String(amount),
    trade_type: 'JSAPI',
    transaction_id: `4200${unique()}`,
    ...(appid === undefined ? {} : { appid }),
  }
}

/** A signed v2 payment notify; `fields` lets a test tamper after building, then sign with `signFields`. */
export function v2Payment(options: V2PaymentOptions): SignedNotify {
  const identity = options.identity ?? SEC_WECHAT
  const fields = v2PaymentFields(options)
  const sign = signV2(fields, identity.apiV2Key, options.signType ?? 'MD5')
  return { body: v2Xml({ ...fields, sign }), headers: { 'content-type': 'text/xml' }, signature: sign }
}

// --- WeChat Pay APIv3 ---------------------------------------------------------------------------

export type V3Signer = 'platformCertA' | 'platformCertB' | 'platformCertC' | 'publicKeyMode' | 'stranger'

function v3SigningKey(signer: V3Signer): { serial: string; privateKeyPem: string } {
  switch (signer) {
    case 'platformCertA':
      return { serial: keys.wechatpay.platformCertA.serial, privateKeyPem: keys.wechatpay.platformCertA.privateKeyPem }
    case 'platformCertB':
      return { serial: keys.wechatpay.platformCertB.serial, privateKeyPem: keys.wechatpay.platformCertB.privateKeyPem }
    case 'platformCertC':
      return { serial: keys.wechatpay.platformCertC.serial, privateKeyPem: keys.wechatpay.platformCertC.privateKeyPem }
    case 'publicKeyMode':
      return { serial: keys.wechatpay.publicKeyMode.id, privateKeyPem: keys.wechatpay.publicKeyMode.privateKeyPem }
    case 'stranger':
      // Claims certificate A's serial, signs with a key WeChat never had.
      return { serial: keys.wechatpay.platformCertA.serial, privateKeyPem: keys.stranger.privateKeyPem }
  }
}

/** AEAD_AES_256_GCM under the APIv3 key: IV = the nonce's bytes, tag appended, base64. */
export function encryptV3Resource(plaintext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'))
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64')
}

/** Base64 SHA256withRSA over `timestamp\nnonce\nbody\n`. */
export function signV3(timestamp: string, nonce: string, body: string, privateKeyPem: string): string {
  return createSign('RSA-SHA256').update(`${timestamp}\n${nonce}\n${body}\n`, 'utf8').sign(privateKeyPem, 'base64')
}

export interface V3NotifyOptions {
  /** The key the resource is encrypted under (AEAD_AES_256_GCM). */
  apiV3Key: string
  signer?: V3Signer
  /** The clock the timestamp is taken from (ms); default now. */
  at?: number
  /** Notification id (the dedupe key); default a fresh one. */
  id?: string
}

export interface V3PaymentOptions extends Omit<V3NotifyOptions, 'apiV3Key'> {
  outTradeNo: string
  amount: number
  identity?: WechatIdentity
  /** Another of the merchant's apps than `identity.appid`. */
  appid?: string
  /** Partner mode: the resource names `sp_mchid`/`sp_appid` (from `identity`) and this sub-merchant. */
  partner?: SubMerchant
}

/** Headers of a v3 message (notification or API answer) signed now with `signer`'s key. */
export function v3SignedHeaders(body: string, signer: V3Signer, at = Date.now()): Record<string, string> {
  const { serial, privateKeyPem } = v3SigningKey(signer)
  const timestamp = String(Math.floor(at / 1000))
  const nonce = randomBytes(16).toString('hex').toUpperCase()
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signV3(timestamp, nonce, body, privateKeyPem),
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
  }
}

export function v3Payment({
  outTradeNo,
  amount,
  at = Date.now(),
  signer = 'platformCertA',
  identity = SEC_WECHAT,
  id,
  appid = identity.appid,
  partner,
}: V3PaymentOptions): SignedNotify {
  const who =
    partner === undefined
      ? { appid, mchid: identity.mchid }
      : {
          sp_appid: appid,
          sp_mchid: identity.mchid,
          ...(partner.subAppid ? { sub_appid: partner.subAppid } : {}),
          sub_mchid: partner.subMchid,
        }
  const resource = v3SuccessTransaction(who, outTradeNo, amount, `4200${unique()}`)
  return v3TransactionNotify(resource, { apiV3Key: identity.apiV3Key, signer, at, id })
}

/**
 * A paid transaction as WeChat Pay v3 describes it (a TRANSACTION.SUCCESS resource, an order query's answer), of the
 * merchant `who` names (`appid`/`mchid`, or the partner ids).
 */
export function v3SuccessTransaction(who: Record<string, string | undefined>, outTradeNo: string, amount: number, transactionId: string) {
  return {
    ...who,
    out_trade_no: outTradeNo,
    transaction_id: transactionId,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2025-11-24T23:59:58+08:00',
    payer: { openid: 'oPaygateSecurityOpenid00000001' },
    amount: { total: amount, payer_total: amount, currency: 'CNY', payer_currency: 'CNY' },
  }
}

/**
 * A v3 TRANSACTION.SUCCESS notification carrying `resource` (a transaction, or a combined transaction), encrypted
 * under the APIv3 key and signed with `signer`'s key.
 */
export function v3TransactionNotify(
  resource: Record<string, unknown>,
  { apiV3Key, signer = 'platformCertA', at = Date.now(), id = `EV-${unique()}` }: V3NotifyOptions,
): SignedNotify {
  const resourceNonce = randomBytes(6).toString('hex')
  const body = JSON.stringify({
    id,
    create_time: '2025-11-25T00:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: {
      original_type: 'transaction',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptV3Resource(JSON.stringify(resource), apiV3Key, resourceNonce, 'transaction'),
      associated_data: 'transaction',
      nonce: resourceNonce,
    },
  })
  const headers = v3SignedHeaders(body, signer, at)
  return { body, headers: { 'content-type': 'application/json', ...headers }, signature: headers['Wechatpay-Signature']! }
}

// --- Alipay ---------------------------------------------------------------------------------------

/** Alipay's RSA2 sign content: sorted, without `sign` and `sign_type`, empty values skipped. */
export function alipaySignContent(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((name) => name !== 'sign' && name !== 'sign_type' && params[name] !== '')
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&')
}

export interface AlipayPaymentOptions {
  outTradeNo: string
  /** In fen; sent as yuan. */
  amount: number
  identity?: AlipayIdentity
  privateKeyPem?: string
  /** A third-party (ISV) notify: the merchant app that authorized `identity.appId`. */
  authAppId?: string
}

export function alipayPaymentParams({
  outTradeNo,
  amount,
  identity = SEC_ALIPAY,
  authAppId,
}: AlipayPaymentOptions): Record<string, string> {
  return {
    ...(authAppId === undefined ? {} : { auth_app_id: authAppId }),
    gmt_create: '2026-11-22 17:59:40',
    charset: 'utf-8',
    notify_id: `2026112200222${unique()}`,
    notify_type: 'trade_status_sync',
    trade_status: 'TRADE_SUCCESS',
    app_id: identity.appId,
    seller_id: identity.sellerId,
    out_trade_no: outTradeNo,
    total_amount: (amount / 100).toFixed(2),
    trade_no: `2026112222001${unique()}`,
    gmt_payment: '2026-11-22 17:59:58',
    notify_time: '2026-11-22 17:59:59',
    version: '1.0',
    sign_type: 'RSA2',
  }
}

export function signAlipay(params: Record<string, string>, privateKeyPem = keys.alipay.alipayKey.privateKeyPem): string {
  return createSign('RSA-SHA256').update(alipaySignContent(params), 'utf8').sign(privateKeyPem, 'base64')
}

export function alipayForm(params: Record<string, string>): string {
  return new URLSearchParams(params).toString()
}

export function alipayPayment(options: AlipayPaymentOptions): SignedNotify {
  const params = alipayPaymentParams(options)
  const sign = signAlipay(params, options.privateKeyPem)
  return {
    body: alipayForm({ ...params, sign }),
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    signature: sign,
  }
}
