/**
 * @module Provider callbacks: raw bytes in, the channel's own reply out. The accept reply is sent
 * only after the order object has durably stored the notification's effect; anything that goes
 * wrong before that gets the reply that makes the provider retry.
 */
import { BodyTooLarge, NOTIFY_BODY_LIMIT, readBodyWithLimit } from '../lib/read-body'
import { verifyWithDownloadedKeys } from '../merchants/downloaded-keys'
import { withKeySharing } from '../merchants/shared-keys'
import { isMerchantId } from '../merchants/schema'
import { loadVersionedMerchant, type VersionedMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import { orderStub } from '../order/order-key'
import { subjectKeyOf, subjectStub } from '../order/subject-key'
import type { ForwardSettings, IngestRejection, IngestResult } from '../order/order-object'
import {
  isQueryableOrderNumber,
  NotifyRejection,
  type ChannelAdapter,
  type ChannelName,
  type ProviderRegistry,
  type RawNotification,
  type RedactedNotification,
  type VerifiedNotification,
} from '../providers'
import { errorName, errorSummary, log, type LogFields } from '../lib/log'
import { reportRejection } from '../ops/monitor'
import { enqueueProjection } from '../storage/projection'
import { newRefusalId } from '../storage/refusals'
import { refusedBody } from '../storage/rejected-bodies'

export async function handleNotify(
  adapter: ChannelAdapter,
  merchantId: string,
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  registry: ProviderRegistry,
): Promise<Response> {
  const { channel } = adapter
  const receivedAt = Date.now()
  let merchant: VersionedMerchant | null = null
  let raw: RawNotification | null = null
  let notification: VerifiedNotification | null = null
  try {
    // The merchant (usually cached) and the body together; the body's verdict first: one over the limit gets 413 on
    // every path (contract), merchant known or not, and is still audited for a known one.
    const [found, read] = await Promise.allSettled([findMerchant(env, merchantId), readBody(request)])
    if (read.status === 'rejected') {
      if (found.status === 'fulfilled') merchant = found.value
      throw read.reason
    }
    if (found.status === 'rejected') throw found.reason
    merchant = found.value
    const body = read.value
    raw = { body, headers: request.headers, receivedAt }
    notification = await verifyWithDownloadedKeys(env, registry, adapter, raw, merchant, receivedAt)
    const { outcome, reason, duplicates } = await storeNotification(env, registry, merchant, notification, receivedAt)
    log('info', { ...notificationFields(merchant.config.id, notification), outcome, reason })
    if (outcome === 'rejected') ctx.waitUntil(reportRejection(env, merchant.config.id, reason ?? 'unsigned', receivedAt))
    // An order's duplicate changed nothing and wrote one row; its count reaches the stats through the projection queue.
    if (duplicates > 0) ctx.waitUntil(countDuplicates(env, merchant.config.id, receivedAt, duplicates))
    return adapter.accept()
  } catch (error) {
    const rejection = asRejection(error)
    const recordedByOrder = (INGEST_REJECTIONS as readonly string[]).includes(rejection.code)
    const fields = notification !== null && merchant !== null ? notificationFields(merchant.config.id, notification) : null
    log(rejection.code === 'storage_unavailable' ? 'warn' : 'info', {
      // The path's merchant when the lookup failed (it is a merchant id's shape, so nothing odd is written to the logs).
      ...(fields ?? { event: 'notification', merchant_id: merchant?.config.id ?? (isMerchantId(merchantId) ? merchantId : null), channel }),
      outcome: 'rejected',
      reason: rejection.code,
    })
    if (merchant !== null && rejection.code !== 'storage_unavailable') {
      // Refused before reaching an order object: audit it directly (best effort, after the reply), with its
      // body (signatures cut short) when the merchant keeps them, and the order it names when it was verified.
      const kept = merchant.config.keepRejectedBodies === true && raw !== null && adapter.redact ? adapter.redact(raw) : null
      if (!recordedByOrder) ctx.waitUntil(auditRejection(env, merchant.config.id, channel, receivedAt, rejection, kept))
      // The merchant's monitor watches for spikes of rejections (notifications.rejected_spike). WeChat's signature
      // probes are WeChat checking that we verify (protocols.md §3.4): audited, never alerted on.
      if (rejection.code !== 'signature_probe') ctx.waitUntil(reportRejection(env, merchant.config.id, rejection.code, receivedAt))
    }
    return adapter.reject(rejection)
  }
}

/** A notification's log fields: who, which channel, which order, the provider's id of it (none of it secret). */
function notificationFields(merchantId: string, notification: VerifiedNotification): LogFields {
  return {
    event: 'notification',
    merchant_id: merchantId,
    channel: notification.channel,
    out_trade_no: notification.outTradeNo === '' ? null : notification.outTradeNo,
    notification_id: notification.notificationId,
  }
}

const INGEST_REJECTION_MESSAGES: Record<IngestRejection, string> = {
  amount_mismatch: 'amount or currency does not match the registered order',
  order_not_registered: 'order not registered; retry later (confirmed by an order query, or once it is registered)',
  refund_before_payment: 'refund of a payment not yet known; retry later',
  refund_exceeds_amount: "refund exceeds the order's amount",
  transaction_mismatch: "refund names another transaction than the order's payment",
}
const INGEST_REJECTIONS = Object.keys(INGEST_REJECTION_MESSAGES) as IngestRejection[]

async function readBody(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await readBodyWithLimit(request, NOTIFY_BODY_LIMIT)
  } catch (error) {
    if (error instanceof BodyTooLarge) throw new NotifyRejection('body_too_large', `body larger than ${NOTIFY_BODY_LIMIT} bytes`)
    throw new NotifyRejection('malformed_body', 'body could not be read')
  }
}

