/** @module The events paygate forwards to merchants (contract.md, "Forwarded events"). */
import type { ChannelName, ProviderName } from '../providers/core/types'
import type { EventType } from '../storage/order'

export interface RefundDetails {
  out_refund_no: string
  refund_id: string | null
  /** This refund's amount in fen. */
  amount: number
  /** Everything refunded on the order so far, in fen. */
  total_refunded: number
}

/** The JSON body POSTed to the merchant's forward URL. Its `webhook-id` travels in the headers. */
export interface ForwardedEvent {
  type: EventType
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
