// `npm run simulate -- <channel> <event> [options]`: sends a correctly signed (or deliberately hostile)
// provider notification for the demo merchant to a running gateway and prints the reply, like `stripe trigger`.
// Notifications are built by scripts/lib/build-notification.mjs with the fixture signers (test/fixtures/signers).
// `--no-notify` and `sync` play the other half: a payment (or refund) whose notification is lost, found by the
// gateway's order (or refund) query at the provider stand-in that `npm run dev` runs (scripts/provider-standin.mjs).
// `alipay refund --out-of-order` sends two partial refunds' notifications in reverse order.
import {
  buildNotification,
  DEFAULT_AMOUNT_FEN,
  fenToYuan,
  isAcceptReply,
  newOrderNumber,
  newRefundNumber,
  newTransactionId,
  PROVIDER_OF,
  SimulationError,
} from './lib/build-notification.mjs'
import {
  DEMO_MERCHANT_ID,
  DEMO_SUB_MERCHANT_ID,
  DemoSetupError,
  DevVarsError,
  loadDemo,
  readDevVars,
  readSimulatorState,
  standinUrl,
  writeSimulatorState,
} from './lib/demo.mjs'
import { outOfOrderRefunds, parseSimulateArgs, refundOptions, refundTarget, USAGE, UsageError } from './lib/simulate-options.mjs'
import { merchantFacts, recordNotifiedPayments } from './lib/simulator-orders.mjs'

const PROVIDER_NAMES = { wechatpay: 'WeChat Pay', alipay: 'Alipay' }
/** Order statuses (admin API) of an order whose payment the gateway knows. */
const PAID_STATUSES = ['paid', 'partially_refunded', 'refunded']

async function main() {
  const command = parseSimulateArgs(process.argv.slice(2))
  if (command.help) {
    console.log(USAGE)
    return 0
  }
  if (command.sync) return sync(command)
  if (command.noNotify) return command.event === 'refund' ? refundWithoutNotify(command) : payWithoutNotify(command)
  if (command.outOfOrder) return refundOutOfOrder(command)
  return simulate(command)
}

