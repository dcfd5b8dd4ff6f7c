/**
 * @module The Worker, built from a list of providers: `createGateway({ providers })`. The default
 * gateway (`src/index.ts`) lists paygate's own; a test can build one with another provider added.
 */
import { ProviderRegistry, type ProviderDescriptor } from '../providers'
import { buildRouter } from './router'

export interface GatewayOptions {
  providers: readonly ProviderDescriptor[]
}

export function createGateway(options: GatewayOptions): ExportedHandler<Env> {
  const router = buildRouter(new ProviderRegistry(options.providers))
  return {
    fetch(request, env, ctx): Promise<Response> {
      return router.fetch(request, env, ctx)
    },
  }
}
