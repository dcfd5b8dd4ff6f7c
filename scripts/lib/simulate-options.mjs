// The command line of `npm run simulate`, parsed into builder options. Separate from scripts/simulate.mjs so the
// tests can check that every `npm run simulate -- …` line in README.md still parses and builds.
import { parseArgs } from 'node:util'
import {
  CHANNELS,
  DEFAULT_AMOUNT_FEN,
  EVENTS,
  fenToYuan,
  PROVIDER_OF,
  SimulationError,
  V2_SIGN_TYPES,
  V3_SIGNERS,
  yuanToFen,
} from './build-notification.mjs'
import { DEMO_MERCHANT_ID, DEMO_PARTNER, DEMO_SUB_MERCHANT_ID, gatewayUrl } from './demo.mjs'

export const USAGE = `Usage: npm run simulate -- <channel> <event> [options]
       npm run simulate -- sync [<order>] [--provider <p>] [--partner]

  channel   wechatpay.v2 | wechatpay.v3 | alipay
  event     payment   a successful payment (a new order unless --order)
            refund    a refund of the last order simulate paid on that provider (or --order);
                      half the order by default, the rest the next time
            close     an unpaid order closed (Alipay TRADE_CLOSED; WeChat Pay sends no such notification)
            transfer  wechatpay.v3 only: a transfer to a user finished (MCHTRANSFER.BILL.FINISHED),
                      forwarded as provider.notification
            combined  WeChat Pay only: a combined payment (合单支付): one notification paying two new
                      orders (<order>-1 and <order>-2), forwarded as one payment.succeeded each
  sync      ask the gateway to query the provider about an order now (POST …/orders/{no}/sync);
            default: the last order paid or refunded with --no-notify; a wechatpay.v3 combined
            payment's sub-order is asked about through WeChat Pay's combined query

Options
  --no-notify           payment: the buyer pays but the notification is lost. Registers the order with the
                        gateway, tells the provider stand-in it is paid, sends nothing: the gateway's order
                        query finds the payment (by itself after 2 minutes, or now with sync)
                        refund: the same for a refund: registered with the gateway, made at the stand-in,
                        found by the gateway's refund query
  --out-of-order        alipay refund: two partial refunds, the later one's notification first (Alipay's
                        refund_fee is a running total); the gateway holds it until its refund query (or a
                        registration) says each refund's own amount
  --amount <yuan>       payment: the order total (default ${fenToYuan(DEFAULT_AMOUNT_FEN)}); combined: each sub-order's;
                        refund: this refund
  --order <no>          the merchant order number (out_trade_no); combined: the combine's (combine_out_trade_no)
  --provider <p>        sync: wechatpay | alipay, for an order simulate does not know
  --repeat <n>          send the same notification n times, one after another (duplicates)
  --concurrent <n>      send n copies at once (with --repeat: n at once, repeated)
  --tamper              change a signed value after signing               → the gateway must reject it
  --wrong-key           sign with a key the demo merchant did not configure → rejected
  --stale               wechatpay.v3 only: a timestamp 10 minutes old       → rejected
  --partner             WeChat Pay: a notification for the demo sub-merchant (服务商 partner mode: sub_mchid
                        ${DEMO_PARTNER.subMchid}, merchant "${DEMO_SUB_MERCHANT_ID}"); with sync, an order of that merchant
  --appid <n>           sent by the demo merchant's n-th app (WeChat Pay: 1 official account, 2 mini program,
                        3 app; Alipay: 1 or 2); default 1
  --platform-key <k>    wechatpay.v3 signer: ${V3_SIGNERS.join(' | ')} (default public-key)
  --sign-type <t>       wechatpay.v2 payment sign: ${V2_SIGN_TYPES.join(' | ')} (default MD5)
  --show                print the request (headers and body) before sending it
  --gateway <url>       default http://localhost:8787, or the PORT of .dev.vars
  -h, --help

Examples
  npm run simulate -- alipay payment
  npm run simulate -- alipay payment --no-notify
  npm run simulate -- sync
  npm run simulate -- wechatpay.v3 payment --amount 0.01 --concurrent 5
  npm run simulate -- alipay refund --amount 10
  npm run simulate -- wechatpay.v3 payment --partner
  npm run simulate -- wechatpay.v2 payment --appid 2
  npm run simulate -- alipay refund --out-of-order
  npm run simulate -- wechatpay.v3 refund --no-notify
  npm run simulate -- wechatpay.v3 transfer
  npm run simulate -- wechatpay.v3 combined
  npm run simulate -- wechatpay.v2 combined --partner
  npm run simulate -- wechatpay.v2 payment --tamper`

