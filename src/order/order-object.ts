/**
 * @module The order Durable Object: the single authority for one order. Each notification is
 * deduped, applied and given its outbox rows in one synchronous SQLite transaction, and the RPC
 * reply (hence the provider's accept) leaves only after that commits (output gate). The alarm
 * drains the outbox: signed deliveries to the merchant, then the D1 projection.
 */
import { DurableObject } from 'cloudflare:workers'
import { open, readMasterKey, seal } from '../crypto/sealed'
import { newId, isoNow } from '../ids'
import type { ForwardConfig } from '../merchants/types'
import type { VerifiedNotification } from '../providers/types'
import { disableForwardEndpoint, loadVersionedMerchant } from '../merchants/store'
import {
  migrateOrderSchema,
  nextAttemptIso,
  OrderStore,
  type AttemptRow,
  type DeliveryRow,
  type ForwardTargetRow,
  type NotificationRow,
  type OrderRef,
  type OrderStatus,
  type ReconciliationRow,
} from '../storage/order'
import { hasRows, markProjected, project, unprojected } from '../storage/projection'
import type { ForwardedEvent } from './events'
import { AWAITING_PAYMENT, decide, PAID_STATES } from './state-machine'
import { deliverHeadOfLine } from './delivery-runner'
import { queryProvider } from './provider-query'
import { DEFAULT_ORDER_LIFETIME_MS, nextQueryAt, RECONCILE_SCHEDULE_MINUTES } from './reconcile-schedule'

/** Where the merchant wants its events, as of one version of its settings. */
export interface ForwardSettings {
  forward: ForwardConfig
  /** The merchant row's version: settings with a lower one never replace newer ones. */
  version: number
}

export interface IngestRequest {
  order: OrderRef
  notification: VerifiedNotification
  settings: ForwardSettings
  receivedAt: number
  source: 'notify' | 'query'
  /** The merchant registers its orders: a payment for an unregistered one is doubtful until a query confirms it. */
  requireRegisteredOrder?: boolean
}

/** Why the order object refused a notification it could authenticate. */
export type IngestRejection = 'amount_mismatch' | 'order_not_registered' | 'refund_before_payment'

export interface IngestResult {
  verdict: 'accepted' | 'duplicate' | 'rejected'
  reason: IngestRejection | null
  status: OrderStatus
  /** `webhook-id`s of the events this notification produced (none for duplicates and no-ops). */
  eventIds: string[]
}

export interface OrderSnapshot {
  merchant_id: string
  provider: string
  out_trade_no: string
  status: OrderStatus
  amount: number | null
  expected_amount: number | null
  currency: string | null
  transaction_id: string | null
  paid_at: string | null
  refunded_amount: number
  updated_at: string
  /** Each event with `body`, the exact JSON the merchant receives. */
  events: { id: string; type: string; created_at: string; body: string }[]
  deliveries: {
    id: string
    event_id: string
    type: string
    status: string
    attempts: number
    next_attempt_at: string | null
    last_status_code: number | null
    attempt_log: { number: number; started_at: string; status_code: number | null; latency_ms: number; outcome: string; error: string | null }[]
  }[]
  notifications: { id: string; channel: string; received_at: string; verdict: string; reason: string | null; source: string }[]
  /** Provider queries for a registered order whose payment was not notified (null when none were planned). */
  reconciliation: { next_query_at: string | null; queries_made: number; last_query_at: string | null; last_result: string | null; expires_at: string } | null
}

/** How soon after a D1 failure the projection is tried again. */
const PROJECTION_RETRY_MS = 30_000
/** How soon an alarm whose delivery step failed unexpectedly runs again. */
const DELIVERY_ERROR_RETRY_MS = 60_000

interface ReconcileOutcome {
  /** When the next query is due (epoch ms), or null. */
  nextDueAt: number | null
  summary: string
}

