/**
 * @module WeChat Pay APIv2 payment notifications signed with the fixtures' APIv2 key (MD5: the sorted `k=v&…&key=`),
 * posted to a real `wrangler dev` as WeChat would, and the merchant section that verifies them.
 */
import { createHash, randomBytes } from 'node:crypto'
import keys from '../fixtures/keys.json'

/** The merchant's WeChat Pay section for the fixtures' APIv2 key (v2 notifications only). */
export function wechatpayV2Section() {
  return { appid: keys.wechatpay.appid, mchid: keys.wechatpay.mchid, apiV2Key: keys.wechatpay.apiV2Key, v2SignType: 'MD5' }
}

/** A paid order's `SUCCESS` notify of `amount` fen, as XML. */
export function wechatpayV2PaymentBody(outTradeNo: string, amount: number): string {
  const fields: Record<string, string> = {
    appid: keys.wechatpay.appid,
    bank_type: 'OTHERS',
    cash_fee: String(amount),
    fee_type: 'CNY',
    is_subscribe: 'N',
    mch_id: keys.wechatpay.mchid,
    nonce_str: randomBytes(8).toString('hex'),
    openid: 'oPaygateTestOpenid0000000001',
    out_trade_no: outTradeNo,
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20261130095958',
    total_fee: String(amount),
    trade_type: 'JSAPI',
    transaction_id: `42000${randomBytes(8).toString('hex')}`,
  }
  const content = `${Object.keys(fields)
    .sort()
    .map((name) => `${name}=${fields[name]}`)
    .join('&')}&key=${keys.wechatpay.apiV2Key}`
  const sign = createHash('md5').update(content, 'utf8').digest('hex').toUpperCase()
  const xml = Object.entries({ ...fields, sign }).map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`)
  return `<xml>${xml.join('')}</xml>`
}

/** Posts a v2 notify to the merchant's URL; resolves to the gateway's reply text (`<xml><return_code>SUCCESS…`). */
export async function postWechatpayV2(gatewayUrl: string, merchantId: string, body: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/notify/${merchantId}/wechatpay/v2`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body,
  })
  return response.text()
}
