/**
 * @module Stand-in for msw's Node `http.ClientRequest` interceptor inside workerd.
 * The real one reads llhttp.wasm from disk when imported, which workerd's virtual file system
 * cannot do; the Worker only ever calls `fetch`, which msw's FetchInterceptor still intercepts.
 */
import { Interceptor } from '@mswjs/interceptors'

export class ClientRequestInterceptor extends Interceptor<Record<string, never>> {
  static override readonly symbol = Symbol.for('paygate-inert-client-request-interceptor')
  protected override predicate(): boolean {
    return false
  }
  protected override setup(): void {}
}
