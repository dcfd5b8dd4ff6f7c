/** @module Worker entry: the HTTP surface and the order Durable Object class. */
import { DurableObject } from 'cloudflare:workers'

export class OrderObject extends DurableObject<Env> {
  ping(): string {
    return 'pong'
  }
}

export default {
  async fetch(): Promise<Response> {
    return new Response('ok')
  },
} satisfies ExportedHandler<Env>