async function simulate({ channel, event, repeat, concurrent, gateway, show, build, merchantId }) {
  const { keys } = loadDemo()
  const provider = PROVIDER_OF[channel]
  const state = readSimulatorState()
  const hostile = build.tamper || build.wrongKey || build.stale
  const now = Date.now()
  const options = { ...build, keys, merchantId, now }
  const paidOrder = event === 'refund' ? refundTarget(build, state) : null
  if (paidOrder !== null) Object.assign(options, refundOptions(build, paidOrder))
  // Paying an order that was paid with --no-notify: the lost notification of that very payment arrives after all.
  const lost =
    event === 'payment' && build.outTradeNo !== undefined ? state.paidWithoutNotify[`${provider}:${build.outTradeNo}`] : undefined
  if (lost !== undefined) Object.assign(options, { transactionId: lost.transactionId, amount: build.amount ?? lost.totalFen })
  const foundByQuery =
    lost !== undefined && PAID_STATUSES.includes((await readOrder(gateway, merchantId, provider, build.outTradeNo))?.order.status)

  const built = buildNotification(options)
  const url = new URL(built.path, gateway)
  const copies = repeat * concurrent
  console.log(
    `paygate simulate · ${channel} ${event}${built.hostile.length > 0 ? ` (${built.hostile.map((h) => `--${h}`).join(' ')})` : ''}`,
  )
  const atMerchant = merchantId === DEMO_MERCHANT_ID ? '' : ` (merchant ${merchantId})`
  if (event === 'combined') {
    console.log(`  combine    ${built.order.outTradeNo}${atMerchant}: ${yuan(built.order.amount)} in all`)
    for (const sub of built.order.subOrders) console.log(`  sub-order  ${sub.outTradeNo} · ${yuan(sub.amount)}`)
  } else if (event !== 'transfer') {
    console.log(`  order      ${built.order.outTradeNo}${atMerchant}`)
  }
  if (event === 'refund') {
    console.log(`  refund     ${yuan(built.order.amount)} of ${yuan(built.order.total)} · ${built.order.outRefundNo}`)
    console.log(`  refunded   ${yuan(built.order.refundedAfter)} in all after this one`)
  } else if (event === 'transfer') {
    console.log(`  transfer   ${yuan(built.order.amount)} · bill ${built.order.outTradeNo} · WeChat's ${built.order.transactionId}`)
  } else if (event === 'payment') {
    console.log(`  amount     ${yuan(built.order.amount)}`)
  }
  console.log(`  signed     ${built.description}`)
  if (show) {
    console.log('\n  POST', built.path)
    for (const [name, value] of Object.entries(built.headers)) console.log(`  ${name}: ${value}`)
    console.log(`\n${built.body}\n`)
  }
  const how =
    copies === 1
      ? ''
      : concurrent === 1
        ? ` ×${repeat}, one after another`
        : repeat === 1
          ? ` ×${concurrent}, at once`
          : ` ×${copies} (${repeat} rounds of ${concurrent} at once)`
  console.log(`→ POST ${url.href}${how}`)

  const key = `${provider}:${built.order.outTradeNo}`
  if (event === 'refund' && !hostile) {
    // Made at the provider before its notification is sent: a gateway that asks the provider at once (a merchant
    // with refund-query keys holds an Alipay refund until then) finds it, as it would at Alipay.
    recordRefunds(state, key, paidOrder, [built.order], now)
    writeSimulatorState(state)
  }
  if (!hostile) {
    // Paid at the provider before its notification is sent, as refunds are above: a merchant that confirms payments by
    // a query (confirmPaymentsByQuery) asks the stand-in at once and must find it. A combined payment pays each of its
    // sub-orders, as a payment of its own would; each records its combine.
    const paidOrders = event === 'combined' ? built.order.subOrders : event === 'payment' ? [built.order] : []
    recordNotifiedPayments(state, {
      channel,
      provider,
      merchantId,
      partner: build.partner === true,
      paid: paidOrders,
      combineOutTradeNo: event === 'combined' ? built.order.outTradeNo : null,
      now,
    })
    if (paidOrders.length > 0) writeSimulatorState(state)
  }
  const replies = []
  for (let round = 0; round < repeat; round++) {
    const batch = await Promise.all(Array.from({ length: concurrent }, () => post(url, built)))
    for (const reply of batch) {
      replies.push(reply)
      console.log(`← ${copies === 1 ? '' : `#${replies.length} `}${reply.status} ${shown(reply.body)}`)
    }
  }
  const accepted = replies.filter((r) => isAcceptReply(channel, r.status, r.body)).length

  if (hostile) {
    if (accepted === 0) {
      console.log(
        `✓ rejected${copies === 1 ? '' : ` (${copies}/${copies})`}, as it must be: nothing is forwarded, and the provider would retry a genuine one`,
      )
      return 0
    }
    console.log(`✗ the gateway accepted ${accepted} of ${copies} hostile notifications: that is a bug`)
    return 1
  }
  if (accepted !== copies) {
    console.log(`✗ ${copies - accepted} of ${copies} replies were not the ${channel} accept reply`)
    return 1
  }

  const expected = {
    payment: 'payment.succeeded',
    combined: 'payment.succeeded',
    refund: 'refund.succeeded',
    close: 'payment.closed',
    transfer: 'provider.notification',
  }[event]
  if (event === 'combined') {
    const numbers = built.order.subOrders.map((sub) => sub.outTradeNo).join(' and ')
    console.log(
      copies === 1
        ? `✓ accepted: \`npm run listen\` prints ${expected} for each sub-order: ${numbers}`
        : `✓ ${copies}/${copies} accepted: one state change per order however often it arrives, so \`npm run listen\` prints one ${expected} for each of ${numbers}`,
    )
    for (const sub of built.order.subOrders) await printOrderStatus(gateway, merchantId, provider, sub.outTradeNo)
    if (channel === 'wechatpay.v3') {
      const first = built.order.subOrders[0].outTradeNo
      console.log(`  \`npm run simulate -- sync ${first}\` asks about it through WeChat's combined query (at the stand-in)`)
    }
    return 0
  }
  if (event === 'transfer') {
    console.log(
      copies === 1
        ? `✓ accepted: \`npm run listen\` prints ${expected} (MCHTRANSFER.BILL.FINISHED) for transfer ${built.order.transactionId}`
        : `✓ ${copies}/${copies} accepted: deduplicated by the notification id, so \`npm run listen\` prints one ${expected}`,
    )
    return 0
  }
  if (foundByQuery) {
    console.log(`✓ accepted: the lost notification arrives after all, but the order query found this payment already: no second event`)
  } else {
    console.log(
      copies === 1
        ? `✓ accepted: \`npm run listen\` prints ${expected} for ${built.order.outTradeNo}`
        : `✓ ${copies}/${copies} accepted: one state change however often it arrives, so \`npm run listen\` prints one ${expected}`,
    )
  }
  // A refund the gateway confirms with the provider's refund query first shows a moment later, as does a payment it
  // confirms with an order query (confirmPaymentsByQuery): wait for them.
  const settled =
    event === 'refund'
      ? (order) => order.refunded_amount >= built.order.refundedAfter
      : event === 'payment'
        ? (order) => order.status !== 'pending'
        : undefined
  await printOrderStatus(gateway, merchantId, provider, built.order.outTradeNo, settled)
  return 0
}

/**
 * `<channel> payment --no-notify`: the merchant registers the order (admin API), the buyer pays (the stand-in's
 * state now says so), and the provider's notification never arrives. What finds the payment is the gateway's
 * order query: planned 2 minutes after registration, or asked for now with `sync`.
 */
async function payWithoutNotify({ channel, gateway, build, merchantId }) {
  const provider = PROVIDER_OF[channel]
  const token = adminToken()
  const state = readSimulatorState()
  const now = Date.now()
  const outTradeNo = build.outTradeNo ?? newOrderNumber(now)
  const amount = build.amount ?? DEFAULT_AMOUNT_FEN
  const key = `${provider}:${outTradeNo}`
  if (state.orders[key] !== undefined || state.paidWithoutNotify[key] !== undefined) {
    throw new SimulationError(`simulate paid ${provider} order ${outTradeNo} already: leave out --order for a new one`)
  }
  console.log(`paygate simulate · ${channel} payment --no-notify (the buyer pays; the notification is lost)`)
  console.log(`  order      ${outTradeNo}`)
  console.log(`  amount     ${yuan(amount)}`)

  // The merchant's server registers each order before the buyer pays: that is what the gateway queries.
  const orderPath = `/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}`
  const response = await adminPut(gateway, token, orderPath, { amount, currency: 'CNY', channel })
  if (!response.ok) {
    console.log('✗ the gateway did not register the order')
    return 1
  }

  const transactionId = newTransactionId(channel, now)
  state.paidWithoutNotify[key] = {
    channel,
    ...merchantFacts(merchantId, build.partner === true),
    outTradeNo,
    totalFen: amount,
    transactionId,
    refundedFen: 0,
    paidAt: now,
    updatedAt: now,
  }
  state.lastWithoutNotify = key
  writeSimulatorState(state)
  console.log(`✓ paid at ${PROVIDER_NAMES[provider]} (transaction ${transactionId}); no notification sent`)
  await printOrderStatus(gateway, merchantId, provider, outTradeNo)
  if (!(await standinAnswers())) {
    console.log(`! the provider stand-in does not answer on ${standinUrl()}: it runs with \`npm run dev\`, and queries fail without it`)
  }
  const syncUrl = new URL(`${orderPath}/sync?provider=${provider}`, gateway).href
  console.log('')
  console.log(`The order object asks ${PROVIDER_NAMES[provider]} about it by itself 2 minutes after registration (then after`)
  console.log('5, 15, 30 minutes, and hourly). To ask now (ADMIN_TOKEN from .dev.vars):')
  console.log(`  curl -s -X POST -H "Authorization: Bearer $(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)" "${syncUrl}"`)
  console.log(`  npm run simulate -- sync${merchantId === DEMO_MERCHANT_ID ? '' : ' --partner'}     # the same, and prints the result`)
  console.log(`Either way \`npm run listen\` then prints payment.succeeded for ${outTradeNo}.`)
  return 0
}

/**
 * `<channel> refund --no-notify`: the merchant asks the provider for a refund and registers it with the gateway
 * (admin API); the provider (the stand-in) makes it; its notification never arrives. The gateway's refund query finds
 * it: planned 2 minutes after registration, or asked for now with `sync`.
 */
async function refundWithoutNotify({ channel, gateway, build }) {
  const provider = PROVIDER_OF[channel]
  const token = adminToken()
  const state = readSimulatorState()
  const now = Date.now()
  const paid = refundTarget(build, state)
  const { amount } = refundOptions(build, paid)
  const outRefundNo = newRefundNumber(now)
  console.log(`paygate simulate · ${channel} refund --no-notify (the refund is made; its notification is lost)`)
  console.log(`  order      ${paid.outTradeNo}`)
  console.log(`  refund     ${yuan(amount)} of ${yuan(paid.totalFen)} · ${outRefundNo}`)

  // What the merchant's server does when it asks the provider for a refund: register it with the gateway.
  const path = `/admin/merchants/${DEMO_MERCHANT_ID}/orders/${encodeURIComponent(paid.outTradeNo)}/refunds/${encodeURIComponent(outRefundNo)}`
  const response = await adminPut(gateway, token, path, { amount, channel })
  if (!response.ok) {
    console.log('✗ the gateway did not register the refund')
    return 1
  }
  const key = `${provider}:${paid.outTradeNo}`
  recordRefunds(state, key, paid, [{ outRefundNo, amount, refundId: refundIdOf(now) }], now)
  state.lastWithoutNotify = key
  writeSimulatorState(state)
  console.log(`✓ refunded at ${PROVIDER_NAMES[provider]}; no notification sent`)
  if (!(await standinAnswers())) {
    console.log(`! the provider stand-in does not answer on ${standinUrl()}: it runs with \`npm run dev\`, and queries fail without it`)
  }
  console.log('')
  console.log(`The order object asks ${PROVIDER_NAMES[provider]} about the refund by itself 2 minutes after registration (then`)
  console.log('5, 15, 30 minutes, and hourly). To ask now:')
  console.log('  npm run simulate -- sync     # syncs the order and its refunds, and prints the result')
  console.log(`Either way \`npm run listen\` then prints refund.succeeded (${yuan(amount)}) for ${paid.outTradeNo}.`)
  return 0
}

/**
 * `alipay refund --out-of-order`: two partial refunds A then B of one trade, made at Alipay (the stand-in knows
 * both), their notifications sent B first. Alipay's refund_fee is the running total, so B's alone says A+B: the
 * gateway accepts B and holds it until Alipay's refund query says B's own amount (at once, the demo merchant
 * has the keys), then A's notification settles A. The listener prints one refund.succeeded each, own amounts.
 */
async function refundOutOfOrder({ channel, gateway, show, build }) {
  const { keys } = loadDemo()
  const provider = PROVIDER_OF[channel]
  const state = readSimulatorState()
  const now = Date.now()
  const paid = refundTarget(build, state)
  const [a, b] = outOfOrderRefunds(build, paid)
  const numberA = newRefundNumber(now)
  let numberB = newRefundNumber(now)
  while (numberB === numberA) numberB = newRefundNumber(now)
  const base = { channel, event: 'refund', keys, merchantId: DEMO_MERCHANT_ID, now }
  const builtA = buildNotification({ ...base, ...a, outRefundNo: numberA })
  const builtB = buildNotification({ ...base, ...b, outRefundNo: numberB })
  console.log(`paygate simulate · ${channel} refund --out-of-order (two partial refunds, the later one's notification first)`)
  console.log(`  order      ${paid.outTradeNo} · ${yuan(paid.totalFen)}`)
  console.log(`  refund A   ${yuan(a.amount)} · ${numberA} · refund_fee ${fenToYuan(builtA.order.refundedAfter)}`)
  console.log(`  refund B   ${yuan(b.amount)} · ${numberB} · refund_fee ${fenToYuan(builtB.order.refundedAfter)} (the running total)`)
  // Both refunds are made at Alipay before either notification arrives: the stand-in answers queries about them.
  const key = `${provider}:${paid.outTradeNo}`
  recordRefunds(state, key, paid, [builtA.order, builtB.order], now)
  writeSimulatorState(state)

  for (const [label, built] of [
    ['B', builtB],
    ['A', builtA],
  ]) {
    const url = new URL(built.path, gateway)
    if (show) console.log(`\n  POST ${built.path}\n${built.body}\n`)
    console.log(`→ POST ${url.href} (refund ${label})`)
    const reply = await post(url, built)
    console.log(`← ${reply.status} ${shown(reply.body)}`)
    if (!isAcceptReply(channel, reply.status, reply.body)) {
      console.log(`✗ refund ${label}'s notification was not accepted`)
      return 1
    }
  }
  console.log(`✓ both accepted. B's refund_fee (¥${fenToYuan(builtB.order.refundedAfter)}) also counts A, so the gateway held B until`)
  console.log(`  Alipay's refund query (the stand-in) said B's own amount; \`npm run listen\` prints refund.succeeded for`)
  console.log(`  B (${yuan(b.amount)}) and A (${yuan(a.amount)}), once each.`)
  if (!(await standinAnswers())) {
    console.log(
      `! the provider stand-in does not answer on ${standinUrl()}: B waits until a query can be made (or the refund is registered)`,
    )
  }
  const bothApplied = (order) => order.refunded_amount >= builtB.order.refundedAfter
  await printOrderStatus(gateway, DEMO_MERCHANT_ID, provider, paid.outTradeNo, bothApplied)
  return 0
}

/** Records refunds made at the provider, for later refunds and for the stand-in's refund queries. */
function recordRefunds(state, key, paid, refunds, now) {
  const book = key in state.orders ? state.orders : state.paidWithoutNotify
  const made = refunds.map((r) => ({
    outRefundNo: r.outRefundNo,
    amountFen: r.amount,
    refundId: r.refundId ?? refundIdOf(now),
    refundedAt: now,
  }))
  const refundedFen = (paid.refundedFen ?? 0) + made.reduce((sum, r) => sum + r.amountFen, 0)
  book[key] = { ...paid, refundedFen, refunds: [...(paid.refunds ?? []), ...made], updatedAt: Date.now() }
}

/** A WeChat-shaped refund id (`50300…`): what the providers name a refund by. */
function refundIdOf(now) {
  return `50300${new Date(now).getUTCFullYear()}${String(Math.floor(Math.random() * 1e15)).padStart(15, '0')}`
}

/** `sync [<order>]`: POST …/orders/{no}/sync, the admin call that makes the order object query the provider now. */
async function sync({ outTradeNo, provider, gateway, partner }) {
  const token = adminToken()
  const state = readSimulatorState()
  const target = syncTarget(state, outTradeNo, provider)
  const known =
    state.paidWithoutNotify[`${target.provider}:${target.outTradeNo}`] ?? state.orders[`${target.provider}:${target.outTradeNo}`]
  const merchantId = partner ? DEMO_SUB_MERCHANT_ID : (known?.merchantId ?? DEMO_MERCHANT_ID)
  const path = `/admin/merchants/${merchantId}/orders/${encodeURIComponent(target.outTradeNo)}/sync?provider=${target.provider}`
  const url = new URL(path, gateway)
  console.log(`paygate simulate · sync ${target.outTradeNo} (ask ${PROVIDER_NAMES[target.provider]} about the order now)`)
  console.log(`→ POST ${url.href}`)
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const reply = await response.text()
  console.log(`← ${response.status} ${shown(reply)}`)
  if (!response.ok) {
    console.log('✗ the gateway did not run the query')
    return 1
  }
  const results = JSON.parse(reply).results ?? []
  for (const result of results) {
    console.log(`  query      ${result.query} → order ${result.status}`)
    for (const line of result.refunds ?? []) console.log(`  refund     ${line}`)
  }
  const paid = results.some((result) => PAID_STATUSES.includes(result.status))
  const refunded = results.some((result) => (result.refunds ?? []).some((line) => line.includes(' succeeded')))
  console.log(
    !paid
      ? `✗ not paid at ${PROVIDER_NAMES[target.provider]} as far as the gateway can tell: see the query result above`
      : refunded
        ? `✓ the gateway knows the refund: \`npm run listen\` prints refund.succeeded for ${target.outTradeNo} (once, however often you sync)`
        : `✓ the gateway knows the order is paid: \`npm run listen\` prints payment.succeeded for ${target.outTradeNo} (once, however often you sync)`,
  )
  return paid ? 0 : 1
}

/** Which order `sync` asks about: the named one (provider from simulate's memory, or --provider), else the last --no-notify one. */
function syncTarget(state, outTradeNo, provider) {
  if (outTradeNo === null) {
    const key = state.lastWithoutNotify
    if (key === null) {
      throw new SimulationError(
        'no order paid with --no-notify yet: run `npm run simulate -- alipay payment --no-notify` first, or name the order',
      )
    }
    const [lastProvider, ...rest] = key.split(':')
    return { provider: provider ?? lastProvider, outTradeNo: rest.join(':') }
  }
  if (provider !== null) return { provider, outTradeNo }
  const known = ['wechatpay', 'alipay'].filter(
    (p) => `${p}:${outTradeNo}` in state.paidWithoutNotify || `${p}:${outTradeNo}` in state.orders,
  )
  if (known.length !== 1) {
    throw new SimulationError(
      `${known.length === 0 ? 'simulate does not know' : 'simulate paid both a WeChat Pay and an Alipay'} order ${outTradeNo}: add --provider wechatpay or --provider alipay`,
    )
  }
  return { provider: known[0], outTradeNo }
}

function adminToken() {
  const token = readDevVars().ADMIN_TOKEN
  if (!token) throw new DemoSetupError('.dev.vars has no ADMIN_TOKEN (see .dev.vars.example)')
  return token
}

/** Whether the provider stand-in answers (a courtesy check: the payment is recorded either way). */
async function standinAnswers() {
  try {
    const response = await fetch(`${standinUrl()}/`, { signal: AbortSignal.timeout(2_000) })
    return response.ok
  } catch {
    return false
  }
}

async function post(url, built) {
  const response = await fetch(url, { method: 'POST', headers: built.headers, body: built.body })
  return { status: response.status, body: await response.text() }
}

/** The order as the gateway now sees it (admin API, token from .dev.vars): read-your-writes, right after the reply. */
async function printOrderStatus(gateway, merchantId, provider, outTradeNo, settled = () => true) {
  let read = await readOrder(gateway, merchantId, provider, outTradeNo)
  for (let waited = 0; read !== null && !settled(read.order) && waited < 3000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    read = await readOrder(gateway, merchantId, provider, outTradeNo)
  }
  if (read === null) return
  const { order, path } = read
  const refunded = order.refunded_amount > 0 ? `, ${yuan(order.refunded_amount)} refunded` : ''
  console.log(`  gateway    order ${order.status}${order.amount === null ? '' : `, ${yuan(order.amount)}`}${refunded} (GET ${path})`)
  const disabled = await endpointDisabled(gateway, merchantId)
  if (disabled !== null) {
    console.log(`  ! ${merchantId}'s endpoint is disabled (${disabled}): its events wait as failed, \`npm run listen\` prints nothing`)
    console.log(`    until it is enabled and they are recovered (dashboard, or npm run admin -- endpoint enable ${merchantId})`)
  }
}

/** Why the merchant's endpoint is disabled, or null when it is not (or cannot be told). */
async function endpointDisabled(gateway, merchantId) {
  const forward = (await courtesyGet(gateway, `/admin/merchants/${merchantId}`))?.forward
  return forward?.disabled_at ? (forward.disabled_reason ?? 'disabled') : null
}

/** `{ order, path }` from GET …/orders/{no}, or null when it cannot be read. */
async function readOrder(gateway, merchantId, provider, outTradeNo) {
  const path = `/admin/merchants/${merchantId}/orders/${encodeURIComponent(outTradeNo)}?provider=${provider}`
  const order = await courtesyGet(gateway, path)
  return order === null ? null : { order, path }
}

/** An admin GET with the token of .dev.vars, its JSON or null on any failure: only ever a courtesy to the reader. */
async function courtesyGet(gateway, path) {
  try {
    const token = readDevVars().ADMIN_TOKEN
    if (!token) return null
    const response = await fetch(new URL(path, gateway), { headers: { authorization: `Bearer ${token}` } })
    return response.ok ? await response.json() : null
  } catch {
    return null
  }
}

function yuan(fen) {
  return `¥${fenToYuan(fen)} (${fen} fen)`
}

function shown(body) {
  if (body === '') return '(empty body)'
  const oneLine = body.replace(/\s*\n\s*/g, '')
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine
}

main()
  .then((code) => {
    process.exitCode = code
  })
  .catch((error) => {
    if (error instanceof UsageError) {
      console.error(`simulate: ${error.message}\n(npm run simulate -- --help lists the channels, events and options)`)
      process.exitCode = 2
    } else if (error instanceof SimulationError || error instanceof DemoSetupError || error instanceof DevVarsError) {
      console.error(`simulate: ${error.message}`)
      process.exitCode = 2
    } else if (error?.cause?.code === 'ECONNREFUSED' || error?.message === 'fetch failed') {
      console.error(`simulate: cannot reach the gateway (${error.cause?.code ?? error.message}). Is \`npm run dev\` running?`)
      process.exitCode = 1
    } else {
      console.error(error)
      process.exitCode = 1
    }
  })

/** A registration the merchant's server makes (PUT of the admin API), printed as sent and as answered. */
async function adminPut(gateway, token, path, body) {
  console.log(`→ PUT ${new URL(path, gateway).href} ${JSON.stringify(body)}`)
  const response = await fetch(new URL(path, gateway), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  console.log(`← ${response.status} ${shown(await response.text())}`)
  return response
}
