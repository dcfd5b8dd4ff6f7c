/**
 * @module Alipay `alipay.trade.query` (OpenAPI 2.0 `gateway.do`): a form POST signed with the app
 * private key (every parameter but `sign`, `sign_type` included), the JSON answer's `sign` checked
 * with Alipay's public key over the exact response text before its `trade_status` is trusted
 * (protocols.md §5.3).
 * @see https://opendocs.alipay.com/open/02e7gm (alipay.trade.query)
 */
import { fromUtf8, readPem, toBase64, utf8 } from '../../crypto/encoding'
import { definedOnly, idsOf } from '../core/config-fields'
import { rsaSign } from '../../crypto/primitives'
import {
  asQuery,
  defineQueryClient,
  exchange,
  queryNotification,
  safeCode,
  signedWithMerchantKey,
  type ProviderAnswer,
} from '../core/query-exchange'
import { QueryFailed, type QueryOptions, type QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { BEIJING_OFFSET_MS } from '../core/time'
import { ALIPAY_GATEWAY_URL, type AlipayConfig } from './config'
import { alipayCloseEffect, alipayPaymentEffect, HASH_BY_SIGN_TYPE } from './notify'
import { alipaySignContent } from './sign-content'
import { MalformedAlipayResponse, readAlipayResponse, verifyAlipayResponseSign, type AlipaySignedResponse } from './response'
import { alipayVerificationKeys, verifiesUnderAny, type AlipayVerificationKey } from './verification-keys'

const METHOD = 'alipay.trade.query'
const RESPONSE_KEY = 'alipay_trade_query_response'
const SUCCESS_CODE = '10000'
/** "Business failed", with `sub_code` saying why. */
const BUSINESS_FAILED_CODE = '40004'
/** Normal before the buyer opens the cashier or scans the QR code: Alipay creates the trade only then. */
const TRADE_NOT_EXIST = 'ACQ.TRADE_NOT_EXIST'

/** `yyyy-MM-dd HH:mm:ss` in Beijing time (the Java SDK formats in GMT+8; Workers run in UTC). */
export function alipayTimestamp(now: number): string {
  const beijing = new Date(now + BEIJING_OFFSET_MS).toISOString()
  return `${beijing.slice(0, 10)} ${beijing.slice(11, 19)}`
}

/**
 * The request sign content: every parameter but `sign`, empty values skipped, sorted, `k=v` joined by
 * `&`, raw values. The notify rule that keeps `sign_type` ("v2") is exactly this one.
 */
export function alipayRequestSignContent(params: Readonly<Record<string, string>>): Uint8Array<ArrayBuffer> {
  return alipaySignContent(new Map(Object.entries(params).map(([name, value]) => [name, utf8(value)])), 'v2')
}

/**
 * The parameters of an OpenAPI request for `method` with `bizContent`, `sign` included. `app_id` is the first
 * app the merchant lists; an ISV adds the merchant's `app_auth_token`, certificate mode `app_cert_sn` and
 * `alipay_root_cert_sn`. All are signed.
 */
export async function alipayRequestParams(
  config: AlipayConfig & { appPrivateKey: string },
  method: string,
  bizContent: Record<string, unknown>,
  now: number,
): Promise<Record<string, string>> {
  const { certificates } = config
  const params: Record<string, string> = {
    app_id: idsOf(config.appId)[0]!,
    method,
    format: 'JSON',
    charset: 'utf-8',
    sign_type: config.signType,
    timestamp: alipayTimestamp(now),
    version: '1.0',
    // Third-party (ISV) apps query on the merchant's authority; certificate mode names both certificates.
    ...definedOnly({
      app_auth_token: config.appAuthToken,
      app_cert_sn: certificates?.appCert?.sn,
      alipay_root_cert_sn: certificates?.alipayRootCert?.sn,
    }),
    biz_content: JSON.stringify(bizContent),
  }
  const { label, der } = readPem(config.appPrivateKey)
  if (label !== 'PRIVATE KEY') throw new RangeError('app private key is not PKCS#8 PEM')
  const signature = await rsaSign(der, HASH_BY_SIGN_TYPE[config.signType], alipayRequestSignContent(params))
  return { ...params, sign: toBase64(signature) }
}

/** The request's parameters, `sign` included. */
export function alipayQueryParams(config: AlipayConfig & { appPrivateKey: string }, outTradeNo: string, now: number) {
  return alipayRequestParams(config, METHOD, { out_trade_no: outTradeNo }, now)
}

/** The keys signed OpenAPI requests need, or null for a merchant without an app private key. */
export function alipayQueryConfig(alipay: AlipayConfig | undefined): (AlipayConfig & { appPrivateKey: string }) | null {
  if (alipay === undefined || !alipay.appPrivateKey) return null
  return { ...alipay, appPrivateKey: alipay.appPrivateKey }
}

export const alipayQuery = defineQueryClient({
  channel: 'alipay',
  provider: 'alipay',
  configOf: alipayQueryConfig,
  missingKeys: 'Alipay query needs appPrivateKey',
  async query(config, outTradeNo, options) {
    const params = await signedWithMerchantKey(() => alipayQueryParams(config, outTradeNo, options.now), 'app private key')
    const answer = await postToGateway(config, params, options)
    const response = await verifiedAlipayAnswer(answer, config, RESPONSE_KEY)
    return asQuery(() => outcomeOf(response, outTradeNo, answer.status), answer.status)
  },
})

/** POSTs signed parameters to the merchant's OpenAPI gateway; the answer as received, unverified. */
export function postToGateway(config: AlipayConfig, params: Record<string, string>, options: QueryOptions): Promise<ProviderAnswer> {
  return exchange(
    new URL(config.gatewayUrl ?? ALIPAY_GATEWAY_URL),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
    },
    options,
  )
}

