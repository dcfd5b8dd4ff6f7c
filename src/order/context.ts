/** @module What each part of an order object works on: its env, its storage, the statements on it, its gateway's providers. */
import type { ProviderRegistry } from '../providers'
import type { OrderStore } from '../storage/order'
import type { HandedOn } from '../storage/projection'

export interface ProjectionMemo {
  lastSent: string | null
  handedOn: HandedOn | null
  alarmRunning: boolean
}

export interface OrderContext {
  readonly env: Env
  readonly storage: DurableObjectStorage
  readonly store: OrderStore
  /**
   * What this instance last handed to the projection queue (its JSON): an unchanged state is not sent again; what
   * it has handed on beyond a record's caps (null: none yet, in this instance). And whether an alarm run is under
   * way: until it ends, the alarm it was started by may still stand for a hand-off.
   */
  readonly projection: ProjectionMemo
  /** The providers whose order and refund queries (and key downloads) the object may use: its gateway's. */
  readonly registry: ProviderRegistry
}
