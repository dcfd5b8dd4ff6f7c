// Bundled by scripts/lib/openapi-document.mjs: the default gateway's OpenAPI document, for Node.
import { openApiDocument } from '../../src/http/openapi'
import { defaultRegistry } from '../../src/providers'

export const document = openApiDocument(defaultRegistry)
