// The answers of the local provider stand-in (scripts/provider-standin.mjs serves them over HTTP): the order-query
// APIs paygate's clients call (direct and, for the demo sub-merchant, WeChat Pay's partner endpoints), for the orders
// `npm run simulate` paid, the three refund-query APIs for the refunds it made, and WeChat Pay's platform-certificate
// download (`GET /v3/certificates`). Like the
// real providers it checks each request's signature with the demo merchant's keys and signs its answers with the
// provider's demo keys, using the fixture signers (test/fixtures/signers/*.mjs), never paygate's own code.
// A combined payment's sub-orders are answered by WeChat's combined query
// (`GET /v3/combine-transactions/out-trade-no/{no}`), from the combine number simulate recorded of each.
// Pure apart from fresh nonces: a request and the known orders in, an answer out (test/simulate/ runs it for real).
import { randomBytes, X509Certificate } from 'node:crypto'
import { buildAlipayResponse, checkWithNodeCrypto } from '../../test/fixtures/signers/alipay.mjs'
import { buildFailMessage, checkV2Sign, fromV2Xml, SIGN_TYPES, signV2, toV2Xml } from '../../test/fixtures/signers/wechatpay-v2.mjs'
import {
  buildCertificatesAnswer,
  combinedTransactionResource,
  partnerResource,
  SIGNATURE_TYPE,
  signV3Message,
  transactionResource,
  verifyV3Request,
} from '../../test/fixtures/signers/wechatpay-v3.mjs'
import { beijingCompact, beijingDashed, DEMO_OPENID, fenToYuan, rfc3339Beijing } from './build-notification.mjs'
import { ALIPAY_GATEWAY_PATH, DEMO_PARTNER, demoApps } from './demo.mjs'
import { alipayRefundFields, findRefund, v2RefundFields, v3RefundObject } from './standin-refunds.mjs'

export { ALIPAY_GATEWAY_PATH, standinPort } from './demo.mjs'

export const V2_QUERY_PATH = '/pay/orderquery'
export const V2_REFUND_QUERY_PATH = '/pay/refundquery'
const V3_QUERY_PATH = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/
const V3_PARTNER_QUERY_PATH = /^\/v3\/pay\/partner\/transactions\/out-trade-no\/([^/]+)$/
const V3_COMBINED_QUERY_PATH = /^\/v3\/combine-transactions\/out-trade-no\/([^/]+)$/
export const V3_CERTIFICATES_PATH = '/v3/certificates'
const V3_REFUND_QUERY_PATH = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/
/** WeChat Pay refuses a request signed more than 5 minutes away from its clock. */
const V3_REQUEST_WINDOW_SECONDS = 300
const ALIPAY_METHOD = 'alipay.trade.query'
const ALIPAY_RESPONSE_KEY = 'alipay_trade_query_response'
const ALIPAY_REFUND_METHOD = 'alipay.trade.fastpay.refund.query'
const ALIPAY_REFUND_RESPONSE_KEY = 'alipay_trade_fastpay_refund_query_response'
const ALIPAY_SIGN_TYPES = ['RSA2', 'RSA']

/**
 * The orders the providers know were paid: what `npm run simulate` paid with a notification (`orders`) and what
 * it paid with `--no-notify` (`paidWithoutNotify`), from readSimulatorState(). Keyed `${provider}:${outTradeNo}`.
 */
export function knownOrders(state) {
  return new Map([...Object.entries(state.orders ?? {}), ...Object.entries(state.paidWithoutNotify ?? {})])
}

/**
 * One API request → the provider's answer.
 *
 * @param {{ method: string, url: string, headers: Record<string, string | undefined>, body: string }} request
 *   `url` is the request target as sent (path and query); header names are lowercase, as node:http gives them
 * @param {{ keys: object, orders: Map<string, object>, now: number }} context
 *   `keys`: makeKeys() shape (the demo's .demo/keys.json); `orders`: knownOrders(); `now`: epoch ms
 * @returns {{ status: number, headers: Record<string, string>, body: string, api: string, outTradeNo: string | null,
 *   outcome: string }} `api`, `outTradeNo` and `outcome` say in a few words what happened (for the log)
 */
