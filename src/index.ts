/** @module Worker entry: the gateway built from the default providers, its Worker and its Durable Object classes. */
import { createGateway } from './http/gateway'
import { defaultProviders } from './providers'

const gateway = createGateway({ providers: defaultProviders })

export default gateway.worker
export const { OrderObject, SubjectObject, MerchantReplica } = gateway
export { ProjectionDeadLetters } from './ops/dead-letters'
export { MerchantMonitor } from './ops/monitor-object'
export { verifyWebhook, WebhookVerificationError, type MerchantEvent } from './verify-webhook'
