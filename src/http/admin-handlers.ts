/** @module Each admin route's handler, by operation id: the router pairs them with the route specs (`routes.ts`). */
import { disableEndpoint, enableEndpoint, sendTestEvent } from './admin-endpoint'
import { listEndpointHealth } from './admin-endpoint-health'
import { getDelivery, listDeliveries, recoverDeliveries, replayDelivery } from './admin-deliveries'
import { getOpenApi, getProjectionStatus, redriveProjection, resealSecrets } from './admin-maintenance'
import { getMerchant, listMerchants, patchMerchant, putMerchant } from './admin-merchants'
import { getNotification, listNotifications } from './admin-notifications'
import { getOrder, putOrder, syncOrder } from './admin-orders'
import { putRefund } from './admin-refunds'
import { scheduleRetention } from './admin-retention'
import { getStats } from './admin-stats'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'

export const adminHandlers = {
  listMerchants,
  putMerchant,
  getMerchant,
  patchMerchant,
  disableEndpoint,
  enableEndpoint,
  sendTestEvent,
  putOrder,
  getOrder,
  syncOrder,
  listNotifications,
  getNotification,
  putRefund,
  listDeliveries,
  recoverDeliveries,
  getDelivery,
  replayDelivery,
  listEndpointHealth,
  getStats,
  resealSecrets,
  redriveProjection,
  scheduleRetention,
  getProjectionStatus,
  getOpenApi,
} satisfies { [Id in keyof AdminRoutes]: Handler<AdminRoutes[Id]> }