export function answerQuery(request, context) {
  const path = request.url.split('?')[0]
  const v3 = V3_QUERY_PATH.exec(path)
  if (v3 !== null) return request.method === 'GET' ? answerV3(request, v3[1], context, v3Transaction) : notAllowed('wechatpay.v3', 'GET')
  const partner = V3_PARTNER_QUERY_PATH.exec(path)
  if (partner !== null) {
    return request.method === 'GET' ? answerV3(request, partner[1], context, v3Transaction, true) : notAllowed('wechatpay.v3', 'GET')
  }
  const combined = V3_COMBINED_QUERY_PATH.exec(path)
  if (combined !== null) {
    return request.method === 'GET'
      ? answerV3(request, combined[1], context, v3CombinedTransaction, false, 'wechatpay.v3 combined')
      : notAllowed('wechatpay.v3 combined', 'GET')
  }
  const v3Refund = V3_REFUND_QUERY_PATH.exec(path)
  if (v3Refund !== null)
    return request.method === 'GET' ? answerV3(request, v3Refund[1], context, v3RefundResource) : notAllowed('wechatpay.v3', 'GET')
  if (path === V3_CERTIFICATES_PATH) {
    return request.method === 'GET' ? answerCertificates(request, context) : notAllowed('wechatpay.v3 certificates', 'GET')
  }
  if (path === V2_QUERY_PATH || path === V2_REFUND_QUERY_PATH) {
    return request.method === 'POST' ? answerV2(request, context, path === V2_REFUND_QUERY_PATH) : notAllowed('wechatpay.v2', 'POST')
  }
  if (path === ALIPAY_GATEWAY_PATH) return request.method === 'POST' ? answerAlipay(request, context) : notAllowed('alipay', 'POST')
  if (path === '/' && request.method === 'GET') {
    return {
      ...plain(200, 'paygate provider stand-in: WeChat Pay and Alipay order queries for the demo merchants, WeChat Pay certificates\n'),
      api: 'status',
      outTradeNo: null,
      outcome: 'ok',
    }
  }
  return {
    ...plain(404, 'not an API the provider stand-in answers\n'),
    api: 'unknown',
    outTradeNo: null,
    outcome: `404 ${request.method} ${path}`,
  }
}

function notAllowed(api, method) {
  return { ...plain(405, `${method} only\n`), api, outTradeNo: null, outcome: '405' }
}

function plain(status, text) {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text }
}

// ---- WeChat Pay APIv3: GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=, for a sub-merchant
// GET /v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid=&sub_mchid=,
// GET /v3/combine-transactions/out-trade-no/{combine_out_trade_no} (the same for both), and
// GET /v3/refund/domestic/refunds/{out_refund_no}

function platformKeysOf(wx) {
  return [
    { serial: wx.platformCertA.serial, privateKeyPem: wx.platformCertA.privateKeyPem },
    { serial: wx.platformCertB.serial, privateKeyPem: wx.platformCertB.privateKeyPem },
    { serial: wx.publicKeyMode.id, privateKeyPem: wx.publicKeyMode.privateKeyPem },
  ]
}

