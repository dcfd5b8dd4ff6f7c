/** @module The gateway's master keys from its secrets: MASTER_KEY seals, MASTER_KEY_PREVIOUS (while set) still opens. */
import { readMasterKeyring, type MasterKeyring } from '../crypto/sealed'

export function masterKeyring(env: Pick<Env, 'MASTER_KEY' | 'MASTER_KEY_PREVIOUS'>): MasterKeyring {
  return readMasterKeyring(env.MASTER_KEY, env.MASTER_KEY_PREVIOUS)
}
