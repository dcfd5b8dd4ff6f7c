/**
 * @module Admin endpoints for orders, their audit trail and their deliveries. Order state is read
 * from the order objects themselves (read-your-writes); listings across orders come from D1.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/encoding'
import { isMerchantId } from '../merchants/schema'
import { loadVersionedMerchant, type VersionedMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import { orderStub, type OrderRef } from '../order/order-key'
import { subjectStub } from '../order/subject-key'
import type { ForwardSettings } from '../order/order-object'
import type { ForwardedEvent } from '../order/events'
import type { OrderSnapshot } from '../order/order-object'
import { checkOutTradeNo, type ProviderName, type ProviderRegistry } from '../providers'
import { deliveryOwner, listDeliveryRows, listNotificationRows, type DeliveryListRow } from '../storage/admin-queries'
import { notificationEntry } from './admin-notifications'
import { nextAttemptIso } from '../storage/order'
import { AdminError, json, readJsonBody } from './responses'

const PAGE_SIZE = 50

async function requireMerchant(env: Env, merchantId: string): Promise<VersionedMerchant> {
  // Fresh: an admin action right after a save must use the settings just saved.
  const merchant = isMerchantId(merchantId) ? await loadVersionedMerchant(env, merchantId, { fresh: true }) : null
  if (merchant === null) throw new AdminError('not_found', `merchant ${merchantId} does not exist`)
  return merchant
}

/** The same rule the order-query clients apply: an order number they could not ask about is refused here. */
function requireOutTradeNo(outTradeNo: string): string {
  try {
    checkOutTradeNo(outTradeNo)
  } catch {
    throw new AdminError('invalid_request', 'outTradeNo: 1–64 printable ASCII characters, not "." or ".."')
  }
  return outTradeNo
}

function forwardSettings({ config, version }: VersionedMerchant): ForwardSettings {
  return { forward: config.forward, version }
}

/** The providers an order may be paid through: the one named, else every one the merchant has. */
function candidateProviders(registry: ProviderRegistry, merchant: MerchantConfig, named: ProviderName | null): ProviderName[] {
  return named !== null ? [named] : registry.configuredProviders(merchant)
}

/** A provider named by itself or by one of its channels (`channel`, `provider` fields and parameters). */
function readProvider(registry: ProviderRegistry, value: unknown, field: string): ProviderName | null {
  if (value === undefined || value === null) return null
  const provider = typeof value === 'string' ? registry.providerNamed(value) : undefined
  if (provider !== undefined) return provider
  const names = new Set([...registry.providerNames(), ...registry.channels.map((adapter) => adapter.channel)])
  throw new AdminError('invalid_request', `${field}: one of ${[...names].join(', ')}`)
}

export async function putOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const versioned = await requireMerchant(env, merchantId)
  const merchant = versioned.config
  requireOutTradeNo(outTradeNo)
  const body = await readJsonBody(request)
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AdminError('invalid_request', 'body: must be a JSON object')
  const input = body as Record<string, unknown>
  for (const key of Object.keys(input)) {
    if (!['amount', 'currency', 'channel', 'provider', 'expires_at'].includes(key))
      throw new AdminError('invalid_request', `${key}: unknown field`)
  }
  const { amount } = input
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new AdminError('invalid_request', 'amount: must be a positive integer in minor units (fen)')
  }
  const currency = input.currency ?? 'CNY'
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new AdminError('invalid_request', 'currency: must be an ISO 4217 code such as CNY')
  const expiresAt = readExpiry(input.expires_at)
  const named = readProvider(registry, input.channel, 'channel') ?? readProvider(registry, input.provider, 'provider')
  const providers = candidateProviders(registry, merchant, named)
  if (providers.length === 0) throw new AdminError('invalid_request', 'channel: the merchant has no such provider configured')

  const results = await Promise.all(
    providers.map((provider) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return orderStub(env, ref).register(ref, forwardSettings(versioned), {
        amount,
        currency,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      })
    }),
  )
  const conflict = results.find((r) => r.conflict !== null)
  if (conflict) throw new AdminError('conflict', conflict.conflict!)
  return json({ out_trade_no: outTradeNo, amount, currency, providers, status: results[0]!.status }, 200)
}

/** Optional ISO-8601 instant after which the order can no longer be paid: queries stop there. */
function readExpiry(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw new AdminError('invalid_request', 'expires_at: must be an ISO-8601 instant such as 2026-11-25T12:00:00Z')
  if (ms <= Date.now()) throw new AdminError('invalid_request', 'expires_at: must be in the future')
  return ms
}