/** What WeChat checks on every APIv3 request: the Authorization signature of the demo merchant. Null when it holds. */
function v3RequestProblem(request, wx, now) {
  const authorization = parseV3Authorization(request.headers.authorization)
  if (authorization === null) return 'Authorization is not a WECHATPAY2-SHA256-RSA2048 signature'
  if (authorization.mchid !== wx.mchid) return 'Authorization names another mchid'
  if (authorization.serial_no.toUpperCase() !== wx.merchantApi.serial.toUpperCase()) {
    return 'serial_no is not the demo merchant API certificate'
  }
  const timestamp = Number(authorization.timestamp)
  if (!/^\d{1,12}$/.test(authorization.timestamp) || Math.abs(Math.floor(now / 1000) - timestamp) > V3_REQUEST_WINDOW_SECONDS) {
    return 'timestamp is more than 5 minutes away from the stand-in clock'
  }
  const signed = verifyV3Request({
    method: request.method,
    pathAndQuery: request.url,
    timestamp: authorization.timestamp,
    nonce: authorization.nonce_str,
    body: request.body,
    signature: authorization.signature,
    publicKeyPem: wx.merchantApi.publicKeyPem,
  })
  return signed ? null : 'the request signature does not verify with the demo merchant API key'
}

/** Checks a v3 request as WeChat does, then lets `resource` answer for the number in its path (an order or a refund). */
function answerV3(
  request,
  escapedNumber,
  { keys, orders, now },
  resource,
  partner = false,
  api = partner ? 'wechatpay.v3 partner' : 'wechatpay.v3',
) {
  const wx = keys.wechatpay
  const platformKeys = platformKeysOf(wx)
  // A merchant in public-key mode names the key it verifies with; otherwise WeChat picks a platform certificate.
  const asked = request.headers['wechatpay-serial']
  const named = asked === undefined ? platformKeys[0] : platformKeys.find((k) => k.serial.toUpperCase() === asked.toUpperCase())
  const signer = named ?? platformKeys[0]
  let outTradeNo = null
  const answer = (status, payload, outcome) => ({
    ...signedV3Answer(status, payload, signer, now),
    api,
    outTradeNo,
    outcome: status === 200 ? `${outcome}, signed with ${signer.serial}` : outcome,
  })
  const error = (status, code, message) => answer(status, { code, message }, `${status} ${code}: ${message}`)

  let number
  try {
    number = decodeURIComponent(escapedNumber)
  } catch {
    return error(400, 'PARAM_ERROR', 'the number in the path is not percent-encoded UTF-8')
  }
  if (named === undefined) return error(400, 'PARAM_ERROR', 'Wechatpay-Serial names no platform certificate or public key of WeChat Pay')
  const problem = v3RequestProblem(request, wx, now)
  if (problem !== null) return error(401, 'SIGN_ERROR', problem)
  return resource({ request, number, wx, orders, answer, error, partner, setOrder: (no) => (outTradeNo = no) })
}

/** The order query's `Transaction`. */
function v3Transaction({ request, number: outTradeNo, wx, orders, answer, error, partner, setOrder }) {
  setOrder(outTradeNo)
  const query = new URL(request.url, 'http://stand-in').searchParams
  const subMchid = partner ? query.get('sub_mchid') : null
  if (partner) {
    if (query.get('sp_mchid') !== wx.mchid) return error(400, 'PARAM_ERROR', 'sp_mchid is missing or not the merchant of the Authorization')
    if (!subMchid) return error(400, 'PARAM_ERROR', 'sub_mchid is missing')
  } else if (query.get('mchid') !== wx.mchid) {
    return error(400, 'PARAM_ERROR', 'mchid is missing or not the merchant of the Authorization')
  }

  // A sub-merchant's order is found only through the partner endpoint, with its own sub_mchid.
  const paid = orders.get(`wechatpay:${outTradeNo}`)
  if (paid === undefined || (paid.subMchid ?? null) !== subMchid) return error(404, 'ORDER_NOT_EXIST', 'no such order')
  const refunded = paid.refundedFen > 0
  const direct = transactionResource({
    appid: wx.appid,
    mchid: wx.mchid,
    outTradeNo,
    transactionId: paid.transactionId,
    total: paid.totalFen,
    successTime: rfc3339Beijing(paidAtOf(paid)),
    openid: DEMO_OPENID,
  })
  const transaction = {
    ...(partner ? partnerResource(direct, { subMchid, subAppid: DEMO_PARTNER.subAppid }) : direct),
    ...(refunded ? { trade_state: 'REFUND', trade_state_desc: '转入退款' } : {}),
    promotion_detail: [],
  }
  return answer(200, transaction, `${transaction.trade_state} ¥${fenToYuan(paid.totalFen)}`)
}

