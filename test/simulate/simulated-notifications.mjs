// Builds, with the simulator's own builder (scripts/lib/build-notification.mjs), every notification
// `npm run simulate` can send, signed afresh with the fixture keys, and prints them as JSON on stdout for
// test/simulate/global-setup.mjs. Run by Node itself: the signers need node:crypto, iconv-lite and
// wechatpay-axios-plugin as Node resolves them (Vite, with the Workers conditions, picks browser builds).
import { readFileSync, writeSync } from 'node:fs'
import {
  buildNotification,
  CHANNELS,
  EVENTS,
  PROVIDER_OF,
  SimulationError,
  V2_SIGN_TYPES,
  V3_SIGNERS,
} from '../../scripts/lib/build-notification.mjs'
import { demoApps, demoMerchantBody, demoSubMerchantBody } from '../../scripts/lib/demo.mjs'
import { outOfOrderRefunds, parseSimulateArgs, refundOptions } from '../../scripts/lib/simulate-options.mjs'
import { recordNotifiedPayments } from '../../scripts/lib/simulator-orders.mjs'

const FORWARD = {
  url: 'https://merchant.example/simulated-demo/webhooks',
  secret: `whsec_${Buffer.from('simulate-test-forward-secret-32b').toString('base64')}`,
}
const HOSTILE = [{ tamper: true }, { wrongKey: true }, { stale: true }]

function simulatedNotifications() {
  const keys = JSON.parse(readFileSync(new URL('../fixtures/keys.json', import.meta.url), 'utf8'))
  const now = Date.now()
  const build = (options) => buildNotification({ keys, merchantId: 'simulated', now, ...options })
  let sequence = 0
  const order = (channel) => `SIM-${channel.replace('.', '')}-${now}-${++sequence}`

  /**
   * Per channel: what `simulate` sends for payment, a partial then a full refund, close, transfer, combined, and each
   * hostile variant.
   */
  const channels = {}
  const refusals = []
  for (const channel of CHANNELS) {
    const paid = order(channel)
    const payment = build({ channel, event: 'payment', outTradeNo: paid, amount: 8888 })
    // Its refunds name its transaction, as WeChat's and Alipay's do (and `simulate refund` for the last order).
    const refundOf = { outTradeNo: paid, transactionId: payment.order.transactionId, amount: 4444, total: 8888 }
    const flow = {
      provider: PROVIDER_OF[channel],
      payment,
      partialRefund: build({ channel, event: 'refund', ...refundOf, refundedBefore: 0 }),
      fullRefund: build({ channel, event: 'refund', ...refundOf, refundedBefore: 4444 }),
      // What --repeat / --concurrent send: the same bytes again and again.
      duplicated: build({ channel, event: 'payment', outTradeNo: order(channel) }),
      close: null,
      transfer: null,
      combined: null,
      signers: [],
      hostile: [],
    }
    for (const event of EVENTS) {
      for (const variant of [{}, ...HOSTILE]) {
        try {
          const built = build({ channel, event, outTradeNo: order(channel), amount: 1234, total: 2468, ...variant })
          if (Object.keys(variant).length > 0) flow.hostile.push(built)
          else if (event === 'close') flow.close = built
          else if (event === 'transfer') flow.transfer = built
          else if (event === 'combined') flow.combined = built
        } catch (error) {
          if (!(error instanceof SimulationError)) throw error
          refusals.push({ channel, event, variant: Object.keys(variant)[0] ?? null, message: error.message })
        }
      }
    }
    if (channel === 'wechatpay.v3') {
      for (const v3Signer of V3_SIGNERS) flow.signers.push(build({ channel, event: 'payment', outTradeNo: order(channel), v3Signer }))
    }
    if (channel === 'wechatpay.v2') {
      for (const v2SignType of V2_SIGN_TYPES)
        flow.signers.push(build({ channel, event: 'payment', outTradeNo: order(channel), v2SignType }))
    }
    channels[channel] = flow
  }

  // --partner: the demo sub-merchant's notifications (posted to its own merchant, `simulated-sub`); --appid: each app.
  const partner = {}
  for (const channel of ['wechatpay.v2', 'wechatpay.v3']) {
    const paid = order(channel)
    const sub = { merchantId: 'simulated-sub', partner: true }
    const payment = build({ channel, event: 'payment', outTradeNo: paid, amount: 8888, ...sub })
    // The refund of that payment names its transaction, as `simulate refund` does for the last order.
    const { transactionId } = payment.order
    partner[channel] = {
      payment,
      refund: build({ channel, event: 'refund', outTradeNo: paid, transactionId, amount: 4444, total: 8888, refundedBefore: 0, ...sub }),
      combined: build({ channel, event: 'combined', outTradeNo: order(channel), amount: 1234, ...sub }),
    }
  }
  const apps = CHANNELS.flatMap((channel) =>
    demoApps(keys)[PROVIDER_OF[channel]].map((_, index) =>
      build({ channel, event: 'payment', outTradeNo: order(channel), appIndex: index + 1 }),
    ),
  )
  const setupRefusals = []
  for (const [channel, options] of [
    ['alipay', { partner: true }],
    ['wechatpay.v2', { appIndex: 4 }],
    ['alipay', { appIndex: 3 }],
  ]) {
    try {
      build({ channel, event: 'payment', ...options })
    } catch (error) {
      if (!(error instanceof SimulationError)) throw error
      setupRefusals.push({ channel, variant: Object.keys(options)[0], message: error.message })
    }
  }

  // What `alipay refund --out-of-order` sends for a paid ¥88.88 order, for the merchant that can query its refunds.
  const paid = { outTradeNo: `SIM-OOO-${now}`, transactionId: `${now}22001400000001`, totalFen: 8888, refundedFen: 0 }
  const ooo = (options) => buildNotification({ keys, merchantId: 'simulated-query', now, channel: 'alipay', ...options })
  const [a, b] = outOfOrderRefunds({ channel: 'alipay', event: 'refund' }, paid)
  const outOfOrder = {
    payment: ooo({ event: 'payment', outTradeNo: paid.outTradeNo, transactionId: paid.transactionId, amount: 8888 }),
    refundA: ooo({ event: 'refund', ...a, outRefundNo: `RF-OOO-A-${now}` }),
    refundB: ooo({ event: 'refund', ...b, outRefundNo: `RF-OOO-B-${now}` }),
  }

  // What simulate records once the WeChat Pay v3 combined payments (direct and --partner) are accepted: the orders
  // the provider stand-in (test/simulate/global-setup.mjs) then knows, each sub-order with its combine.
  const recorded = { orders: {}, last: {}, paidWithoutNotify: {}, lastWithoutNotify: null }
  for (const [combined, merchantId, isPartner] of [
    [channels['wechatpay.v3'].combined, 'simulated', false],
    [partner['wechatpay.v3'].combined, 'simulated-sub', true],
  ]) {
    const paid = combined.order.subOrders
    recordNotifiedPayments(recorded, {
      channel: 'wechatpay.v3',
      provider: 'wechatpay',
      merchantId,
      partner: isPartner,
      paid,
      combineOutTradeNo: combined.order.outTradeNo,
      now,
    })
  }

  return {
    signedAt: now,
    recorded,
    merchant: demoMerchantBody(keys, FORWARD),
    subMerchant: demoSubMerchantBody(keys, FORWARD),
    partner,
    apps,
    setupRefusals,
    forward: FORWARD,
    channels,
    outOfOrder,
    refusals,
    readme: readmeCommands((options) => build(options)),
  }
}