export class OrderObject extends DurableObject<Env> {
  private readonly store: OrderStore
  /** The provider query running now, if any (in-memory: lost with the instance, which is fine). */
  private queryInFlight: Promise<ReconcileOutcome> | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    migrateOrderSchema(ctx.storage)
    this.store = new OrderStore(ctx.storage.sql)
  }

  /** Records a verified notification exactly once. Throws only when nothing could be stored. */
  async ingest(request: IngestRequest): Promise<IngestResult> {
    const forwardTarget = await this.sealForwardTarget(request.order.merchantId, request.settings)
    const nowMs = Date.now()
    const result = this.ctx.storage.transactionSync((): IngestResult => {
      this.store.order.ensure(request.order, isoNow(nowMs))
      if (forwardTarget !== null) this.store.forwardTarget.save(forwardTarget, isoNow(nowMs))
      return this.apply(request.notification, request.receivedAt, request.source, nowMs, request.requireRegisteredOrder === true)
    })
    // Same output-gated storage as the transaction: the alarm is durable before the reply leaves.
    await this.ctx.storage.setAlarm(nowMs)
    return result
  }

  /**
   * Dedupes, decides and writes the outbox; called inside a `transactionSync`, so it commits or
   * rolls back whole. A notification and a query answer go through here alike.
   */
  private apply(
    notification: VerifiedNotification,
    receivedAt: number,
    source: 'notify' | 'query',
    nowMs: number,
    requireRegisteredOrder = false,
  ): IngestResult {
    const now = isoNow(nowMs)
    const order = this.store.order.get()!
    const audit = (verdict: NotificationRow['verdict'], reason: string | null): void =>
      this.store.notifications.record({
        id: newId('ntf'),
        channel: notification.channel,
        providerNotificationId: notification.notificationId,
        receivedAt: isoNow(receivedAt),
        verdict,
        reason,
        source,
      })

    if (this.store.notifications.hasSeen(notification.notificationId)) {
      audit('duplicate', null)
      return { verdict: 'duplicate', reason: null, status: order.status, eventIds: [] }
    }

    const unregistered = requireRegisteredOrder && order.expectedAmount === null && AWAITING_PAYMENT.has(order.status)
    if (source === 'notify' && notification.effect.kind === 'payment' && unregistered) {
      // Doubtful: the merchant never announced this order. Ask the provider; its signed answer decides,
      // and the provider's retry of this notification then finds the order settled either way.
      audit('rejected', 'order_not_registered')
      this.store.reconciliation.plan(nowMs, nowMs + DEFAULT_ORDER_LIFETIME_MS)
      return { verdict: 'rejected', reason: 'order_not_registered', status: order.status, eventIds: [] }
    }

    const decision = decide(order, notification.effect, this.store.refunds, now)
    if (decision.verdict === 'rejected') {
      audit('rejected', decision.reason)
      if (decision.next.status !== order.status) this.store.order.save(decision.next, now)
      // A doubtful report (wrong amount, a refund of a payment not seen yet): ask the provider once;
      // its signed answer decides.
      if (source === 'notify') this.store.reconciliation.plan(nowMs, nowMs + DEFAULT_ORDER_LIFETIME_MS)
      return { verdict: 'rejected', reason: decision.reason, status: decision.next.status, eventIds: [] }
    }

    this.store.notifications.markSeen(notification.notificationId, now)
    audit('accepted', decision.events.length === 0 ? 'no change' : null)
    if (decision.refundApplied) {
      const r = decision.refundApplied
      this.store.refunds.record(r.outRefundNo, r.outcome, r.amount)
    }
    this.store.order.save(decision.next, now)
    if (!AWAITING_PAYMENT.has(decision.next.status)) this.store.reconciliation.stop()
    const eventIds = decision.events.map((draft) => {
      const id = newId('evt')
      const body: ForwardedEvent = {
        type: draft.type,
        timestamp: draft.occurredAt,
        data: {
          merchant_id: order.merchantId,
          provider: notification.provider,
          channel: notification.channel,
          out_trade_no: order.outTradeNo,
          transaction_id: decision.next.transactionId,
          amount: decision.next.amount,
          currency: decision.next.currency ?? 'CNY',
          paid_at: decision.next.paidAt,
          refund: draft.refund,
          raw: notification.raw,
        },
      }
      const seq = this.store.events.add({ id, type: draft.type, channel: notification.channel, body: JSON.stringify(body), createdAt: now })
      this.store.deliveries.add(newId('dlv'), seq, nowMs, now)
      return id
    })
    return { verdict: 'accepted', reason: null, status: decision.next.status, eventIds }
  }

  /**
   * Registers (or re-registers) the amount the merchant expects for this order, and plans the
   * queries that catch a payment whose notification never comes.
   */
  async register(
    order: OrderRef,
    settings: ForwardSettings,
    expected: { amount: number; currency: string; expiresAt?: number },
  ): Promise<{ status: OrderStatus; conflict: string | null }> {
    const { amount, currency, expiresAt } = expected
    const forwardTarget = await this.sealForwardTarget(order.merchantId, settings)
    const nowMs = Date.now()
    const now = isoNow(nowMs)
    const result = this.ctx.storage.transactionSync(() => {
      const current = this.store.order.ensure(order, now)
      // A payment found by query is forwarded like a notified one: the object needs the target too.
      if (forwardTarget !== null) this.store.forwardTarget.save(forwardTarget, now)
      const paid = current.amount !== null && PAID_STATES.has(current.status)
      if (paid && (current.amount !== amount || (current.currency ?? 'CNY') !== currency)) {
        return { status: current.status, conflict: `the order was already paid with ${current.amount} ${current.currency ?? 'CNY'}` }
      }
      this.store.order.save({ ...current, expectedAmount: amount, expectedCurrency: currency }, now)
      if (AWAITING_PAYMENT.has(current.status)) {
        this.store.reconciliation.plan(nowMs + RECONCILE_SCHEDULE_MINUTES[0] * 60_000, expiresAt ?? nowMs + DEFAULT_ORDER_LIFETIME_MS)
      }
      return { status: current.status, conflict: null }
    })
    if (result.conflict === null) await this.ctx.storage.setAlarm(nowMs)
    return result
  }

  /** Asks the provider about this order now (admin sync), whatever the schedule says. */
  async sync(order: OrderRef, settings: ForwardSettings): Promise<{ status: OrderStatus; query: string }> {
    const forwardTarget = await this.sealForwardTarget(order.merchantId, settings)
    const nowMs = Date.now()
    this.ctx.storage.transactionSync(() => {
      this.store.order.ensure(order, isoNow(nowMs))
      // A payment found now is forwarded like a notified one: the object needs the target too.
      if (forwardTarget !== null) this.store.forwardTarget.save(forwardTarget, isoNow(nowMs))
      this.store.reconciliation.ensure(nowMs + DEFAULT_ORDER_LIFETIME_MS)
    })
    const query = await this.reconcile(nowMs, { force: true })
    await this.ctx.storage.setAlarm(Date.now())
    return { status: this.store.order.get()!.status, query: this.store.reconciliation.get()?.lastResult ?? query.summary }
  }

  /**
   * Runs a due provider query and applies a verified answer like a notification
   * (`source: "query"`). Returns when the next query is due, or null.
   */
  private reconcile(nowMs: number, options: { force?: boolean } = {}): Promise<ReconcileOutcome> {
    // One provider query at a time per order: an alarm and an admin sync arriving together share it.
    if (this.queryInFlight !== null) return this.queryInFlight
    const run = this.queryIfDue(nowMs, options).finally(() => {
      this.queryInFlight = null
    })
    this.queryInFlight = run
    return run
  }

  private async queryIfDue(nowMs: number, options: { force?: boolean }): Promise<ReconcileOutcome> {
    const plan = this.store.reconciliation.get()
    const order = this.store.order.get()
    if (plan === null || order === null) return { nextDueAt: null, summary: 'nothing to ask' }
    if (!options.force) {
      if (plan.nextQueryAt === null) return { nextDueAt: null, summary: 'nothing to ask' }
      if (!AWAITING_PAYMENT.has(order.status)) {
        this.store.reconciliation.stop()
        return { nextDueAt: null, summary: 'settled' }
      }
      if (plan.nextQueryAt > nowMs) return { nextDueAt: plan.nextQueryAt, summary: 'not due' }
    }

    const answer = await queryProvider(this.env, order, nowMs)
    const finishedAt = Date.now()
    return this.ctx.storage.transactionSync(() => {
      let summary = answer.summary
      if (answer.notification !== null) {
        const applied = this.apply(answer.notification, finishedAt, 'query', finishedAt)
        summary = `${summary} (${applied.verdict})`
      }
      const current = this.store.reconciliation.get()!
      const settled = !AWAITING_PAYMENT.has(this.store.order.get()!.status) || answer.final
      const next = settled ? null : nextQueryAt(current.queriesMade + 1, finishedAt, current.expiresAt)
      this.store.reconciliation.recordQuery(finishedAt, summary, next)
      return { nextDueAt: next, summary }
    })
  }

  /** The order as the admin API shows it: reflects every accepted notification at once. */
  snapshot(): OrderSnapshot | null {
    const order = this.store.order.get()
    if (order === null) return null
    return {
      merchant_id: order.merchantId,
      provider: order.provider,
      out_trade_no: order.outTradeNo,
      status: order.status,
      amount: order.amount ?? order.expectedAmount,
      expected_amount: order.expectedAmount,
      currency: order.currency ?? order.expectedCurrency,
      transaction_id: order.transactionId,
      paid_at: order.paidAt,
      refunded_amount: order.refundedAmount,
      updated_at: order.updatedAt,
      events: this.store.events.all().map((e) => ({ id: e.id, type: e.type, created_at: e.createdAt, body: e.body })),
      deliveries: this.store.deliveries.all().map((d) => ({
        id: d.id,
        event_id: d.eventId,
        type: d.eventType,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: nextAttemptIso(d),
        last_status_code: d.lastStatusCode,
        attempt_log: this.store.deliveries.attempts(d.id).map((a: AttemptRow) => ({
          number: a.number,
          started_at: a.startedAt,
          status_code: a.statusCode,
          latency_ms: a.latencyMs,
          outcome: a.outcome,
          error: a.error,
        })),
      })),
      notifications: this.store.notifications.all().map((n) => ({
        id: n.id,
        channel: n.channel,
        received_at: n.receivedAt,
        verdict: n.verdict,
        reason: n.reason,
        source: n.source,
      })),
      reconciliation: reconciliationView(this.store.reconciliation.get()),
    }
  }

  /** Sends a delivery again with the same `webhook-id` (admin replay). */
  async replay(deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
    const order = this.store.order.get()
    if (order === null) return null
    const forwardTarget = await this.sealForwardTarget(order.merchantId, settings)
    const nowMs = Date.now()
    const now = isoNow(nowMs)
    const delivery = this.store.deliveries.get(deliveryId)
    if (delivery === null) return null
    // An attempt is in flight right now: it is the replay; resetting the row would lose its result.
    if (delivery.status === 'pending' && delivery.leaseUntil !== null && delivery.leaseUntil > nowMs) return delivery
    // The merchant's current settings: a replay after re-enabling (or moving) the endpoint goes there.
    if (forwardTarget !== null) this.store.forwardTarget.save(forwardTarget, now)
    this.store.deliveries.update(
      deliveryId,
      { status: 'pending', attempts: delivery.attempts, nextAttemptAt: nowMs, lastStatusCode: delivery.lastStatusCode, lastError: null },
      now,
    )
    await this.ctx.storage.setAlarm(nowMs)
    return this.store.deliveries.get(deliveryId)
  }

  override async alarm(): Promise<void> {
    const order = this.store.order.get()
    if (order === null) return
    await this.refreshForwardTarget(order.merchantId)
    // Queries first: a payment they find is delivered in this same run.
    await this.reconcile(Date.now())
    let deliveryFailed = false
    try {
      const { goneUrl } = await deliverHeadOfLine(this.store, {
        order,
        openSecrets: (target) => this.openForwardSecrets(order.merchantId, target),
        allowLoopback: this.env.ENVIRONMENT === 'development',
      })
      if (goneUrl !== null) {
        // Merchant-wide, so other orders stop calling the endpoint too; best effort (each order
        // object also stops on its own 410).
        await disableForwardEndpoint(this.env, order.merchantId, goneUrl, Date.now()).catch(() =>
          console.warn('endpoint disable deferred: D1 unavailable'),
        )
      }
    } catch (error) {
      // Never lose the alarm over it (e.g. a MASTER_KEY that no longer opens the stored secret).
      console.error('delivery step failed', error instanceof Error ? error.name : 'unknown error')
      deliveryFailed = true
    }
    let projectionFailed = false
    try {
      const batch = unprojected(this.store)
      await project(this.env.DB, batch)
      this.ctx.storage.transactionSync(() => markProjected(this.store, batch))
    } catch (error) {
      console.warn('d1 projection deferred', error instanceof Error ? error.message : 'unknown error')
      projectionFailed = true
    }
    // Computed from storage after the last await: an RPC that ran meanwhile may have added work.
    const next = this.nextAlarmAt(Date.now(), { projectionFailed, deliveryFailed })
    if (next !== null) await this.ctx.storage.setAlarm(next)
  }

  /** When this object next has something to do: a due delivery, a planned query, rows to project. */
  private nextAlarmAt(now: number, failures: { projectionFailed: boolean; deliveryFailed: boolean }): number | null {
    const head = this.store.deliveries.headOfLine()
    let deliveryDue: number | null = null
    if (head !== null && this.store.forwardTarget.get() !== null) {
      deliveryDue = Math.max(now, head.nextAttemptAt ?? now, head.leaseUntil ?? now)
      if (failures.deliveryFailed) deliveryDue = Math.max(deliveryDue, now + DELIVERY_ERROR_RETRY_MS)
    }
    const order = this.store.order.get()!
    const plan = this.store.reconciliation.get()
    const queryDue = plan !== null && AWAITING_PAYMENT.has(order.status) ? plan.nextQueryAt : null
    const projectionDue = hasRows(unprojected(this.store)) ? (failures.projectionFailed ? now + PROJECTION_RETRY_MS : now) : null
    return earliest(earliest(deliveryDue, queryDue), projectionDue)
  }

  /**
   * The merchant's current forward settings, when they can be read: retries that run for days follow
   * a changed URL or secret. Without D1 or the replica, the stored copy serves.
   */
  private async refreshForwardTarget(merchantId: string): Promise<void> {
    try {
      const merchant = await loadVersionedMerchant(this.env, merchantId)
      if (merchant === null) return
      const target = await this.sealForwardTarget(merchantId, { forward: merchant.config.forward, version: merchant.version })
      if (target !== null) this.store.forwardTarget.save(target, isoNow(Date.now()))
    } catch {
      console.warn('forward settings not refreshed: merchant unavailable')
    }
  }

  /** The merchant's forward settings sealed for storage, or null when the stored ones are as new. */
  private async sealForwardTarget(merchantId: string, settings: ForwardSettings): Promise<ForwardTargetRow | null> {
    const stored = this.store.forwardTarget.get()
    if (stored !== null && stored.merchantVersion >= settings.version) return null
    const { forward } = settings
    const masterKey = readMasterKey(this.env.MASTER_KEY)
    return {
      url: forward.url,
      sealedSecret: await seal(masterKey, merchantId, forward.secret),
      sealedPreviousSecret: forward.previousSecret === undefined ? null : await seal(masterKey, merchantId, forward.previousSecret),
      merchantVersion: settings.version,
      disabledAt: forward.disabledAt ?? null,
    }
  }

  private async openForwardSecrets(merchantId: string, target: { sealedSecret: string; sealedPreviousSecret: string | null }): Promise<string[]> {
    const masterKey = readMasterKey(this.env.MASTER_KEY)
    const secrets = [await open(masterKey, merchantId, target.sealedSecret)]
    if (target.sealedPreviousSecret !== null) secrets.push(await open(masterKey, merchantId, target.sealedPreviousSecret))
    return secrets
  }
}

function reconciliationView(plan: ReconciliationRow | null): OrderSnapshot['reconciliation'] {
  if (plan === null) return null
  return {
    next_query_at: plan.nextQueryAt === null ? null : isoNow(plan.nextQueryAt),
    queries_made: plan.queriesMade,
    last_query_at: plan.lastQueryAt === null ? null : isoNow(plan.lastQueryAt),
    last_result: plan.lastResult,
    expires_at: isoNow(plan.expiresAt),
  }
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}

