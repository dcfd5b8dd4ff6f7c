/**
 * @module Telling a merchant's monitor object what happened, from the Worker and the order objects. Best effort:
 * a monitor that cannot be reached never fails a notification or a delivery; it is logged.
 */
import { errorSummary, log } from '../lib/log'
import { disableEndpoint, enableEndpoint, type EndpointChange } from '../merchants/endpoint-state'
import type { ForwardConfig } from '../merchants/types'
import type { DeliveryRunReport, EndpointStateChange } from './types'

export function monitorStub(env: Env, merchantId: string): DurableObjectStub<import('./monitor-object').MerchantMonitor> {
  return env.MONITORS.getByName(merchantId)
}

/** Best effort: false (and logged) when the monitor could not be told. */
async function tell(merchantId: string, what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call()
    return true
  } catch (error) {
    log('warn', { event: 'monitor.unreachable', merchant_id: merchantId, reason: what, error: errorSummary(error) })
    return false
  }
}

/** Tells the merchant's monitor about a delivery run; false when it could not be reached. */
export function reportDeliveryRun(env: Env, report: DeliveryRunReport): Promise<boolean> {
  if (report.attempts.length === 0 && report.exhausted.length === 0 && report.goneUrl === null) return Promise.resolve(true)
  return tell(report.merchantId, 'delivery run', () => monitorStub(env, report.merchantId).deliveryRun(report))
}

export function reportRejection(env: Env, merchantId: string, reason: string, at: number): Promise<boolean> {
  return tell(merchantId, 'rejection', () => monitorStub(env, merchantId).rejected(merchantId, reason, at))
}

export function reportEndpointChange(env: Env, change: EndpointStateChange): Promise<boolean> {
  return tell(change.merchantId, 'endpoint change', () => monitorStub(env, change.merchantId).endpointChanged(change))
}

/** An operator disables the endpoint: stored, then `endpoint.disabled` (reason `manual`) when it was enabled. */
export async function disableEndpointByOperator(env: Env, merchantId: string, at: number): Promise<EndpointChange> {
  const change = await disableEndpoint(env, merchantId, { reason: 'manual', at })
  if (change.changed && change.forward !== null) {
    await reportEndpointChange(env, {
      merchantId,
      state: 'disabled',
      url: change.forward.url,
      reason: 'manual',
      disabled_at: change.forward.disabledAt!,
    })
  }
  return change
}

/**
 * Before a disabled endpoint (`forward`, as stored) is enabled again: the merchant's failing streak ends
 * (`MerchantMonitor.enabling`); true when it was disabled. Not best effort: an enable whose streak could not be
 * ended would be tripped again by the next failure, so it fails instead.
 */
export async function beforeEnabling(env: Env, merchantId: string, forward: ForwardConfig | undefined): Promise<boolean> {
  if (forward?.disabledAt === undefined) return false
  await endFailingStreak(env, merchantId)
  return true
}

/** Ends the merchant's failing streak (`MerchantMonitor.enabling`): what an enable must do before it is stored. */
function endFailingStreak(env: Env, merchantId: string): Promise<void> {
  return monitorStub(env, merchantId).enabling(merchantId)
}

/** An operator enables the endpoint: stored, then `endpoint.enabled` when it was disabled. Sends nothing else. */
export async function enableEndpointByOperator(env: Env, merchantId: string, at: number): Promise<EndpointChange> {
  // The streak ends for the very version saved: a trip landing between the two makes the save read and end it again.
  const change = await enableEndpoint(env, merchantId, at, () => endFailingStreak(env, merchantId))
  if (change.changed && change.forward !== null) await reportEndpointChange(env, { merchantId, state: 'enabled', url: change.forward.url })
  return change
}
