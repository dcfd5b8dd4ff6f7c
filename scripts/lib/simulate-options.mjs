// The command line of `npm run simulate`, parsed into builder options. Separate from scripts/simulate.mjs so the
// tests can check that every `npm run simulate -- …` line in README.md still parses and builds.
import { parseArgs } from 'node:util'
import { CHANNELS, DEFAULT_AMOUNT_FEN, EVENTS, fenToYuan, PROVIDER_OF, SimulationError, V2_SIGN_TYPES, V3_SIGNERS, yuanToFen } from './build-notification.mjs'
import { GATEWAY_URL } from './demo.mjs'

export const USAGE = `Usage: npm run simulate -- <channel> <event> [options]

  channel   wechatpay.v2 | wechatpay.v3 | alipay
  event     payment   a successful payment (a new order unless --order)
            refund    a refund of the last order simulate paid on that provider (or --order);
                      half the order by default, the rest the next time
            close     an unpaid order closed (Alipay TRADE_CLOSED; WeChat Pay sends no such notification)

Options
  --amount <yuan>       payment: the order total (default ${fenToYuan(DEFAULT_AMOUNT_FEN)}); refund: this refund
  --order <no>          the merchant order number (out_trade_no)
  --repeat <n>          send the same notification n times, one after another (duplicates)
  --concurrent <n>      send n copies at once (with --repeat: n at once, repeated)
  --tamper              change a signed value after signing               → the gateway must reject it
  --wrong-key           sign with a key the demo merchant did not configure → rejected
  --stale               wechatpay.v3 only: a timestamp 10 minutes old       → rejected
  --platform-key <k>    wechatpay.v3 signer: ${V3_SIGNERS.join(' | ')} (default public-key)
  --sign-type <t>       wechatpay.v2 payment sign: ${V2_SIGN_TYPES.join(' | ')} (default MD5)
  --show                print the request (headers and body) before sending it
  --gateway <url>       default ${GATEWAY_URL}
  -h, --help

Examples
  npm run simulate -- alipay payment
  npm run simulate -- wechatpay.v3 payment --amount 0.01 --concurrent 5
  npm run simulate -- alipay refund --amount 10
  npm run simulate -- wechatpay.v2 payment --tamper`

const CHANNEL_ALIASES = { 'wechatpay/v2': 'wechatpay.v2', 'wechatpay/v3': 'wechatpay.v3' }
export const MAX_COPIES = 1000

/** A command line simulate cannot make sense of; the message says why. */
export class UsageError extends Error {
  name = 'UsageError'
}

/**
 * `args` (what follows `npm run simulate --`) → `{ help }` or `{ channel, event, repeat, concurrent, gateway, show,
 * build }`, where `build` holds the buildNotification options the command line sets. Throws `UsageError`.
 */
export function parseSimulateArgs(args) {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        amount: { type: 'string' },
        order: { type: 'string' },
        repeat: { type: 'string', default: '1' },
        concurrent: { type: 'string', default: '1' },
        tamper: { type: 'boolean', default: false },
        'wrong-key': { type: 'boolean', default: false },
        stale: { type: 'boolean', default: false },
        'platform-key': { type: 'string' },
        'sign-type': { type: 'string' },
        show: { type: 'boolean', default: false },
        gateway: { type: 'string', default: GATEWAY_URL },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    throw new UsageError(error.message)
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true }
  if (positionals.length !== 2) throw new UsageError('expected a channel and an event')
  const channel = CHANNEL_ALIASES[positionals[0]] ?? positionals[0]
  const event = positionals[1]
  if (!CHANNELS.includes(channel)) throw new UsageError(`unknown channel "${positionals[0]}": one of ${CHANNELS.join(', ')}`)
  if (!EVENTS.includes(event)) throw new UsageError(`unknown event "${event}": one of ${EVENTS.join(', ')}`)
  const repeat = count(values.repeat, '--repeat')
  const concurrent = count(values.concurrent, '--concurrent')
  if (repeat * concurrent > MAX_COPIES) throw new UsageError(`at most ${MAX_COPIES} copies in all`)
  let amount
  if (values.amount !== undefined) {
    amount = yuanToFen(values.amount)
    if (amount === null) throw new UsageError(`--amount ${values.amount}: a positive amount in yuan, at most two decimals (e.g. 0.01, 88.88)`)
  }
  let gateway
  try {
    gateway = new URL(values.gateway)
  } catch {
    throw new UsageError(`--gateway ${values.gateway}: not a URL`)
  }
  const build = {
    channel,
    event,
    tamper: values.tamper,
    wrongKey: values['wrong-key'],
    stale: values.stale,
    ...(values['platform-key'] === undefined ? {} : { v3Signer: values['platform-key'] }),
    ...(values['sign-type'] === undefined ? {} : { v2SignType: values['sign-type'] }),
    ...(values.order === undefined ? {} : { outTradeNo: values.order }),
    ...(amount === undefined ? {} : { amount }),
  }
  return { help: false, channel, event, repeat, concurrent, gateway, show: values.show, build }
}

/**
 * The order a refund is for: `--order`, else the last order simulate paid on the channel's provider, as
 * remembered in `state` (readSimulatorState()). Throws `SimulationError` when there is nothing to refund.
 */
export function refundTarget(build, state) {
  const provider = PROVIDER_OF[build.channel]
  const outTradeNo = build.outTradeNo ?? state.last[provider]
  if (outTradeNo === undefined) {
    throw new SimulationError(`no ${provider} order to refund yet: run \`npm run simulate -- ${build.channel} payment\` first, or pass --order`)
  }
  const paid = state.orders[`${provider}:${outTradeNo}`]
  if (paid === undefined) {
    throw new SimulationError(
      `simulate has not paid ${provider} order ${outTradeNo}, so it does not know its total: ` +
        `run \`npm run simulate -- ${build.channel} payment --order ${outTradeNo}\` first`,
    )
  }
  if (paid.totalFen - paid.refundedFen === 0) {
    throw new SimulationError(`order ${outTradeNo} is fully refunded already (¥${fenToYuan(paid.totalFen)})`)
  }
  return paid
}

/** buildNotification options for a refund of `paid`: `--amount`, else half the order (partial), else what is left. */
export function refundOptions(build, paid) {
  const remaining = paid.totalFen - paid.refundedFen
  return {
    outTradeNo: paid.outTradeNo,
    transactionId: paid.transactionId,
    total: paid.totalFen,
    refundedBefore: paid.refundedFen,
    amount: build.amount ?? Math.min(remaining, Math.max(1, Math.floor(paid.totalFen / 2))),
  }
}

function count(text, name) {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1) throw new UsageError(`${name} ${text}: a whole number ≥ 1`)
  return Number(text)
}