const CHANNEL_ALIASES = { 'wechatpay/v2': 'wechatpay.v2', 'wechatpay/v3': 'wechatpay.v3' }
export const MAX_COPIES = 1000

/** A command line simulate cannot make sense of; the message says why. */
export class UsageError extends Error {
  name = 'UsageError'
}

/** What --no-notify leaves out: everything that shapes or repeats a notification. */
const NOTIFICATION_OPTIONS = ['repeat', 'concurrent', 'tamper', 'wrong-key', 'stale', 'platform-key', 'sign-type', 'appid', 'show']
const PROVIDERS = ['wechatpay', 'alipay']

/**
 * `args` (what follows `npm run simulate --`) → `{ help }`, `{ sync: true, outTradeNo, provider, gateway }` or
 * `{ channel, event, noNotify, repeat, concurrent, gateway, show, build }`, where `build` holds the
 * buildNotification options the command line sets. Throws `UsageError`.
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
        'no-notify': { type: 'boolean', default: false },
        'out-of-order': { type: 'boolean', default: false },
        provider: { type: 'string' },
        repeat: { type: 'string', default: '1' },
        concurrent: { type: 'string', default: '1' },
        tamper: { type: 'boolean', default: false },
        'wrong-key': { type: 'boolean', default: false },
        stale: { type: 'boolean', default: false },
        'platform-key': { type: 'string' },
        'sign-type': { type: 'string' },
        show: { type: 'boolean', default: false },
        partner: { type: 'boolean', default: false },
        appid: { type: 'string' },
        gateway: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    throw new UsageError(error.message)
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true }
  // --gateway overrides .dev.vars: its PORT is read only without the option.
  const gateway = values.gateway === undefined ? new URL(gatewayUrl()) : gatewayOption(values.gateway)
  if (positionals[0] === 'sync') return parseSync(values, positionals, args, gateway)
  if (values.provider !== undefined) throw new UsageError('--provider applies to sync only (a channel names the provider)')
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
    if (amount === null)
      throw new UsageError(`--amount ${values.amount}: a positive amount in yuan, at most two decimals (e.g. 0.01, 88.88)`)
  }
  if (values.partner && PROVIDER_OF[channel] !== 'wechatpay') {
    throw new UsageError("--partner is WeChat Pay's service-provider mode: use wechatpay.v2 or wechatpay.v3")
  }
  if (values.partner && event === 'transfer') {
    throw new UsageError("--partner does not apply to transfer: transfers are the service provider's own, not a sub-merchant's")
  }
  let appIndex
  if (values.appid !== undefined) {
    if (!/^[1-9]\d{0,1}$/.test(values.appid))
      throw new UsageError(`--appid ${values.appid}: the number of one of the demo merchant's apps (1, 2, …)`)
    appIndex = Number(values.appid)
  }
  const noNotify = values['no-notify']
  const given = (name) => args.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))
  if (noNotify) {
    if (event !== 'payment' && event !== 'refund') {
      throw new UsageError(`--no-notify applies to payment and refund only: a lost ${event} notification is not simulated`)
    }
    const extra = [...NOTIFICATION_OPTIONS, 'out-of-order'].find(given)
    if (extra !== undefined) throw new UsageError(`--no-notify sends no notification, so --${extra} does not apply`)
  }
  const outOfOrder = values['out-of-order']
  if (outOfOrder) {
    if (channel !== 'alipay' || event !== 'refund') {
      throw new UsageError(
        '--out-of-order applies to alipay refund: Alipay reports a running refund_fee, WeChat Pay each refund’s own amount',
      )
    }
    const extra = ['repeat', 'concurrent', 'tamper', 'wrong-key', 'stale'].find(given)
    if (extra !== undefined) throw new UsageError(`--out-of-order sends two genuine refunds, so --${extra} does not apply`)
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
    ...(values.partner ? { partner: true } : {}),
    ...(appIndex === undefined ? {} : { appIndex }),
  }
  const merchantId = values.partner ? DEMO_SUB_MERCHANT_ID : DEMO_MERCHANT_ID
  return {
    help: false,
    sync: false,
    channel,
    event,
    noNotify,
    outOfOrder,
    repeat,
    concurrent,
    gateway,
    show: values.show,
    build,
    merchantId,
  }
}

function gatewayOption(value) {
  try {
    return new URL(value)
  } catch {
    throw new UsageError(`--gateway ${value}: not a URL`)
  }
}

function parseSync(values, positionals, args, gateway) {
  if (positionals.length > 2) throw new UsageError('sync takes at most one order number')
  const other = Object.keys(values).find(
    (name) =>
      !['provider', 'gateway', 'help', 'partner'].includes(name) && args.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)),
  )
  if (other !== undefined) throw new UsageError(`--${other} does not apply to sync`)
  const provider = values.provider === undefined ? null : (PROVIDER_OF[values.provider] ?? values.provider)
  if (provider !== null && !PROVIDERS.includes(provider))
    throw new UsageError(`--provider ${values.provider}: one of ${PROVIDERS.join(', ')}`)
  if (values.partner && provider === 'alipay') throw new UsageError("--partner is WeChat Pay's service-provider mode")
  return { help: false, sync: true, outTradeNo: positionals[1] ?? null, provider, gateway, partner: values.partner }
}

/** Where simulate remembers the last order of a provider: the sub-merchant's apart from the demo merchant's. */
export function lastKey(provider, partner) {
  return partner ? `${provider}@${DEMO_SUB_MERCHANT_ID}` : provider
}

