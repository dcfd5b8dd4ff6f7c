/** @module Worker entry: the gateway built from the default providers, and the Durable Object classes. */
import { createGateway } from './http/gateway'
import { defaultProviders } from './providers'

export { MerchantReplica } from './merchants/merchant-replica'
export { ProjectionDeadLetters } from './ops/dead-letters'
export { MerchantMonitor } from './ops/monitor-object'
export { OrderObject } from './order/order-object'
export { SubjectObject } from './order/subject-object'
export { verifyWebhook, WebhookVerificationError, type MerchantEvent } from './verify-webhook'

export default createGateway({ providers: defaultProviders })
