/**
 * @module The order object's statements, one group per table. All are synchronous, so a caller can
 * compose them inside one `transactionSync`. Open the store after `migrateOrderSchema`.
 */
import { DeliveryTables } from './deliveries'
import { EventTable } from './events'
import { ForwardTargetTable } from './forward-target'
import { NotificationTables } from './notifications'
import { OrderStateTable } from './order-state'
import { ReconciliationTable } from './reconciliation'
import { RefundTable } from './refunds'
import { SubjectTable } from './subject'

export class OrderStore {
  readonly order: OrderStateTable
  readonly notifications: NotificationTables
  readonly refunds: RefundTable
  readonly events: EventTable
  readonly deliveries: DeliveryTables
  readonly reconciliation: ReconciliationTable
  readonly forwardTarget: ForwardTargetTable
  readonly subject: SubjectTable

  constructor(sql: SqlStorage) {
    this.order = new OrderStateTable(sql)
    this.notifications = new NotificationTables(sql)
    this.refunds = new RefundTable(sql)
    this.events = new EventTable(sql)
    this.deliveries = new DeliveryTables(sql)
    this.reconciliation = new ReconciliationTable(sql)
    this.forwardTarget = new ForwardTargetTable(sql)
    this.subject = new SubjectTable(sql)
  }
}
