/**
 * @module `GET /admin/openapi.json`: the admin API as an OpenAPI 3.1 document, generated from the route specs, so
 * from the very zod schemas that validate each request. JSON Schema 2020-12 (OpenAPI 3.1's dialect) comes from
 * `z.toJSONSchema`; named request and reply schemas go to `components.schemas`.
 */
import * as z from 'zod'
import type { ProviderRegistry } from '../providers'
import { ADMIN_ERROR_STATUS, type AdminErrorCode } from './responses'
import { bodyOptional, componentName, type RouteSpec } from './route-spec'
import { adminRoutes } from './routes'
import { documentedAs, errorReply } from './schemas'

type JsonSchema = Record<string, unknown>

const ERROR_DESCRIPTIONS: Record<AdminErrorCode, string> = {
  unauthorized: 'No valid bearer token.',
  not_found: 'No such merchant, order or delivery.',
  invalid_request: 'The request is not valid; the message names the field: `<field>: <problem>`.',
  conflict: 'The change conflicts with what is stored; the message says with what.',
  method_not_allowed: 'Wrong method.',
  internal: 'An unexpected error.',
}

/** Shows documented types where a schema converts text (query values), and drops what OpenAPI does not want. */
function override(ctx: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  const documented = documentedAs.get(ctx.zodSchema as z.ZodType)
  if (documented !== undefined) {
    for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key]
    Object.assign(ctx.jsonSchema, documented)
  }
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _schema, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override,
  }) as JsonSchema
  return json
}

/** A schema by reference when it is named (listed once under `components.schemas`), else inline. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {}

  use(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const name = componentName(schema)
    if (name === undefined) return toJsonSchema(schema, io)
    this.schemas[name] ??= toJsonSchema(schema, io)
    return { $ref: `#/components/schemas/${name}` }
  }
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const list: JsonSchema[] = []
  for (const [where, object] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    for (const [name, schema] of Object.entries(object?.shape ?? {}) as [string, z.ZodType][]) {
      const json = toJsonSchema(schema, 'input')
      const { description, ...rest } = json
      list.push({
        name,
        in: where,
        required: where === 'path' || !schema.safeParse(undefined).success,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      })
    }
  }
  return list
}

function operation(id: string, spec: RouteSpec, components: Components): JsonSchema {
  const responses: Record<string, JsonSchema> = {}
  for (const [status, reply] of Object.entries(spec.responses)) {
    responses[status] = {
      description: reply.description,
      ...(reply.schema ? { content: { 'application/json': { schema: components.use(reply.schema, 'output') } } } : {}),
    }
  }
  // A path value that is not valid percent-encoding is refused on every route that has one (the router's `param`).
  const pathErrors: AdminErrorCode[] = spec.params === undefined ? [] : ['invalid_request']
  const errors = new Set<AdminErrorCode>([...(spec.auth === false ? [] : ['unauthorized' as const]), ...spec.errors, ...pathErrors])
  for (const code of errors) {
    responses[String(ADMIN_ERROR_STATUS[code])] = {
      description: ERROR_DESCRIPTIONS[code],
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    }
  }
  const params = parameters(spec)
  return {
    operationId: id,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: [spec.tag],
    ...(spec.auth === false ? { security: [] } : {}),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(spec.body === undefined
      ? {}
      : {
          requestBody: {
            required: !bodyOptional(spec),
            content: {
              [spec.mergePatch ? 'application/merge-patch+json' : 'application/json']: { schema: components.use(spec.body, 'input') },
            },
          },
        }),
    responses,
  }
}

const documents = new WeakMap<ProviderRegistry, JsonSchema>()

export function openApiDocument(registry: ProviderRegistry): JsonSchema {
  const cached = documents.get(registry)
  if (cached !== undefined) return cached
  const components = new Components()
  components.schemas.Error = toJsonSchema(errorReply, 'output')
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const [id, spec] of Object.entries(adminRoutes(registry)) as [string, RouteSpec][]) {
    paths[spec.path] ??= {}
    paths[spec.path]![spec.method] = operation(id, spec, components)
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'paygate admin API',
      version: '1.0.0',
      description:
        'Merchants, orders, deliveries, the audit trail and operations of a paygate gateway. Every route but this ' +
        'document needs `Authorization: Bearer <ADMIN_TOKEN>`. Lists are newest first, `limit` 1–100 (default 50), ' +
        "paged with `cursor` = the previous page's `next_cursor`.",
    },
    servers: [{ url: '/', description: 'The gateway this document was read from.' }],
    tags: ['merchants', 'endpoint', 'orders', 'deliveries', 'notifications', 'stats', 'maintenance'].map((name) => ({ name })),
    security: [{ adminToken: [] }],
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (or ADMIN_TOKEN_PREVIOUS during a rotation).' },
      },
    },
  }
  documents.set(registry, document)
  return document
}
