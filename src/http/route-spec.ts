/**
 * @module An admin route as data: its method and path, the zod schemas of its path values, query and body
 * (which validate the request), and its replies. The router serves these specs and the OpenAPI document
 * describes them, so the two cannot drift apart.
 */
import type * as z from 'zod'
import type { ProviderRegistry } from '../providers'
import type { AdminErrorCode } from './responses'

export type Method = 'get' | 'put' | 'post' | 'patch'

export interface ReplySpec {
  description: string
  /** The JSON body; absent for a reply without one. */
  schema?: z.ZodType
}

export interface RouteSpec {
  method: Method
  /** OpenAPI form: `/admin/merchants/{merchantId}`. */
  path: string
  summary: string
  description?: string
  tag: string
  /** False only for the OpenAPI document itself. */
  auth?: boolean
  /** Path values (each decoded once), query parameters and the JSON body. */
  params?: z.ZodObject
  query?: z.ZodObject
  body?: z.ZodType
  /** `application/merge-patch+json` (RFC 7396) instead of plain JSON. */
  mergePatch?: boolean
  responses: Record<number, ReplySpec>
  /** The admin errors it can answer with, beyond 401 (each in the `{"error"}` shape). */
  errors: readonly AdminErrorCode[]
}

export function route<const Spec extends RouteSpec>(spec: Spec): Spec {
  return spec
}

/** Whether a POST's body may be left out: every field of it is optional (no body then stands for `{}`). A PUT or a PATCH is always sent whole. */
export function bodyOptional(spec: RouteSpec): boolean {
  return spec.method === 'post' && spec.body !== undefined && spec.body.safeParse({}).success
}

const componentNames = new WeakMap<z.ZodType, string>()

/** Names a request or reply schema: the OpenAPI document lists it once, under `components.schemas.<name>`. */
export function named<Schema extends z.ZodType>(name: string, schema: Schema): Schema {
  componentNames.set(schema, name)
  return schema
}

export function componentName(schema: z.ZodType): string | undefined {
  return componentNames.get(schema)
}

type Parsed<Schema> = Schema extends z.ZodType ? z.output<Schema> : Record<string, never>

/** What a handler receives: the validated request parts, and the request and environment themselves. */
export interface RouteInput<Spec extends RouteSpec> {
  params: Parsed<Spec['params']>
  query: Parsed<Spec['query']>
  body: Parsed<Spec['body']>
  /** The JSON body exactly as sent, for the checks that need keys a parsed copy would drop (`__proto__`). */
  rawBody: unknown
  request: Request
  env: Env
  ctx: ExecutionContext
  registry: ProviderRegistry
}

export type Handler<Spec extends RouteSpec> = (input: RouteInput<Spec>) => Promise<Response>

/** `{merchantId}` → `:merchantId`, the router's form. */
export function routerPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1')
}
