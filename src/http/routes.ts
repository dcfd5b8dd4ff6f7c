/**
 * @module Every admin route, as specs built from the gateway's providers. The router serves exactly these and the
 * OpenAPI document describes exactly these; nothing here imports a handler, so the document can be built anywhere.
 */
import type { ProviderRegistry } from '../providers'
import { deliveryRoutes } from './routes-deliveries'
import { endpointRoutes } from './routes-endpoints'
import { merchantRoutes } from './routes-merchants'
import { operationsRoutes } from './routes-operations'
import { orderRoutes } from './routes-orders'

export function adminRoutes(registry: ProviderRegistry) {
  return {
    ...merchantRoutes(registry),
    ...orderRoutes(registry),
    ...deliveryRoutes(),
    ...endpointRoutes(),
    ...operationsRoutes(),
  }
}

export type AdminRoutes = ReturnType<typeof adminRoutes>
export type OperationId = keyof AdminRoutes
