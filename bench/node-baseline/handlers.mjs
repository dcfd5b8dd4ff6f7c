// The notify handlers a user would write without paygate (issue #7, part 3b), one per channel, as plain
// functions of the body so that part 1 can time their verification alone and server.mjs can serve them:
//   Alipay: the official SDK (`alipay-sdk` checkNotifySignV2) over the form fields.
//   WeChat Pay APIv3: node:crypto SHA256withRSA over `timestamp\nnonce\nbody\n`, AES-256-GCM `resource`.
//   WeChat Pay APIv2: XML read with fast-xml-parser, MD5 or HMAC-SHA256 over the sorted fields.
// Each checks what a careful handler checks (signature, v3 timestamp, app/merchant ids, status), then calls
// `store(id, channel, outTradeNo, amount, body)` (the idempotency insert) and returns the provider's reply.
import { createDecipheriv, createHash, createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto'
import { AlipaySdk } from 'alipay-sdk'
import { XMLParser } from 'fast-xml-parser'

export class Rejected extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

const V2_ACK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'

/**
 * `merchant` is the `PUT /admin/merchants/{id}` body paygate gets, plus `appPrivateKeyPem` (the Alipay SDK wants
 * an app private key even to verify notifies). Returns `{ alipay, 'wechatpay/v3', 'wechatpay/v2' }` handlers.
 */
export function makeHandlers(merchant, appPrivateKeyPem, store, { now = Date.now } = {}) {
  const wx = merchant.wechatpay
  const ali = merchant.alipay
  // A merchant may list several apps (the demo merchant does); each id is one of them.
  const wxAppids = [wx.appid].flat()
  const aliAppIds = [ali.appId].flat()
  const alipaySdk = new AlipaySdk({
    appId: aliAppIds[0],
    privateKey: appPrivateKeyPem,
    keyType: 'PKCS8',
    alipayPublicKey: ali.alipayPublicKey,
    signType: ali.signType,
  })
  const platformKeys = new Map(Object.entries(wx.platformPublicKeys).map(([serial, pem]) => [serial, createPublicKey(pem)]))
  // Values as strings (a number parsed from "0100" would break the sign); CDATA is merged into the value.
  const v2Parser = new XMLParser({ parseTagValue: false })

  function alipay(body) {
    const params = Object.fromEntries(new URLSearchParams(body))
    if (!alipaySdk.checkNotifySignV2(params)) throw new Rejected(401, 'bad sign')
    if (!aliAppIds.includes(params.app_id) || params.seller_id !== ali.sellerId) throw new Rejected(403, 'not ours')
    if (params.trade_status !== 'TRADE_SUCCESS' && params.trade_status !== 'TRADE_FINISHED') throw new Rejected(400, 'status')
    store(params.notify_id, 'alipay', params.out_trade_no, Math.round(Number(params.total_amount) * 100), body)
    return { status: 200, body: 'success', type: 'text/plain' }
  }

  function wechatV3(body, headers) {
    const timestamp = headers['wechatpay-timestamp']
    const nonce = headers['wechatpay-nonce']
    const signature = headers['wechatpay-signature']
    const key = platformKeys.get(headers['wechatpay-serial'])
    if (!key || !timestamp || !nonce || !signature) throw new Rejected(401, 'unsigned')
    if (Math.abs(now() / 1000 - Number(timestamp)) > 300) throw new Rejected(401, 'stale')
    if (!verify('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), key, Buffer.from(signature, 'base64')))
      throw new Rejected(401, 'bad signature')
    const envelope = JSON.parse(body)
    const { ciphertext, nonce: iv, associated_data: aad } = envelope.resource
    const sealed = Buffer.from(ciphertext, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', wx.apiV3Key, iv)
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    decipher.setAAD(Buffer.from(aad))
    const resource = JSON.parse(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8'))
    if (resource.mchid !== wx.mchid || !wxAppids.includes(resource.appid)) throw new Rejected(403, 'not ours')
    if (envelope.event_type !== 'TRANSACTION.SUCCESS' || resource.trade_state !== 'SUCCESS') throw new Rejected(400, 'status')
    store(envelope.id, 'wechatpay.v3', resource.out_trade_no, resource.amount.total, body)
    return { status: 204, body: '', type: 'text/plain' }
  }

  function wechatV2(body) {
    const fields = v2Parser.parse(body).xml ?? {}
    const sign = String(fields.sign ?? '')
    const content = `${Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&')}&key=${wx.apiV2Key}`
    const expected =
      (fields.sign_type ?? (sign.length === 64 ? 'HMAC-SHA256' : 'MD5')) === 'HMAC-SHA256'
        ? createHmac('sha256', wx.apiV2Key).update(content).digest('hex').toUpperCase()
        : createHash('md5').update(content).digest('hex').toUpperCase()
    if (sign.length !== expected.length || !timingSafeEqual(Buffer.from(sign), Buffer.from(expected))) throw new Rejected(401, 'bad sign')
    if (!wxAppids.includes(fields.appid) || fields.mch_id !== wx.mchid) throw new Rejected(403, 'not ours')
    if (fields.return_code !== 'SUCCESS' || fields.result_code !== 'SUCCESS') throw new Rejected(400, 'status')
    store(`v2:${fields.transaction_id}`, 'wechatpay.v2', fields.out_trade_no, Number(fields.total_fee), body)
    return { status: 200, body: V2_ACK, type: 'text/xml' }
  }

  return { alipay, 'wechatpay/v3': wechatV3, 'wechatpay/v2': wechatV2 }
}
