/**
 * @module Every CLI command: its words, the arguments and options it takes, the usage line `--help` prints, and what
 * it runs. One table, so an option or argument a command does not take is refused (exit 2) rather than ignored.
 */
import type { AdminClient } from './client.ts'
import { notificationsList, ordersGet, refundsPut, stats, type Options, type Output, type Progress } from './commands.ts'
import { endpoint, merchantsGet, merchantsList, merchantsPatch, merchantsPut, testEvent } from './commands-merchants.ts'
import { projectionStatus, redriveProjection, resealAll, scheduleRetention } from './commands-operations.ts'
import { deliveriesGet, deliveriesList, deliveriesRecover, deliveriesReplay } from './commands-deliveries.ts'

/** The options of every command; each command takes some of them (and `--json`, `--help`). */
export const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  file: { type: 'string' },
  key: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  unset: { type: 'string', multiple: true },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  status: { type: 'string' },
  type: { type: 'string' },
  order: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  interval: { type: 'string' },
  provider: { type: 'string' },
  amount: { type: 'string' },
  verdict: { type: 'string' },
  reason: { type: 'string' },
} as const

export type OptionName = Exclude<keyof typeof OPTIONS, 'json' | 'help'>

export interface Invocation {
  client: AdminClient
  /** The command's arguments, in the order of `args` then `optionalArgs`. */
  args: readonly string[]
  options: Options
  progress: Progress
}

export interface CommandSpec {
  /** The usage line(s), after `npm run admin -- `. */
  usage: string
  args: readonly string[]
  optionalArgs?: readonly string[]
  options: readonly OptionName[]
  run(invocation: Invocation): Promise<Output>
}

const PAGE: readonly OptionName[] = ['limit', 'cursor']
const WINDOW: readonly OptionName[] = ['since', 'until']
const BODY: readonly OptionName[] = ['file', 'key', 'set', 'unset']

/** In the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  'merchants list': {
    usage: 'merchants list [--limit N] [--cursor C] [--all]',
    args: [],
    options: [...PAGE, 'all'],
    run: ({ client, options }) => merchantsList(client, options),
  },
  'merchants get': {
    usage: 'merchants get <merchantId>',
    args: ['merchantId'],
    options: [],
    run: ({ client, args }) => merchantsGet(client, args[0]!),
  },
  'merchants put': {
    usage: 'merchants put <merchantId> --file body.json [--key wechatpay.merchantPrivateKey=@apiclient_key.pem …] [--set name=value]',
    args: ['merchantId'],
    // A whole body: nothing to unset.
    options: ['file', 'key', 'set'],
    run: ({ client, args, options }) => merchantsPut(client, args[0]!, options),
  },
  'merchants patch': {
    usage: 'merchants patch <merchantId> [--file patch.json] [--set forward.url=https://…] [--key name=@file] [--unset name]',
    args: ['merchantId'],
    options: BODY,
    run: ({ client, args, options }) => merchantsPatch(client, args[0]!, options),
  },
  'endpoint disable': {
    usage: 'endpoint disable <merchantId>',
    args: ['merchantId'],
    options: [],
    run: ({ client, args }) => endpoint(client, 'disable', args[0]!),
  },
  'endpoint enable': {
    usage: 'endpoint enable <merchantId>           (sends nothing by itself: deliveries recover does)',
    args: ['merchantId'],
    options: [],
    run: ({ client, args }) => endpoint(client, 'enable', args[0]!),
  },
  'test-event': {
    usage: 'test-event <merchantId>                (exit code 1 when it was not delivered)',
    args: ['merchantId'],
    options: [],
    run: ({ client, args }) => testEvent(client, args[0]!),
  },
  'orders get': {
    usage: 'orders get <merchantId> <outTradeNo> [--provider wechatpay|alipay]',
    args: ['merchantId', 'outTradeNo'],
    options: ['provider'],
    run: ({ client, args, options }) => ordersGet(client, args[0]!, args[1]!, options),
  },
  'refunds put': {
    usage: 'refunds put <merchantId> <outTradeNo> <outRefundNo> --amount <fen>',
    args: ['merchantId', 'outTradeNo', 'outRefundNo'],
    options: ['amount'],
    run: ({ client, args, options }) => refundsPut(client, { merchantId: args[0]!, outTradeNo: args[1]!, outRefundNo: args[2]! }, options),
  },
  'deliveries list': {
    usage: 'deliveries list <merchantId> [--status S] [--type T] [--order NO] [--since ISO] [--until ISO] [--limit N] [--cursor C] [--all]',
    args: ['merchantId'],
    options: ['status', 'type', 'order', ...WINDOW, ...PAGE, 'all'],
    run: ({ client, args, options }) => deliveriesList(client, args[0]!, options),
  },
  'deliveries get': {
    usage: 'deliveries get <deliveryId>',
    args: ['deliveryId'],
    options: [],
    run: ({ client, args }) => deliveriesGet(client, args[0]!),
  },
  'deliveries replay': {
    usage: 'deliveries replay <deliveryId>',
    args: ['deliveryId'],
    options: [],
    run: ({ client, args }) => deliveriesReplay(client, args[0]!),
  },
  'deliveries recover': {
    usage: 'deliveries recover <merchantId> --since ISO [--until ISO]   (every failed delivery of the window)',
    args: ['merchantId'],
    options: WINDOW,
    run: ({ client, args, options, progress }) => deliveriesRecover(client, args[0]!, options, progress),
  },
  'notifications list': {
    usage:
      'notifications list <merchantId> [--order NO] [--verdict V] [--reason R] [--since ISO] [--until ISO] [--limit N] [--cursor C] [--all]\n' +
      "      (an order's accepted and duplicate notifications are listed with --order; without it, refusals and notifications about no order)",
    args: ['merchantId'],
    options: ['order', 'verdict', 'reason', ...WINDOW, ...PAGE, 'all'],
    run: ({ client, args, options }) => notificationsList(client, args[0]!, options),
  },
  stats: {
    usage: 'stats <merchantId> [--since ISO] [--until ISO] [--interval minute|hour|day]',
    args: ['merchantId'],
    options: [...WINDOW, 'interval'],
    run: ({ client, args, options }) => stats(client, args[0]!, options),
  },
  reseal: {
    usage: "reseal                                 (every merchant's secrets under the current MASTER_KEY)",
    args: [],
    options: [],
    run: ({ client, progress }) => resealAll(client, progress),
  },
  'projection status': {
    usage: 'projection status',
    args: [],
    options: [],
    run: ({ client }) => projectionStatus(client),
  },
  'projection redrive': {
    usage: 'projection redrive',
    args: [],
    options: [],
    run: ({ client, progress }) => redriveProjection(client, progress),
  },
  retention: {
    usage: 'retention [merchantId]                 (after upgrading or shortening ORDER_RETENTION_DAYS; every merchant when none is named)',
    args: [],
    optionalArgs: ['merchantId'],
    options: [],
    run: ({ client, args, progress }) => scheduleRetention(client, args[0], progress),
  },
}
