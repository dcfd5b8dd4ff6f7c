/**
 * @module `npm run admin -- <command>`: the admin API from a terminal, on the client typed by its OpenAPI document.
 * Readable tables by default, `--json` for scripts (the API's replies, unchanged). PAYGATE_URL and
 * PAYGATE_ADMIN_TOKEN say which gateway; without them, the local dev gateway (`npm run dev`).
 */
import { parseArgs } from 'node:util'
import { UsageError } from './body.ts'
import { ApiError, createAdminClient } from './client.ts'
import {
  endpoint,
  merchantsGet,
  merchantsList,
  merchantsPatch,
  merchantsPut,
  notificationsList,
  ordersGet,
  refundsPut,
  projectionStatus,
  redriveProjection,
  resealAll,
  scheduleRetention,
  stats,
  testEvent,
  type Options,
  type Output,
} from './commands.ts'
import { deliveriesGet, deliveriesList, deliveriesRecover, deliveriesReplay } from './commands-deliveries.ts'
import { ConfigError, readConfig } from './config.ts'

const USAGE = `npm run admin -- <command> [options]

  merchants list [--limit N] [--cursor C] [--all]
  merchants get <merchantId>
  merchants put <merchantId> --file body.json [--key wechatpay.merchantPrivateKey=@apiclient_key.pem …]
  merchants patch <merchantId> [--file patch.json] [--set forward.url=https://…] [--key name=@file] [--unset name]
  endpoint disable|enable <merchantId>
  test-event <merchantId>          (exit code 1 when it was not delivered)
  orders get <merchantId> <outTradeNo> [--provider wechatpay|alipay]
  refunds put <merchantId> <outTradeNo> <outRefundNo> --amount <fen>
  deliveries list <merchantId> [--status S] [--type T] [--order NO] [--since ISO] [--until ISO] [--limit N] [--cursor C]
  deliveries get <deliveryId>
  deliveries replay <deliveryId>
  deliveries recover <merchantId> --since ISO [--until ISO]
  notifications list <merchantId> [--order NO] [--verdict V] [--reason R] [--since ISO] [--until ISO] [--limit N] [--cursor C]
  stats <merchantId> [--since ISO] [--until ISO] [--interval minute|hour|day]
  reseal
  projection status
  projection redrive
  retention [merchantId]           (after upgrading or shortening ORDER_RETENTION_DAYS; every merchant when none is named)

  --json   print the API's JSON replies instead of tables
  PAYGATE_URL (default http://localhost:8787, or the PORT of .dev.vars), PAYGATE_ADMIN_TOKEN (default: ADMIN_TOKEN from .dev.vars, locally)
  --key name=@file reads a file (PEM keys) into a dotted field of the body; --set name=value sets a text value.`

const OPTIONS = {
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

function arg(positionals: readonly string[], index: number, what: string): string {
  const value = positionals[index]
  if (value === undefined) throw new UsageError(`missing <${what}>`)
  return value
}

async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  const options = values as Options & { json?: boolean; help?: boolean }
  if (options.help === true || positionals.length === 0) {
    console.log(USAGE)
    return positionals.length === 0 && options.help !== true ? 2 : 0
  }
  const config = readConfig()
  const client = createAdminClient(config)
  const progress = (line: string): void => void process.stderr.write(`${line}\n`)
  const [group, action] = positionals
  const command = `${group} ${action ?? ''}`.trim()
  let output: Output
  switch (command) {
    case 'merchants list':
      output = await merchantsList(client, options)
      break
    case 'merchants get':
      output = await merchantsGet(client, arg(positionals, 2, 'merchantId'))
      break
    case 'merchants put':
      output = await merchantsPut(client, arg(positionals, 2, 'merchantId'), options)
      break
    case 'merchants patch':
      output = await merchantsPatch(client, arg(positionals, 2, 'merchantId'), options)
      break
    case 'endpoint disable':
    case 'endpoint enable':
      output = await endpoint(client, action!, arg(positionals, 2, 'merchantId'))
      break
    case 'orders get':
      output = await ordersGet(client, arg(positionals, 2, 'merchantId'), arg(positionals, 3, 'outTradeNo'), options)
      break
    case 'refunds put':
      output = await refundsPut(
        client,
        {
          merchantId: arg(positionals, 2, 'merchantId'),
          outTradeNo: arg(positionals, 3, 'outTradeNo'),
          outRefundNo: arg(positionals, 4, 'outRefundNo'),
        },
        options,
      )
      break
    case 'deliveries list':
      output = await deliveriesList(client, arg(positionals, 2, 'merchantId'), options)
      break
    case 'deliveries get':
      output = await deliveriesGet(client, arg(positionals, 2, 'deliveryId'))
      break
    case 'deliveries replay':
      output = await deliveriesReplay(client, arg(positionals, 2, 'deliveryId'))
      break
    case 'deliveries recover':
      output = await deliveriesRecover(client, arg(positionals, 2, 'merchantId'), options, progress)
      break
    case 'projection status':
      output = await projectionStatus(client)
      break
    case 'projection redrive':
      output = await redriveProjection(client, progress)
      break
    case 'notifications list':
      output = await notificationsList(client, arg(positionals, 2, 'merchantId'), options)
      break
    default:
      // One-word commands take their first argument where a two-word command has its action.
      if (group === 'stats') output = await stats(client, arg(positionals, 1, 'merchantId'), options)
      else if (group === 'test-event') output = await testEvent(client, arg(positionals, 1, 'merchantId'))
      else if (group === 'reseal') output = await resealAll(client, progress)
      else if (group === 'retention') output = await scheduleRetention(client, positionals[1], progress)
      else throw new UsageError(`unknown command: ${command}`)
  }
  console.log(options.json === true ? JSON.stringify(output.json, null, 2) : output.text)
  return output.exitCode ?? 0
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  try {
    process.exitCode = await run(process.argv.slice(2))
  } catch (error) {
    if (error instanceof ApiError) {
      if (json) console.log(JSON.stringify({ error: { code: error.code, message: error.message }, status: error.status }, null, 2))
      else console.error(`error: ${error.status} ${error.code}: ${error.message}`)
      process.exitCode = 1
    } else if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      // The message first and alone: the commands are one `--help` away, not fifty lines below it.
      console.error(`error: ${(error as Error).message}\n(npm run admin -- --help lists the commands and options)`)
      process.exitCode = 2
    } else if (error instanceof TypeError && /fetch failed/.test(error.message)) {
      console.error(`error: cannot reach the gateway (${readConfigUrl()}): is it running?`)
      process.exitCode = 1
    } else {
      throw error
    }
  }
}

function readConfigUrl(): string {
  try {
    return readConfig().url
  } catch {
    return 'PAYGATE_URL'
  }
}

await main()
