/** @module Which order object owns an order: one per merchant + provider + out_trade_no. */
import type { OrderRef } from '../storage/order'

export type { OrderRef }

/** JSON keeps the three parts unambiguous whatever characters an order number holds. */
export function orderObjectName(ref: OrderRef): string {
  return JSON.stringify([ref.merchantId, ref.provider, ref.outTradeNo])
}

export function orderStub(env: Env, ref: OrderRef): DurableObjectStub<import('./order-object').OrderObject> {
  return env.ORDERS.getByName(orderObjectName(ref))
}
