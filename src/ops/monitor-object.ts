/**
 * @module One monitor object per merchant: its endpoint's health (the circuit breaker), the rejected-notification
 * spike rule, certificate notices, and the outbox of operational webhooks, drained by its alarm. A thin shell: the
 * rules are in `breaker.ts`, `notices.ts` and `outbox.ts`.
 */
import { DurableObject } from 'cloudflare:workers'
import { errorSummary, log } from '../lib/log'
import { disableEndpoint } from '../merchants/endpoint-state'
import { MonitorStore, type EndpointHealthRow } from '../storage/monitor'
import { recordAttempts, shouldTrip } from './breaker'
import { exhaustedEventId, opsEvent, type OpsEventType } from './events'
import { expiringCertificateNotices, rejectionSpike, type ExpiringCertificate } from './notices'
import { drainOpsEvents } from './outbox'
import { opsTarget } from './target'
import type { DeliveryRunReport, EndpointStateChange } from './types'

export class MerchantMonitor extends DurableObject<Env> {
  private readonly store: MonitorStore

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new MonitorStore(ctx.storage.sql)
  }

  /** An order object's delivery run: attempts for the breaker, a 410, and deliveries whose retries ran out. */
  async deliveryRun(report: DeliveryRunReport): Promise<void> {
    const { merchantId } = report
    this.store.rememberMerchant(merchantId)
    for (const delivery of report.exhausted) this.enqueue('delivery.exhausted', merchantId, delivery, exhaustedEventId(delivery))
    if (report.url !== null && report.attempts.length > 0) {
      const health = recordAttempts(this.store.health(), report.url, report.attempts, this.store.enabledAt())
      this.store.saveHealth(health)
      if (report.goneUrl !== null) await this.disable(merchantId, 'gone', report.goneUrl, health)
      else if (shouldTrip(health)) await this.disable(merchantId, 'failing', health.url, health)
    }
    await this.wake()
  }

  /**
   * The endpoint is about to be enabled again: its failing streak ends now, before the enable is stored, so no failure
   * reported meanwhile (or before `endpointChanged` arrives, should that be lost) trips the breaker on the old streak.
   */
  async enabling(merchantId: string): Promise<void> {
    this.store.rememberMerchant(merchantId)
    this.store.endFailingStreak(Date.now())
  }

  /** An operator disabled or enabled the endpoint (or a PUT enabled it). */
  async endpointChanged(change: EndpointStateChange): Promise<void> {
    this.store.rememberMerchant(change.merchantId)
    // An enable ended the streak before it was stored (`enabling`): failures since then stand.
    const { merchantId, state, ...data } = change
    this.enqueue(state === 'enabled' ? 'endpoint.enabled' : 'endpoint.disabled', merchantId, data)
    await this.wake()
  }

  /** A notification was rejected: ≥ 20 within 5 minutes is a spike worth telling someone about. */
  async rejected(merchantId: string, reason: string, at: number): Promise<void> {
    this.store.rememberMerchant(merchantId)
    const spike = rejectionSpike(this.store, reason, at, opsTarget(this.env) !== null)
    if (spike !== null) {
      this.enqueue('notifications.rejected_spike', merchantId, spike)
      await this.wake()
    }
  }

  /** Certificates of the merchant's that expire soon: each one is told about once per expiry date. */
  async certificatesExpiring(merchantId: string, certificates: ExpiringCertificate[]): Promise<number> {
    this.store.rememberMerchant(merchantId)
    // With no ops endpoint to tell, nothing is remembered as told: one configured later hears of it from the next check.
    if (opsTarget(this.env) === null) return 0
    const notices = expiringCertificateNotices(this.store, certificates, Date.now())
    for (const notice of notices) this.enqueue('certificate.expiring', merchantId, notice)
    if (notices.length > 0) await this.wake()
    return notices.length
  }

  health(): EndpointHealthRow | null {
    return this.store.health()
  }

  override async alarm(): Promise<void> {
    const merchantId = this.store.merchantId()
    if (merchantId === null) return
    const next = await drainOpsEvents(this.store, { merchantId, target: opsTarget(this.env) })
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()))
  }

  private async disable(merchantId: string, reason: 'gone' | 'failing', url: string, health: EndpointHealthRow): Promise<void> {
    const at = Date.now()
    try {
      const change = await disableEndpoint(this.env, merchantId, { reason, at, url })
      if (!change.changed) return
      this.enqueue('endpoint.disabled', merchantId, {
        url,
        reason,
        disabled_at: new Date(at).toISOString(),
        failing_since: health.failingSince === null ? null : new Date(health.failingSince).toISOString(),
      })
      log('warn', { event: 'endpoint.disabled', merchant_id: merchantId, reason, outcome: 'disabled' })
    } catch (error) {
      // The next failed attempt reports again, and tries again.
      log('warn', { event: 'endpoint.disable_deferred', merchant_id: merchantId, reason, error: errorSummary(error) })
    }
  }

  /** Queues an operational webhook, when an ops endpoint is configured (none are kept for a later one). */
  private enqueue(type: OpsEventType, merchantId: string, data: object, id?: string): void {
    if (opsTarget(this.env) === null) return
    const now = Date.now()
    this.store.addOpsEvent(opsEvent(type, merchantId, data, now, id), now)
  }

  private async wake(): Promise<void> {
    if (this.store.headOfLine() !== null) await this.ctx.storage.setAlarm(Date.now())
  }
}
