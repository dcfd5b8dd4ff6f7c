/**
 * @module The gateway's provider registry (src/providers/index.ts), for the Node scripts: bundled from
 * the TypeScript sources with esbuild when first imported, so the scripts' channel names, paths and
 * providers are the Worker's own, never a copy.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/providers/index.ts')
const bundle = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' })
const providers = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`)

/** @type {import('../../src/providers/core/registry').ProviderRegistry} */
export const registry = providers.defaultRegistry

/** Every channel the gateway serves, in registry order. */
export const CHANNELS = registry.channels.map((adapter) => adapter.channel)
/** Channel → the tail of its notify URL (`/notify/{merchantId}/{path}`). */
export const NOTIFY_PATHS = Object.fromEntries(registry.channels.map((adapter) => [adapter.channel, adapter.path]))
/** Channel → its provider. */
export const PROVIDER_OF = Object.fromEntries(registry.channels.map((adapter) => [adapter.channel, adapter.provider]))
