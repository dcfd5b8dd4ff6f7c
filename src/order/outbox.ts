/**
 * @module The outbox: each event of a state change stored with its delivery, inside the caller's
 * transaction; the alarm drains it. Order events carry the order as it stands after the change.
 */
import { isoNow, newId } from '../lib/ids'
import type { ChannelName, ProviderName } from '../providers/core/types'
import type { OrderRow, OrderState, OrderStore } from '../storage/order'
import type { ForwardedEvent, OrderEvent } from './events'
import type { EventDraft } from './state-machine'

/**
 * The report a change comes from: the channel and verified fields its events carry unless a draft names
 * its own (a held refund notification does); null when every draft names its own.
 */
export interface EventOrigin {
  provider: ProviderName
  report: { channel: ChannelName; raw: Record<string, unknown> } | null
}

/** Stores one event and its delivery; returns the event's id (its `webhook-id`). */
export function addEvent(store: OrderStore, body: ForwardedEvent, channel: ChannelName, nowMs: number): string {
  const id = newId('evt')
  const now = isoNow(nowMs)
  const seq = store.events.add({ id, type: body.type, channel, body: JSON.stringify(body), createdAt: now })
  // Events reach the merchant in the order they happened: earlier ones whose delivery failed (retries ran out, the
  // endpoint was disabled) go back into the line ahead of this one, with their own webhook-ids, as a recovery would.
  store.deliveries.requeueFailedThrough(seq - 1, nowMs, now)
  store.deliveries.add(store.newDeliveryId(), seq, nowMs, now)
  return id
}

/** Stores the events of one order change, in order; returns their ids. */
export function addOrderEvents(
  store: OrderStore,
  order: Pick<OrderRow, 'merchantId' | 'outTradeNo'>,
  next: OrderState,
  drafts: readonly EventDraft[],
  origin: EventOrigin,
  nowMs: number,
): string[] {
  return drafts.map((draft) => {
    const source = draft.source ?? origin.report
    if (source === null) throw new TypeError('an event needs the report it comes from')
    const { channel } = source
    const body: OrderEvent = {
      type: draft.type,
      timestamp: draft.occurredAt,
      data: {
        merchant_id: order.merchantId,
        provider: origin.provider,
        channel,
        out_trade_no: order.outTradeNo,
        transaction_id: next.transactionId,
        amount: draft.amount === undefined ? next.amount : draft.amount,
        currency: draft.currency ?? next.currency ?? 'CNY',
        paid_at: next.paidAt,
        refund: draft.refund,
        raw: source.raw,
      },
    }
    return addEvent(store, body, channel, nowMs)
  })
}
