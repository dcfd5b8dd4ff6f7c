/** @module Test helper: a Durable Object instance run with another env (a binding that fails, a var changed) until set again. */
import { runInDurableObject } from 'cloudflare:test'

/** Replaces the env of the instance `stub` names: `env` is the instance's own field (the DurableObject base class). */
export function setInstanceEnv(stub: DurableObjectStub, value: Env): Promise<void> {
  return runInDurableObject(stub, (instance: object) => {
    ;(instance as { env: Env }).env = value
  })
}