/**
 * The combined query's answer (合单查询订单): the combine and each sub-order simulate paid in it, found by the combine
 * number simulate recorded. A merchant and a service provider ask by the same URL, with no query string; a
 * sub-merchant's sub-orders name it (sub_mchid, sub_appid). A refunded sub-order is REFUND, as in the order query.
 */
function v3CombinedTransaction({ number: combineOutTradeNo, wx, orders, answer, error, setOrder }) {
  setOrder(combineOutTradeNo)
  const paid = [...orders]
    .filter(([key, order]) => key.startsWith('wechatpay:') && order.combineOutTradeNo === combineOutTradeNo)
    .map(([, order]) => order)
    .sort((a, b) => (a.outTradeNo < b.outTradeNo ? -1 : 1))
  if (paid.length === 0) return error(404, 'ORDER_NOT_EXIST', '订单不存在')
  const combine = combinedTransactionResource({
    combineAppid: wx.appid,
    combineMchid: wx.mchid,
    combineOutTradeNo,
    openid: DEMO_OPENID,
    subOrders: paid.map((order) => ({
      mchid: wx.mchid,
      ...(order.subMchid === undefined ? {} : { subMchid: order.subMchid, subAppid: DEMO_PARTNER.subAppid }),
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId,
      total: order.totalFen,
      successTime: rfc3339Beijing(paidAtOf(order)),
    })),
  })
  const subOrders = combine.sub_orders.map((subOrder, i) => (paid[i].refundedFen > 0 ? { ...subOrder, trade_state: 'REFUND' } : subOrder))
  const states = subOrders.map((s) => `${s.out_trade_no} ${s.trade_state}`).join(', ')
  return answer(200, { ...combine, sub_orders: subOrders }, `${subOrders.length} sub-orders: ${states}`)
}

/** The refund query's `Refund` (a direct merchant's refunds need no query parameter). */
function v3RefundResource({ number: outRefundNo, orders, answer, error, setOrder }) {
  const found = findRefund(orders, 'wechatpay', outRefundNo)
  if (found === null) return error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在')
  setOrder(found.order.outTradeNo)
  return answer(200, v3RefundObject(found.order, found.refund), `refund ${outRefundNo} SUCCESS ¥${fenToYuan(found.refund.amountFen)}`)
}

// ---- WeChat Pay APIv3: GET /v3/certificates (the platform certificates, encrypted with the APIv3 key)

function answerCertificates(request, { keys, now }) {
  const wx = keys.wechatpay
  const [certA] = platformKeysOf(wx)
  const answer = (status, payload, outcome) => ({
    ...signedV3Answer(status, payload, certA, now),
    api: 'wechatpay.v3 certificates',
    outTradeNo: null,
    outcome,
  })
  const problem = v3RequestProblem(request, wx, now)
  if (problem !== null) return answer(401, { code: 'SIGN_ERROR', message: problem }, `401 SIGN_ERROR: ${problem}`)
  const certificates = [wx.platformCertA, wx.platformCertB].map((cert) => {
    const x509 = new X509Certificate(cert.certificatePem)
    return {
      serial: cert.serial,
      certificatePem: cert.certificatePem,
      effectiveTime: rfc3339Beijing(Date.parse(x509.validFrom)),
      expireTime: rfc3339Beijing(Date.parse(x509.validTo)),
    }
  })
  const built = buildCertificatesAnswer({
    certificates,
    apiV3Key: wx.apiV3Key,
    nonceOf: () => randomBytes(6).toString('hex'),
    timestamp: Math.floor(now / 1000),
    nonce: randomBytes(16).toString('hex').toUpperCase(),
    serial: certA.serial,
    privateKeyPem: certA.privateKeyPem,
  })
  const headers = Object.fromEntries(Object.entries(built.headers).map(([name, value]) => [name.toLowerCase(), value]))
  return {
    status: 200,
    headers,
    body: built.body,
    api: 'wechatpay.v3 certificates',
    outTradeNo: null,
    outcome: `${certificates.length} platform certificates, signed with ${certA.serial}`,
  }
}