/** Asks the provider about the order now; its signed answer is applied like a notification. */
export async function syncOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const versioned = await requireMerchant(env, merchantId)
  requireOutTradeNo(outTradeNo)
  const named = readProvider(registry, new URL(request.url).searchParams.get('provider') ?? undefined, 'provider')
  const providers = candidateProviders(registry, versioned.config, named)
  if (providers.length === 0) throw new AdminError('invalid_request', 'provider: the merchant has no such provider configured')
  const results = await Promise.all(
    providers.map(async (provider) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return { provider, ...(await orderStub(env, ref).sync(ref, forwardSettings(versioned))) }
    }),
  )
  return json({ out_trade_no: outTradeNo, results })
}

async function orderSnapshots(
  env: Env,
  registry: ProviderRegistry,
  merchant: MerchantConfig,
  outTradeNo: string,
  named: ProviderName | null,
): Promise<OrderSnapshot[]> {
  const snapshots = await Promise.all(
    candidateProviders(registry, merchant, named).map((provider) =>
      orderStub(env, { merchantId: merchant.id, provider, outTradeNo }).snapshot(),
    ),
  )
  return snapshots.flatMap((s) => (s === null ? [] : [s]))
}

export async function getOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const merchant = (await requireMerchant(env, merchantId)).config
  requireOutTradeNo(outTradeNo)
  const named = readProvider(registry, new URL(request.url).searchParams.get('provider') ?? undefined, 'provider')
  const snapshots = await orderSnapshots(env, registry, merchant, outTradeNo, named)
  // The same order number registered for both providers: show the one that saw activity.
  const best = snapshots.find((s) => s.notifications.length > 0) ?? snapshots[0]
  if (best === undefined) throw new AdminError('not_found', `order ${outTradeNo} is not known`)
  return json({ ...best, events: best.events.map(({ body, ...event }) => ({ ...event, data: (JSON.parse(body) as ForwardedEvent).data })) })
}

export async function listNotifications(request: Request, env: Env, merchantId: string, registry: ProviderRegistry): Promise<Response> {
  const merchant = (await requireMerchant(env, merchantId)).config
  const outTradeNo = new URL(request.url).searchParams.get('out_trade_no')
  const results = await listNotificationRows(env.DB, merchantId, outTradeNo === null ? null : requireOutTradeNo(outTradeNo), PAGE_SIZE)
  const byId = new Map(results.map((r) => [r.id, notificationEntry(r)]))
  if (outTradeNo !== null) {
    // The order objects know their notifications before the D1 projection catches up.
    for (const snapshot of await orderSnapshots(env, registry, merchant, outTradeNo, null)) {
      for (const n of snapshot.notifications) byId.set(n.id, { ...n, out_trade_no: outTradeNo, notification_type: null, subject_id: null })
    }
  }
  const notifications = [...byId.values()].sort((a, b) => (a.received_at < b.received_at ? 1 : a.received_at > b.received_at ? -1 : 0))
  return json({ notifications })
}

function encodeCursor(row: DeliveryListRow): string {
  return toBase64(utf8(JSON.stringify([row.created_at, row.id])))
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(fromUtf8(fromBase64(cursor))) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string]
  } catch {
    // fall through to the error below
  }
  throw new AdminError('invalid_request', 'cursor: not a cursor returned by this endpoint')
}

export async function listDeliveries(request: Request, env: Env, merchantId: string): Promise<Response> {
  await requireMerchant(env, merchantId)
  const params = new URL(request.url).searchParams
  const status = params.get('status')
  if (status !== null && !['pending', 'delivered', 'failed'].includes(status)) {
    throw new AdminError('invalid_request', 'status: one of pending, delivered, failed')
  }
  const cursor = params.get('cursor')
  const after = cursor === null ? null : decodeCursor(cursor)
  const results = await listDeliveryRows(env.DB, merchantId, { status, after, limit: PAGE_SIZE + 1 })
  const page = results.slice(0, PAGE_SIZE)
  const next = results.length > PAGE_SIZE ? encodeCursor(page[page.length - 1]!) : null
  return json({
    deliveries: page.map(({ created_at: _created, provider: _provider, ...row }) => row),
    next_cursor: next,
  })
}

export async function replayDelivery(_request: Request, env: Env, deliveryId: string): Promise<Response> {
  const row = await deliveryOwner(env.DB, deliveryId)
  if (row === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  const merchant = await requireMerchant(env, row.merchant_id)
  const { merchant_id: merchantId, provider } = row
  // An order's delivery, or a subject object's provider.notification.
  const owner =
    row.subject_key !== null
      ? subjectStub(env, { merchantId, provider, subjectKey: row.subject_key })
      : orderStub(env, { merchantId, provider, outTradeNo: row.out_trade_no ?? '' })
  const delivery = await owner.replay(deliveryId, forwardSettings(merchant))
  if (delivery === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  return json(
    {
      id: delivery.id,
      event_id: delivery.eventId,
      type: delivery.eventType,
      out_trade_no: row.out_trade_no,
      status: delivery.status,
      attempts: delivery.attempts,
      next_attempt_at: nextAttemptIso(delivery),
      last_status_code: delivery.lastStatusCode,
    },
    202,
  )
}
