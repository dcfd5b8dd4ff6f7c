/**
 * The OpenAPI document, in Node: valid OpenAPI 3.1 (checked by @seriousme/openapi-schema-validator), and the committed
 * docs/openapi.json and cli/openapi-types.ts are what the route specs make today (`npm run openapi` writes both).
 * test/http/openapi.test.ts checks, inside workerd, that the served document is the committed one and that it lists
 * exactly the router's admin routes.
 */
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { adminDocument, typesFrom } from '../../scripts/lib/openapi-document.mjs'

const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(JSON.parse(read('docs/openapi.json')))
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('is committed as the route specs make it, with the CLI types generated from it', async () => {
    const document = await adminDocument()
    expect(JSON.parse(read('docs/openapi.json')), 'docs/openapi.json is stale: run npm run openapi').toEqual(document)
    expect(read('cli/openapi-types.ts'), 'cli/openapi-types.ts is stale: run npm run openapi').toBe(await typesFrom(document))
  })

  it('documents every operation with an id, a summary and its error replies', async () => {
    const document = (await adminDocument()) as {
      paths: Record<string, Record<string, { operationId?: string; summary?: string; responses: Record<string, unknown> }>>
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods))
    expect(operations.length).toBeGreaterThanOrEqual(18)
    for (const operation of operations) {
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/)
      expect(operation.summary).toBeTruthy()
      if (operation.operationId !== 'getOpenApi') expect(Object.keys(operation.responses)).toContain('401')
    }
  })
})
