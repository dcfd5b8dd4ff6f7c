/** @module The order object's SQLite storage: its layout, its records and the rows they read. */
export { inFlight, KEPT_ATTEMPTS, nextAttemptIso, type DeliveryChange } from './deliveries'
export { deliveryHolderOf, type DeliveryHolder } from './delivery-id'
export { NEW_ORDER_STATE, newOrder } from './order-state'
export { OrderStore, type StorageMeter } from './order-store'
export { CREATE_RECORDS_TABLE } from './record-store'
export * from './records'
export { hasOrderStorage, migrateOrderSchema, openOrderStorage, ORDER_SCHEMA_VERSION, orderSchemaVersion } from './schema'
