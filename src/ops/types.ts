/** @module What the monitor object is told: delivery runs by the order objects, endpoint changes by the admin API. */

/** A delivery whose last scheduled attempt failed (the `delivery.exhausted` event's data). */
export interface ExhaustedDelivery {
  delivery_id: string
  event_id: string
  event_type: string
  /** Null for a provider notification's delivery, which belongs to no order. */
  out_trade_no: string | null
  attempts: number
  last_status_code: number | null
  last_error: string | null
}

export interface DeliveryRunReport {
  merchantId: string
  /** The URL the run's attempts went to; null when it made none. */
  url: string | null
  attempts: { at: number; ok: boolean }[]
  /** The URL that answered 410 Gone in this run. */
  goneUrl: string | null
  exhausted: ExhaustedDelivery[]
}

export interface EndpointStateChange {
  merchantId: string
  state: 'disabled' | 'enabled'
  url: string
  /** For `disabled`: why (an operator: `manual`). */
  reason?: string
  disabled_at?: string
}