/**
 * The answer under `responseKey` (or `error_response`), its `sign` checked. Every success answer must be
 * signed. An error answer is checked when it carries a `sign` (as the Java SDK does); Alipay leaves some
 * unsigned, such as the one refusing our request's signature. Throws `QueryFailed`.
 */
export async function verifiedAlipayAnswer(
  answer: ProviderAnswer,
  config: AlipayConfig,
  responseKey: string,
): Promise<AlipaySignedResponse> {
  const { status } = answer
  if (status !== 200) throw new QueryFailed('http_error', `Alipay answered HTTP ${status}`, status)
  let response: AlipaySignedResponse
  try {
    response = readAlipayResponse(fromUtf8(answer.body), responseKey)
  } catch (error) {
    const message = error instanceof MalformedAlipayResponse ? error.message : 'answer is not valid UTF-8'
    throw new QueryFailed('malformed_response', message, status)
  }
  const code = safeCode(response.fields.code)
  if (response.sign === null) {
    if (code === SUCCESS_CODE || code === null) {
      throw new QueryFailed('unsigned_response', 'Alipay answer has no sign', status)
    }
  } else {
    const keys = answerKeys(response, await asQuery(() => alipayVerificationKeys(config), status), status)
    const { content, sign } = response
    const valid = await asQuery(
      () => verifiesUnderAny(keys, (spki) => verifyAlipayResponseSign(content, sign, spki, config.signType)),
      status,
    )
    if (!valid) throw new QueryFailed('signature_invalid', 'Alipay answer sign does not verify', status)
  }
  return response
}

/**
 * The keys an answer is checked with. Certificate mode: a signed answer names the Alipay certificate whose key
 * signed it (`alipay_cert_sn`), and only that one of the configured certificates is tried (as the SDKs compare it
 * with their one certificate); one naming none of them is refused. An answer naming none, and every answer in
 * public-key mode, is tried with each configured key.
 */
function answerKeys(response: AlipaySignedResponse, keys: AlipayVerificationKey[], status: number): AlipayVerificationKey[] {
  const named = response.alipayCertSn
  if (named === null || keys.every((key) => key.sn === null)) return keys
  const signer = keys.filter((key) => key.sn === named)
  if (signer.length === 0) {
    throw new QueryFailed('signature_invalid', 'Alipay answer comes from another certificate (alipay_cert_sn)', status)
  }
  return signer
}

/** The one mapping of `alipay.trade.query` answers (`code`, `sub_code`, `trade_status`) to query results. */
function outcomeOf(response: AlipaySignedResponse, outTradeNo: string, status: number): QueryResult {
  const { fields: answer } = response
  const code = safeCode(answer.code) ?? 'unknown'
  if (code !== SUCCESS_CODE) {
    const subCode = safeCode(answer.sub_code)
    if (code === BUSINESS_FAILED_CODE && subCode === TRADE_NOT_EXIST) {
      return { kind: 'not_paid', providerStatus: subCode }
    }
    const reason = subCode === null ? code : `${code} ${subCode}`
    throw new QueryFailed('provider_error', `Alipay answered code ${reason}`, status)
  }
  if (response.key !== RESPONSE_KEY) refuse('malformed_body', 'success answer outside alipay_trade_query_response')
  // Scalars as the text Alipay sent; lists (fund_bill_list) stay in `raw` only.
  const fields = new Map(Object.entries(answer).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as const] : [])))
  if (fields.get('out_trade_no') !== outTradeNo) refuse('malformed_body', 'answer is about another order')
  const tradeStatus = fields.get('trade_status') ?? ''
  const notification = <Effect extends Parameters<typeof queryNotification>[3]>(effect: Effect) =>
    queryNotification('alipay', 'alipay', outTradeNo, effect, answer)
  switch (tradeStatus) {
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED':
      return { kind: 'paid', notification: notification(alipayPaymentEffect(fields, 'send_pay_date')) }
    // Closed after a full refund, or unpaid and timed out; only a paid trade has a payment date.
    case 'TRADE_CLOSED':
      return fields.get('send_pay_date')
        ? { kind: 'refunded', notification: notification(alipayPaymentEffect(fields, 'send_pay_date')) }
        : { kind: 'closed', notification: notification(alipayCloseEffect(fields)) }
    case 'WAIT_BUYER_PAY':
      return { kind: 'not_paid', providerStatus: tradeStatus }
    default:
      return refuse('unsupported_event', 'unknown alipay trade_status')
  }
}
