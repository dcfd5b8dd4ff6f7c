/** Types of openapi-document.mjs, for the Node tests written in TypeScript. */
export function adminDocument(): Promise<Record<string, unknown>>
export function typesFrom(document: Record<string, unknown>): Promise<string>
