/**
 * @module WeChat Pay APIv2 order query, `POST /pay/orderquery`: an XML request signed with the APIv2
 * key (HMAC-SHA256 when the merchant allows it, else MD5), the XML answer's `sign` checked with the
 * same code and sign type as notifies before `trade_state` is trusted (protocols.md §5.1, §1.3).
 */
import { fromUtf8, toHex } from '../../crypto/encoding'
import { randomBytes } from '../../crypto/primitives'
import { idsOf } from '../core/config-fields'
import { asQuery, defineQueryClient, exchange, safeCode, type ProviderAnswer } from '../core/query-exchange'
import { QueryFailed, type QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type V2SignType, type WechatpayConfig } from './config'
import { wechatpayTradeStateOutcome } from './trade-state'
import { checkV2Identity } from './identity'
import { v2PaymentEffect } from './v2-payment'
import { signedFields, v2Sign, v2SignString, verifyV2Signature } from './v2-sign'
import { buildXmlReply, readFlatXml, type XmlFields } from './xml'

export interface V2QueryConfig {
  wechatpay: WechatpayConfig
  apiV2Key: string
  signType: V2SignType
}

/** The APIv2 key and the sign type v2 API calls use, or null for a merchant without the key. */
export function v2QueryConfig(wechatpay: WechatpayConfig | undefined): V2QueryConfig | null {
  if (wechatpay === undefined || !wechatpay.apiV2Key || wechatpay.v2SignTypes.length === 0) return null
  // The answer is signed with the request's sign type: the stronger one the merchant allows.
  const signType: V2SignType = wechatpay.v2SignTypes.includes('HMAC-SHA256') ? 'HMAC-SHA256' : 'MD5'
  return { wechatpay, apiV2Key: wechatpay.apiV2Key, signType }
}

/**
 * The signed request fields; `sign_type` is sent (and signed) so WeChat does not assume MD5. `appid` is the first
 * app the merchant lists (any app of the mchid finds its orders); a sub-merchant's query names its `sub_mch_id`.
 */
export async function v2OrderQueryFields(
  wechatpay: WechatpayConfig,
  apiV2Key: string,
  signType: V2SignType,
  outTradeNo: string,
  nonce: string,
): Promise<Record<string, string>> {
  const fields = {
    appid: idsOf(wechatpay.appid)[0]!,
    mch_id: wechatpay.mchid,
    ...(wechatpay.subMchid === undefined ? {} : { sub_mch_id: wechatpay.subMchid }),
    out_trade_no: outTradeNo,
    nonce_str: nonce,
    sign_type: signType,
  }
  return { ...fields, sign: await v2Sign(v2SignString(fields), apiV2Key, signType) }
}

export const wechatpayV2Query = defineQueryClient({
  channel: 'wechatpay.v2',
  provider: 'wechatpay',
  configOf: v2QueryConfig,
  missingKeys: 'WeChat Pay APIv2 query needs apiV2Key',
  async query(config, outTradeNo, options) {
    const nonce = toHex(randomBytes(16))
    const fields = await v2OrderQueryFields(config.wechatpay, config.apiV2Key, config.signType, outTradeNo, nonce)
    const url = new URL(`${config.wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL}/pay/orderquery`)
    const answer = await exchange(
      url,
      { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: buildXmlReply(fields) },
      options,
    )
    return readAnswer(answer, config, outTradeNo)
  },
})

async function readAnswer(answer: ProviderAnswer, config: V2QueryConfig, outTradeNo: string): Promise<QueryResult> {
  const signed = await verifiedV2Answer(answer, config)
  return asQuery(() => outcomeOf(signed, outTradeNo, answer.status), answer.status)
}

/**
 * A v2 API answer (XML, `return_code=SUCCESS`) whose `sign` verifies with the APIv2 key and the request's
 * sign type, and whose appid/mch_id are the merchant's: its signed fields. Throws `QueryFailed`.
 */
export async function verifiedV2Answer(answer: ProviderAnswer, config: V2QueryConfig): Promise<XmlFields> {
  const { status } = answer
  if (status !== 200) throw new QueryFailed('http_error', `WeChat Pay answered HTTP ${status}`, status)
  let text: string
  try {
    text = fromUtf8(answer.body)
  } catch {
    throw new QueryFailed('malformed_response', 'answer is not valid UTF-8', status)
  }
  const fields = await asQuery(() => readFlatXml(text, 'xml'), status)
  switch (fields.return_code) {
    case 'SUCCESS':
      break
    // Unsigned by design (e.g. our request's sign was refused); it says nothing about the order.
    case 'FAIL':
      throw new QueryFailed('provider_error', `WeChat Pay refused the query: ${printable(fields.return_msg)}`, status)
    default:
      throw new QueryFailed('malformed_response', 'return_code must be SUCCESS or FAIL', status)
  }
  return asQuery(async () => {
    await verifyV2Signature(fields, config.apiV2Key, [config.signType])
    const signed = signedFields(fields)
    checkV2Identity(signed, config.wechatpay, true)
    return signed
  }, status)
}

/** WeChat's `return_msg` ("签名错误", "mch_id参数格式错误") helps whoever reads the log: short, one line. */
function printable(text: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return (text ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 64)
}

/** The one mapping of v2 `result_code` / `trade_state` to query results. */
function outcomeOf(fields: XmlFields, outTradeNo: string, status: number): QueryResult {
  if (fields.result_code === 'FAIL') {
    const code = safeCode(fields.err_code) ?? 'unknown'
    if (code === 'ORDERNOTEXIST') return { kind: 'not_paid', providerStatus: code }
    throw new QueryFailed('provider_error', `WeChat Pay answered err_code ${code}`, status)
  }
  if (fields.result_code !== 'SUCCESS') refuse('malformed_body', 'result_code must be SUCCESS or FAIL')
  if (fields.out_trade_no !== outTradeNo) refuse('malformed_body', 'answer is about another order')
  return wechatpayTradeStateOutcome({
    channel: 'wechatpay.v2',
    outTradeNo,
    tradeState: fields.trade_state ?? '',
    transactionId: fields.transaction_id || null,
    raw: { ...fields },
    payment: () => v2PaymentEffect(fields),
  })
}
