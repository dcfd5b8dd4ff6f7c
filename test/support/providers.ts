/** @module The default gateway's channels as the tests address them, derived from the provider registry. */
import { defaultRegistry, type Channel, type Provider } from '../../src/providers'

const adapters = defaultRegistry.channels

export const CHANNELS = adapters.map((adapter) => adapter.channel) as Channel[]
/** Channel → the tail of its notify URL. */
export const NOTIFY_PATH = Object.fromEntries(adapters.map((adapter) => [adapter.channel, adapter.path])) as Record<Channel, string>
/** Channel → its provider. */
export const PROVIDER_OF = Object.fromEntries(adapters.map((adapter) => [adapter.channel, adapter.provider])) as Record<Channel, Provider>
