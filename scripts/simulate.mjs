// `npm run simulate -- <channel> <event> [options]`: sends a correctly signed (or deliberately hostile)
// provider notification for the demo merchant to a running gateway and prints the reply, like `stripe trigger`.
// Notifications are built by scripts/lib/build-notification.mjs with the fixture signers (test/fixtures/signers).
import { buildNotification, fenToYuan, isAcceptReply, PROVIDER_OF, SimulationError } from './lib/build-notification.mjs'
import { DEMO_MERCHANT_ID, DemoSetupError, loadDemo, readDevVars, readSimulatorState, writeSimulatorState } from './lib/demo.mjs'
import { parseSimulateArgs, refundOptions, refundTarget, USAGE, UsageError } from './lib/simulate-options.mjs'

async function main() {
  const command = parseSimulateArgs(process.argv.slice(2))
  if (command.help) {
    console.log(USAGE)
    return 0
  }
  return simulate(command)
}

async function simulate({ channel, event, repeat, concurrent, gateway, show, build }) {
  const { keys } = loadDemo()
  const provider = PROVIDER_OF[channel]
  const state = readSimulatorState()
  const hostile = build.tamper || build.wrongKey || build.stale
  const options = { ...build, keys, merchantId: DEMO_MERCHANT_ID }
  const paidOrder = event === 'refund' ? refundTarget(build, state) : null
  if (paidOrder !== null) Object.assign(options, refundOptions(build, paidOrder))

  const built = buildNotification(options)
  const url = new URL(built.path, gateway)
  const copies = repeat * concurrent
  console.log(`paygate simulate · ${channel} ${event}${built.hostile.length > 0 ? ` (${built.hostile.map((h) => `--${h}`).join(' ')})` : ''}`)
  console.log(`  order      ${built.order.outTradeNo}`)
  if (event === 'refund') {
    console.log(`  refund     ${yuan(built.order.amount)} of ${yuan(built.order.total)} · ${built.order.outRefundNo}`)
    console.log(`  refunded   ${yuan(built.order.refundedAfter)} in all after this one`)
  } else if (event === 'payment') {
    console.log(`  amount     ${yuan(built.order.amount)}`)
  }
  console.log(`  signed     ${built.description}`)
  if (show) {
    console.log('\n  POST', built.path)
    for (const [name, value] of Object.entries(built.headers)) console.log(`  ${name}: ${value}`)
    console.log(`\n${built.body}\n`)
  }
  const how = copies === 1 ? '' : concurrent === 1 ? ` ×${repeat}, one after another` : repeat === 1 ? ` ×${concurrent}, at once` : ` ×${copies} (${repeat} rounds of ${concurrent} at once)`
  console.log(`→ POST ${url.href}${how}`)

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
      console.log(`✓ rejected${copies === 1 ? '' : ` (${copies}/${copies})`}, as it must be: nothing is forwarded, and the provider would retry a genuine one`)
      return 0
    }
    console.log(`✗ the gateway accepted ${accepted} of ${copies} hostile notifications: that is a bug`)
    return 1
  }
  if (accepted !== copies) {
    console.log(`✗ ${copies - accepted} of ${copies} replies were not the ${channel} accept reply`)
    return 1
  }

  if (event === 'payment') {
    // Paying an order again changes nothing at the gateway, so an order simulate knows keeps its facts.
    const known = state.orders[`${provider}:${built.order.outTradeNo}`]
    state.orders[`${provider}:${built.order.outTradeNo}`] = {
      channel,
      outTradeNo: built.order.outTradeNo,
      totalFen: known?.totalFen ?? built.order.amount,
      transactionId: known?.transactionId ?? built.order.transactionId,
      refundedFen: known?.refundedFen ?? 0,
      updatedAt: Date.now(),
    }
    state.last[provider] = built.order.outTradeNo
  } else if (event === 'refund') {
    state.orders[`${provider}:${built.order.outTradeNo}`] = { ...paidOrder, refundedFen: built.order.refundedAfter, updatedAt: Date.now() }
  }
  writeSimulatorState(state)

  const expected = { payment: 'payment.succeeded', refund: 'refund.succeeded', close: 'payment.closed' }[event]
  console.log(
    copies === 1
      ? `✓ accepted: \`npm run listen\` prints ${expected} for ${built.order.outTradeNo}`
      : `✓ ${copies}/${copies} accepted: one state change however often it arrives, so \`npm run listen\` prints one ${expected}`,
  )
  await printOrderStatus(gateway, provider, built.order.outTradeNo)
  return 0
}

async function post(url, built) {
  const response = await fetch(url, { method: 'POST', headers: built.headers, body: built.body })
  return { status: response.status, body: await response.text() }
}

/** The order as the gateway now sees it (admin API, token from .dev.vars): read-your-writes, right after the reply. */
async function printOrderStatus(gateway, provider, outTradeNo) {
  let token
  try {
    token = readDevVars().ADMIN_TOKEN
  } catch {
    return
  }
  if (!token) return
  const path = `/admin/merchants/${DEMO_MERCHANT_ID}/orders/${encodeURIComponent(outTradeNo)}?provider=${provider}`
  try {
    const response = await fetch(new URL(path, gateway), { headers: { authorization: `Bearer ${token}` } })
    if (!response.ok) return
    const order = await response.json()
    const refunded = order.refunded_amount > 0 ? `, ${yuan(order.refunded_amount)} refunded` : ''
    console.log(`  gateway    order ${order.status}${order.amount === null ? '' : `, ${yuan(order.amount)}`}${refunded} (GET ${path})`)
  } catch {
    // Only a courtesy: the reply above is what matters.
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
      console.error(`simulate: ${error.message}\n\n${USAGE}`)
      process.exitCode = 2
    } else if (error instanceof SimulationError || error instanceof DemoSetupError) {
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