/**
 * The order a refund is for: `--order`, else the last order simulate paid on the channel's provider, as
 * remembered in `state` (readSimulatorState()). Throws `SimulationError` when there is nothing to refund.
 */
export function refundTarget(build, state) {
  const provider = PROVIDER_OF[build.channel]
  const outTradeNo = build.outTradeNo ?? state.last[lastKey(provider, build.partner)]
  if (outTradeNo === undefined) {
    const partner = build.partner ? ' --partner' : ''
    throw new SimulationError(
      `no ${provider} order to refund yet: run \`npm run simulate -- ${build.channel} payment${partner}\` first, or pass --order`,
    )
  }
  // An order paid with --no-notify can be refunded too, by naming it: the provider knows it was paid.
  const paid = state.orders[`${provider}:${outTradeNo}`] ?? state.paidWithoutNotify?.[`${provider}:${outTradeNo}`]
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

/**
 * The two refunds `--out-of-order` makes of `paid`: A then B, each `--amount` or else 30 % and 20 % of the order,
 * as buildNotification options (B's running total includes A). Throws `SimulationError` when they do not fit.
 */
export function outOfOrderRefunds(build, paid) {
  const remaining = paid.totalFen - paid.refundedFen
  const a = build.amount ?? Math.max(1, Math.floor(paid.totalFen * 0.3))
  const b = build.amount ?? Math.max(1, Math.floor(paid.totalFen * 0.2))
  if (a + b > remaining) {
    throw new SimulationError(
      `two refunds of ¥${fenToYuan(a)} and ¥${fenToYuan(b)} do not fit in the ¥${fenToYuan(remaining)} left to refund`,
    )
  }
  const common = { outTradeNo: paid.outTradeNo, transactionId: paid.transactionId, total: paid.totalFen }
  return [
    { ...common, refundedBefore: paid.refundedFen, amount: a },
    { ...common, refundedBefore: paid.refundedFen + a, amount: b },
  ]
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
