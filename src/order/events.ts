/** @module The events paygate forwards to merchants (contract.md, "Forwarded events"). */
import type { ChannelName, ProviderName } from '../providers/core/types'
import type { EventType } from '../storage/order/records'

export interface RefundDetails {
  out_refund_no: string
  refund_id: string | null
  /** This refund's amount in minor units of the event's `currency` (fen for CNY). */
  amount: number
  /** Everything refunded on the order so far, in the same minor units. */
  total_refunded: number
}

/** An event about an order: a payment, a close, a refund. Its `webhook-id` travels in the headers. */
export interface OrderEvent {
  type: Exclude<EventType, 'provider.notification'>
  /** When the state change happened (ISO-8601 UTC). */
  timestamp: string
  data: {
    merchant_id: string
    provider: ProviderName
    channel: ChannelName
    out_trade_no: string
    transaction_id: string | null
    amount: number | null
    currency: string
    paid_at: string | null
    refund: RefundDetails | null
    raw: Record<string, unknown>
  }
}

/** Any other verified notification, forwarded as the provider sent it (a transfer, a complaint, …). */
export interface ProviderNotificationEvent {
  type: 'provider.notification'
  /** When it happened per the provider, else when the gateway received it (ISO-8601 UTC). */
  timestamp: string
  data: {
    merchant_id: string
    provider: ProviderName
    channel: ChannelName
    /** The provider's word for it: v3 `event_type`, Alipay `notify_type`. */
    notification_type: string
    notification_id: string
    /** The provider's id of what it is about, when it names one. */
    subject_id: string | null
    raw: Record<string, unknown>
  }
}

/** The JSON body POSTed to the merchant's forward URL. */
export type ForwardedEvent = OrderEvent | ProviderNotificationEvent
