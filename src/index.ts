import { DurableObject } from 'cloudflare:workers'
export class OrderObject extends DurableObject<Env> {
  ping(): string { return 'pong' }
}
export default { async fetch() { return new Response('ok') } } satisfies ExportedHandler<Env>
