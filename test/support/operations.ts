/**
 * @module Helpers for the operations tests: time moved forward through the order objects' alarms (never waited for),
 * the merchant's endpoint and the ops endpoint as msw handlers that record what they receive, signed Alipay refunds.
 */
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { vi } from 'vitest'
import worker from '../../src/index'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { monitorStub } from '../../src/ops/monitor'
import type { DeliveryRunReport } from '../../src/ops/types'
import { network, OPS_URL } from '../msw'
import { alipayForm, alipayPaymentParams, signAlipay, type SignedNotify } from '../security/signing'
import { deliveryRows, type DeliveryRowView } from './orders'

export interface Received {
  id: string
  timestamp: string
  signature: string
  body: string
  type: string
  data: Record<string, unknown>
}

/** A webhook request as recorded: its Standard Webhooks headers, body, and event type and data. */
export async function receive(request: { headers: Headers; text(): Promise<string> }): Promise<Received> {
  const body = await request.text()
  const event = JSON.parse(body) as { type: string; data: Record<string, unknown> }
  return {
    id: request.headers.get('webhook-id') ?? '',
    timestamp: request.headers.get('webhook-timestamp') ?? '',
    signature: request.headers.get('webhook-signature') ?? '',
    body,
    type: event.type,
    data: event.data,
  }
}

/** A merchant endpoint whose reply `status()` decides (call by call); every request is recorded. */
export function merchantEndpoint(url: string, status: () => number): Received[] {
  const received: Received[] = []
  network.use(
    http.post(url, async ({ request }) => {
      received.push(await receive(request))
      const code = status()
      return new HttpResponse(code < 300 ? 'ok' : 'merchant is down', { status: code })
    }),
  )
  return received
}

/** The ops endpoint (OPS_WEBHOOK_URL in the tests), answering 204 and recording each operational webhook. */
/** Records the operational webhooks sent (only `merchantId`'s, when given: other tests' monitors may still be draining). */
export function opsEndpoint(merchantId?: string): Received[] {
  const received: Received[] = []
  network.use(
    http.post(OPS_URL, async ({ request }) => {
      const event = await receive(request)
      if (merchantId === undefined || event.data.merchant_id === merchantId) received.push(event)
      return new HttpResponse(null, { status: 204 })
    }),
  )
  return received
}

/** An order's deliveries as the object holds them (snake_case, like the admin API). */
export type DeliveryState = DeliveryRowView
export const deliveryStates = deliveryRows

/**
 * Moves the (faked) clock from alarm to alarm until `done` holds for every order's deliveries: each round runs the
 * orders' alarms, then jumps to the earliest pending delivery's next attempt. Needs `vi.useFakeTimers({ toFake: ['Date'] })`.
 */
export async function runAlarmsUntil(
  orders: readonly OrderRef[],
  done: (deliveries: DeliveryState[]) => boolean,
  maxRounds = 80,
): Promise<DeliveryState[]> {
  for (let round = 0; round < maxRounds; round++) {
    for (const order of orders) await runDurableObjectAlarm(orderStub(env, order))
    const perOrder = await Promise.all(orders.map(deliveryStates))
    const states = perOrder.flat()
    if (done(states)) return states
    // Each order sends its first delivery not delivered, if pending (one behind a failed delivery waits): the next
    // thing to happen is the earliest such head's attempt.
    const due = perOrder.flatMap((ds) => {
      const head = ds.find((d) => d.status !== 'delivered')
      return head?.status !== 'pending' || head.next_attempt_at == null ? [] : [head.next_attempt_at]
    })
    if (due.length > 0) vi.setSystemTime(Math.max(Date.now(), Math.min(...due)))
  }
  throw new Error(`deliveries did not settle within ${maxRounds} rounds`)
}

/** An order object's env whose merchant's monitor takes each report, but whose reply never reaches the object. */
export const MONITOR_REPLY_LOST = {
  ...env,
  MONITORS: {
    getByName: (name: string) => ({
      deliveryRun: async (report: DeliveryRunReport) => {
        await env.MONITORS.getByName(name).deliveryRun(report)
        throw new Error('reply lost')
      },
    }),
  },
} as unknown as Env

/** Runs the merchant's monitor alarm: its operational webhooks are sent now. */
export async function runMonitorAlarm(merchantId: string): Promise<void> {
  await runDurableObjectAlarm(monitorStub(env, merchantId))
}

/** An Alipay refund of part of a paid trade (`refund_fee` is cumulative), signed with Alipay's test key. */
export function alipayRefund(outTradeNo: string, options: { totalFen: number; refundedFen: number; outBizNo: string }): SignedNotify {
  const params = {
    ...alipayPaymentParams({ outTradeNo, amount: options.totalFen }),
    refund_fee: (options.refundedFen / 100).toFixed(2),
    gmt_refund: '2026-11-22 18:10:00.000',
    out_biz_no: options.outBizNo,
  }
  const sign = signAlipay(params)
  return {
    body: alipayForm({ ...params, sign }),
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    signature: sign,
  }
}

/** The daily cron (certificates, stats pruning) as the runtime runs it, at the current (maybe faked) time. */
export async function runDailyCron(): Promise<void> {
  const ctx = createExecutionContext()
  await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: '17 3 * * *' }), env, ctx)
  await waitOnExecutionContext(ctx)
}