/** `WECHATPAY2-SHA256-RSA2048 k="v",…` → its five fields, or null when any is missing or the scheme is another. */
function parseV3Authorization(header) {
  const prefix = `${SIGNATURE_TYPE} `
  if (typeof header !== 'string' || !header.startsWith(prefix)) return null
  const fields = {}
  for (const match of header.slice(prefix.length).matchAll(/(\w+)="([^"]*)"/g)) fields[match[1]] = match[2]
  const names = ['mchid', 'nonce_str', 'signature', 'timestamp', 'serial_no']
  return names.every((name) => typeof fields[name] === 'string' && fields[name] !== '') ? fields : null
}

/** WeChat signs every answer, errors included: `timestamp\nnonce\nbody\n` with the key named in Wechatpay-Serial. */
function signedV3Answer(status, payload, signer, now) {
  const body = JSON.stringify(payload)
  const timestamp = String(Math.floor(now / 1000))
  const nonce = randomBytes(16).toString('hex').toUpperCase()
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'request-id': randomBytes(16).toString('hex').toUpperCase(),
      'wechatpay-nonce': nonce,
      'wechatpay-serial': signer.serial,
      'wechatpay-signature': signV3Message({ timestamp, nonce, body, privateKeyPem: signer.privateKeyPem }),
      'wechatpay-signature-type': SIGNATURE_TYPE,
      'wechatpay-timestamp': timestamp,
    },
    body,
  }
}

// ---- WeChat Pay APIv2: POST /pay/orderquery (XML)

function answerV2(request, { keys, orders }, refundQuery) {
  const wx = keys.wechatpay
  let outTradeNo = null
  // Refusals of the request itself are unsigned `return_code=FAIL`, as WeChat sends them.
  const refuse = (message) => ({
    ...xmlAnswer(buildFailMessage({ returnMsg: message })),
    api: 'wechatpay.v2',
    outTradeNo,
    outcome: `FAIL: ${message}`,
  })

  let fields
  try {
    fields = fromV2Xml(request.body)
  } catch {
    return refuse('the body is not XML')
  }
  if (Object.values(fields).some((value) => typeof value !== 'string')) return refuse('the body is not flat XML')
  outTradeNo = fields.out_trade_no ?? null
  const signType = fields.sign_type || 'MD5'
  if (!SIGN_TYPES.includes(signType)) return refuse('sign_type is neither MD5 nor HMAC-SHA256')
  if (fields.mch_id !== wx.mchid) return refuse('mch_id is not the demo merchant')
  if (!demoApps(keys).wechatpay.includes(fields.appid)) return refuse('appid does not match mch_id')
  if (!fields.nonce_str) return refuse('nonce_str is missing')
  if (!checkV2Sign(fields, wx.apiV2Key, signType)) return refuse(`the ${signType} sign does not verify with the demo APIv2 key`)
  // A sub-merchant's order is found only with its own sub_mch_id; the answer names it too.
  const subMchid = fields.sub_mch_id || null
  const common = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: fields.appid,
    mch_id: wx.mchid,
    ...(subMchid === null ? {} : { sub_mch_id: subMchid }),
    nonce_str: randomBytes(16).toString('hex'),
  }
  // The answer is signed with the request's sign type, and says nothing about which one (WeChat's answers don't).
  const signed = (answer, outcome) => {
    const body = toV2Xml({ ...answer, sign: signV2(answer, wx.apiV2Key, signType) }, 'wechat')
    return { ...xmlAnswer(body), api: 'wechatpay.v2', outTradeNo, outcome: `${outcome}, ${signType} sign` }
  }
  if (refundQuery) {
    if (!fields.out_refund_no) return refuse('out_refund_no is missing')
    const found = findRefund(orders, 'wechatpay', fields.out_refund_no)
    if (found === null) {
      return signed({ ...common, result_code: 'FAIL', err_code: 'REFUNDNOTEXIST', err_code_des: 'not exist' }, 'REFUNDNOTEXIST')
    }
    outTradeNo = found.order.outTradeNo
    const refund = { ...common, ...v2RefundFields(found.order, found.refund) }
    return signed(refund, `refund ${fields.out_refund_no} SUCCESS ¥${fenToYuan(found.refund.amountFen)}`)
  }
  if (!outTradeNo) return refuse('out_trade_no is missing')

  const known = orders.get(`wechatpay:${outTradeNo}`)
  const paid = known !== undefined && (known.subMchid ?? null) === subMchid ? known : undefined
  if (paid === undefined) {
    return signed({ ...common, result_code: 'FAIL', err_code: 'ORDERNOTEXIST', err_code_des: '此交易订单号不存在' }, 'ORDERNOTEXIST')
  }
  const refunded = paid.refundedFen > 0
  const answer = {
    ...common,
    result_code: 'SUCCESS',
    openid: DEMO_OPENID,
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: String(paid.totalFen),
    fee_type: 'CNY',
    transaction_id: paid.transactionId,
    out_trade_no: outTradeNo,
    time_end: beijingCompact(paidAtOf(paid)),
    trade_state: refunded ? 'REFUND' : 'SUCCESS',
    cash_fee: String(paid.totalFen),
    trade_state_desc: refunded ? '订单发生过退款，退款详情请查询退款单' : '支付成功',
  }
  return signed(answer, `${answer.trade_state} ¥${fenToYuan(paid.totalFen)}`)
}

