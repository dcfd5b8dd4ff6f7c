/**
 * @module The body of a `webhook.test` event, on its own so that merchants' verifier (`verify-webhook.ts`) types it
 * without the code that sends it.
 */

/** What a merchant's endpoint receives from `POST …/test-event`: no order, only who sent it. */
export interface WebhookTestEvent {
  type: 'webhook.test'
  timestamp: string
  data: { merchant_id: string }
}