async function findMerchant(env: Env, merchantId: string): Promise<VersionedMerchant> {
  if (!isMerchantId(merchantId)) throw new NotifyRejection('unknown_merchant', 'unknown merchant')
  let merchant: VersionedMerchant | null
  try {
    merchant = await loadVersionedMerchant(env, merchantId)
  } catch (error) {
    log('error', { event: 'merchant.lookup_failed', merchant_id: merchantId, error: errorName(error) })
    throw new NotifyRejection('storage_unavailable', 'temporarily unavailable, retry later')
  }
  if (merchant === null) throw new NotifyRejection('unknown_merchant', 'unknown merchant')
  return merchant
}

/** What storing a notification came to; `duplicates`: how many orders took it for one they had (counted in the stats). */
interface Stored {
  outcome: string
  reason: string | null
  duplicates: number
}

async function storeNotification(
  env: Env,
  registry: ProviderRegistry,
  { config: merchant, version }: VersionedMerchant,
  notification: VerifiedNotification,
  receivedAt: number,
): Promise<Stored> {
  const settings = { forward: merchant.forward, version }
  const { effect } = notification
  if (effect.kind === 'combined') return storeSubOrders(env, registry, merchant, settings, effect.subOrders, receivedAt)
  if (effect.kind === 'other') {
    // About no order (a transfer, a complaint…): its subject's object dedupes and forwards it.
    const subject = { merchantId: merchant.id, provider: notification.provider, subjectKey: subjectKeyOf(notification) }
    let verdict: string
    try {
      verdict = (await subjectStub(env, subject).ingest({ subject, notification, settings, receivedAt })).verdict
    } catch (error) {
      log('error', { ...notificationFields(merchant.id, notification), event: 'notification.store_failed', error: errorSummary(error) })
      throw new NotifyRejection('storage_unavailable', 'temporarily unavailable, retry later')
    }
    return { outcome: verdict, reason: null, duplicates: 0 }
  }
  if (notification.outTradeNo === '') {
    // A message about no particular order (WeChat v2 return_code=FAIL) is unsigned: anyone could send
    // it, so it is counted as refused (never `accepted`), and changes nothing. Its count is the only
    // thing to store, so a queue that does not take it makes WeChat retry like any other storage failure.
    const reason = notification.effect.kind === 'none' ? `unsigned: ${notification.effect.reason}` : 'unsigned'
    const refusal = {
      kind: 'refusal' as const,
      id: newRefusalId(),
      merchantId: merchant.id,
      channel: notification.channel,
      reason,
      receivedAt,
    }
    await enqueueProjection(env, [refusal]).catch(() => {
      throw new NotifyRejection('storage_unavailable', 'temporarily unavailable, retry later')
    })
    return { outcome: 'rejected', reason, duplicates: 0 }
  }
  const checked = await withKeySharing(env.DB, merchant.id, notification)
  const verdict = await storeInOrder(env, registry, merchant, settings, checked, receivedAt)
  return { outcome: verdict, reason: null, duplicates: verdict === 'duplicate' ? 1 : 0 }
}

/**
 * A combined payment: each sub-order through its own order object, as a payment notification of its own, all at once.
 * The accept reply needs every one stored, so the first failure (in the sub-orders' order) is the reply and WeChat
 * resends the whole callback; the sub-orders stored already take that retry for a duplicate.
 */