function xmlAnswer(body) {
  return { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body }
}

// ---- Alipay: POST /gateway.do, method=alipay.trade.query (form in, JSON out)

function answerAlipay(request, { keys, orders }) {
  const alipay = keys.alipay
  let outTradeNo = null
  // A request Alipay cannot attribute or authenticate gets an unsigned `error_response`.
  const refuse = (code, msg, subCode, subMsg) => ({
    ...alipayAnswer(JSON.stringify({ error_response: { code, msg, sub_code: subCode, sub_msg: subMsg } })),
    api: 'alipay',
    outTradeNo,
    outcome: `${code} ${subCode}: ${subMsg}`,
  })
  const invalid = (subCode, subMsg) => refuse('40002', 'Invalid Arguments', subCode, subMsg)

  const form = new URLSearchParams(request.body)
  const names = [...form.keys()]
  if (new Set(names).size !== names.length) return invalid('isv.invalid-parameter', 'a parameter is sent twice')
  const params = Object.fromEntries(form)
  const refundQuery = params.method === ALIPAY_REFUND_METHOD
  if (params.method !== ALIPAY_METHOD && !refundQuery) {
    return invalid('isv.invalid-method', `method must be ${ALIPAY_METHOD} or ${ALIPAY_REFUND_METHOD}`)
  }
  if (!demoApps(keys).alipay.includes(params.app_id)) return invalid('isv.invalid-app-id', 'app_id is not a demo app')
  if ((params.charset ?? 'utf-8').toLowerCase() !== 'utf-8') return invalid('isv.invalid-charset', 'the stand-in speaks utf-8 only')
  if (!ALIPAY_SIGN_TYPES.includes(params.sign_type)) return invalid('isv.invalid-signature-type', 'sign_type must be RSA2 or RSA')
  if (!params.sign) return refuse('40001', 'Missing Required Arguments', 'isv.missing-signature', 'sign is missing')
  // OpenAPI requests sign every parameter but `sign`, sign_type included.
  if (!checkWithNodeCrypto(params, alipay.appKey.publicKeyPem, { keepSignType: true })) {
    return invalid('isv.invalid-signature', 'the sign does not verify with the demo app key')
  }
  let bizContent
  try {
    bizContent = JSON.parse(params.biz_content ?? '')
  } catch {
    return invalid('isv.invalid-parameter', 'biz_content is not JSON')
  }
  outTradeNo = typeof bizContent?.out_trade_no === 'string' && bizContent.out_trade_no !== '' ? bizContent.out_trade_no : null

  // From here on the answer is the method's own, signed with Alipay's key in the request's sign type.
  const signed = (response, outcome) => {
    const key = refundQuery ? ALIPAY_REFUND_RESPONSE_KEY : ALIPAY_RESPONSE_KEY
    const body = buildAlipayResponse(key, JSON.stringify(response), alipay.alipayKey.privateKeyPem, { signType: params.sign_type })
    return {
      ...alipayAnswer(body),
      api: refundQuery ? 'alipay refund' : 'alipay',
      outTradeNo,
      outcome: `${outcome}, ${params.sign_type} signed`,
    }
  }
  if (outTradeNo === null) {
    const missing = { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.INVALID_PARAMETER', sub_msg: 'out_trade_no is missing' }
    return signed(missing, '40004 ACQ.INVALID_PARAMETER')
  }
  if (refundQuery) {
    // Code 10000 only says the query ran: a refund Alipay did not make (yet) has no refund fields.
    const outRequestNo = typeof bizContent?.out_request_no === 'string' ? bizContent.out_request_no : ''
    const found = findRefund(orders, 'alipay', outRequestNo)
    if (found === null || found.order.outTradeNo !== outTradeNo)
      return signed({ code: '10000', msg: 'Success' }, `refund ${outRequestNo} not found`)
    const refund = { code: '10000', msg: 'Success', ...alipayRefundFields(found.order, found.refund) }
    return signed(refund, `refund ${outRequestNo} REFUND_SUCCESS ¥${fenToYuan(found.refund.amountFen)}`)
  }
  const paid = orders.get(`alipay:${outTradeNo}`)
  if (paid === undefined) {
    const notExist = {
      code: '40004',
      msg: 'Business Failed',
      sub_code: 'ACQ.TRADE_NOT_EXIST',
      sub_msg: '交易不存在',
      buyer_pay_amount: '0.00',
      invoice_amount: '0.00',
      out_trade_no: outTradeNo,
      point_amount: '0.00',
      receipt_amount: '0.00',
    }
    return signed(notExist, '40004 ACQ.TRADE_NOT_EXIST')
  }
  const total = fenToYuan(paid.totalFen)
  // A partly refunded trade stays TRADE_SUCCESS; a fully refunded one is closed (and still has its payment date).
  const tradeStatus = paid.refundedFen >= paid.totalFen ? 'TRADE_CLOSED' : 'TRADE_SUCCESS'
  const trade = {
    code: '10000',
    msg: 'Success',
    buyer_logon_id: 'abc***@example.com',
    buyer_pay_amount: total,
    buyer_user_id: '2088102170000001',
    fund_bill_list: [{ amount: total, fund_channel: 'ALIPAYACCOUNT' }],
    invoice_amount: total,
    out_trade_no: outTradeNo,
    point_amount: '0.00',
    receipt_amount: total,
    send_pay_date: beijingDashed(paidAtOf(paid)),
    total_amount: total,
    trade_no: paid.transactionId,
    trade_status: tradeStatus,
  }
  return signed(trade, `${tradeStatus} ¥${total}`)
}

function alipayAnswer(body) {
  return { status: 200, headers: { 'content-type': 'text/html;charset=utf-8' }, body }
}

/** When the buyer paid: recorded by simulate since --no-notify came; older records only know their last change. */
function paidAtOf(order) {
  return order.paidAt ?? order.updatedAt
}
