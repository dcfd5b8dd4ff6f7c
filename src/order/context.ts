/** @module What each part of an order object works on: its env, its storage, and the statements on that storage. */
import type { OrderStore } from '../storage/order'

export interface OrderContext {
  readonly env: Env
  readonly storage: DurableObjectStorage
  readonly store: OrderStore
  /** What this instance last handed to the projection queue (its JSON): an unchanged state is not sent again. */
  readonly projection: { lastSent: string | null }
}