async function storeSubOrders(
  env: Env,
  registry: ProviderRegistry,
  merchant: MerchantConfig,
  settings: ForwardSettings,
  subOrders: readonly VerifiedNotification[],
  receivedAt: number,
): Promise<Stored> {
  const settled = await Promise.allSettled(
    subOrders.map((subOrder) => storeInOrder(env, registry, merchant, settings, subOrder, receivedAt)),
  )
  const failure = settled.find((result) => result.status === 'rejected')
  if (failure !== undefined) throw failure.reason
  const verdicts = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const duplicates = verdicts.filter((verdict) => verdict === 'duplicate').length
  return { outcome: verdicts.find((verdict) => verdict !== 'duplicate') ?? 'duplicate', reason: null, duplicates }
}

/** One order's notification through its order object; throws the order's refusal, or `storage_unavailable`. */
async function storeInOrder(
  env: Env,
  registry: ProviderRegistry,
  merchant: MerchantConfig,
  settings: ForwardSettings,
  notification: VerifiedNotification,
  receivedAt: number,
): Promise<IngestResult['verdict']> {
  const order = { merchantId: merchant.id, provider: notification.provider, outTradeNo: notification.outTradeNo }
  // Doubt needs a way to be resolved: only when the merchant's keys, and the order number, allow a query. A combined
  // payment's sub-order is asked about only through its combine, when its channel can (never the ordinary query).
  const { combinedPayment } = notification
  const canQueryOrders =
    registry.queryClientFor(merchant, notification.provider, combinedPayment) !== null && isQueryableOrderNumber(notification.outTradeNo)
  const confirmPayments = merchant.confirmPaymentsByQuery === true
  let result: IngestResult
  try {
    result = await orderStub(env, order).ingest({
      order,
      notification,
      settings,
      receivedAt,
      source: 'notify',
      // Without a query the order stays refused until the merchant registers it: the flag still protects.
      requireRegisteredOrder: merchant.requireRegisteredOrders === true,
      canQueryOrders,
      confirmPayments: confirmPayments && canQueryOrders,
      canQueryRefunds: registry.refundQueryClientFor(merchant, notification.provider) !== null,
      unconfirmable: confirmPayments && !canQueryOrders && combinedPayment !== undefined,
    })
  } catch (error) {
    log('error', { ...notificationFields(merchant.id, notification), event: 'notification.store_failed', error: errorSummary(error) })
    throw new NotifyRejection('storage_unavailable', 'temporarily unavailable, retry later')
  }
  if (result.verdict === 'rejected' && result.reason !== null) {
    throw new NotifyRejection(result.reason, INGEST_REJECTION_MESSAGES[result.reason])
  }
  return result.verdict
}

function asRejection(error: unknown): NotifyRejection {
  if (error instanceof NotifyRejection) return error
  log('error', { event: 'notify.unexpected_error', error: errorName(error) })
  return new NotifyRejection('storage_unavailable', 'temporarily unavailable, retry later')
}

async function auditRejection(
  env: Env,
  merchantId: string,
  channel: ChannelName,
  receivedAt: number,
  rejection: NotifyRejection,
  kept: RedactedNotification | null,
): Promise<void> {
  const refusal = {
    kind: 'refusal' as const,
    id: newRefusalId(),
    merchantId,
    channel,
    reason: rejection.code,
    receivedAt,
    // Only a refusal after verification names an order (the provider's number, not a sender's).
    ...(rejection.outTradeNo === null ? {} : { outTradeNo: rejection.outTradeNo }),
  }
  try {
    // The body travels with its refusal: the consumer keeps it with the row, or as its counted row's sample.
    if (kept !== null) {
      const body = refusedBody(kept.headers['content-type'] ?? null, kept.headers, kept.body)
      // The refusal itself matters more than its body: should the queue refuse the two, it goes alone.
      const sent = await enqueueProjection(env, [{ ...refusal, kept: body }]).then(
        () => true,
        () => false,
      )
      if (sent) return
    }
    await enqueueProjection(env, [refusal])
  } catch (error) {
    log('warn', {
      event: 'notification.audit_deferred',
      merchant_id: merchantId,
      channel,
      reason: 'queue_unavailable',
      error: errorName(error),
    })
  }
}

async function countDuplicates(env: Env, merchantId: string, receivedAt: number, count: number): Promise<void> {
  try {
    await enqueueProjection(
      env,
      Array.from({ length: count }, () => ({ kind: 'duplicate' as const, merchantId, receivedAt })),
    )
  } catch {
    log('warn', { event: 'notification.count_deferred', merchant_id: merchantId, reason: 'queue_unavailable' })
  }
}
