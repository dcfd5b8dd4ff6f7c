/** @module The order Durable Object: the authority for one order (work in progress by the lead). */
import { DurableObject } from 'cloudflare:workers'

export class OrderObject extends DurableObject<Env> {}
