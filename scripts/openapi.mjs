#!/usr/bin/env node
// `npm run openapi`: writes the admin API's OpenAPI document (docs/openapi.json) and the CLI's typed client types
// generated from it (cli/openapi-types.ts), both committed. The document is built by the Worker's own code
// (src/http/openapi.ts, bundled here with esbuild), from the same route specs and zod schemas that validate requests;
// test/node/openapi.test.ts fails when either file is out of date.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { adminDocument, typesFrom } from './lib/openapi-document.mjs'

const root = new URL('../', import.meta.url)
const document = await adminDocument()
writeFileSync(new URL('docs/openapi.json', root), `${JSON.stringify(document, null, 2)}\n`)
writeFileSync(new URL('cli/openapi-types.ts', root), await typesFrom(document))
console.log(
  `wrote ${fileURLToPath(new URL('docs/openapi.json', root))} and cli/openapi-types.ts (${Object.keys(document.paths).length} paths)`,
)