/**
 * The shell lines of README.md's code blocks: the `npm run` scripts they use, and each `npm run simulate -- …`
 * line parsed and built exactly as simulate.mjs would (a refund is of a paid ¥88.88 order); a `sync` line
 * sends no notification, so it only has to parse.
 */
function readmeCommands(build) {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const lines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => block[1].split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
  const scripts = [...new Set(lines.flatMap((line) => /^npm run ([\w:-]+)/.exec(line)?.[1] ?? []))]
  const simulate = lines
    .filter((line) => line.startsWith('npm run simulate -- '))
    .map((command) => {
      try {
        const parsed = parseSimulateArgs(command.slice('npm run simulate -- '.length).split(/\s+/))
        if (parsed.sync) return { command, expect: 'sync', error: null }
        const paid = { outTradeNo: 'README-1', transactionId: '4200000000202611250000000001', totalFen: 8888, refundedFen: 0 }
        const options = parsed.event === 'refund' ? { ...parsed.build, ...refundOptions(parsed.build, paid) } : parsed.build
        return { command, expect: build(options).expect, error: null }
      } catch (error) {
        return { command, expect: null, error: error.message }
      }
    })
  return { lines, scripts, simulate }
}

// A pipe may take less than the whole text per write: loop until all of it is out.
const output = Buffer.from(JSON.stringify(simulatedNotifications()))
for (let offset = 0; offset < output.length; ) offset += writeSync(1, output, offset)
