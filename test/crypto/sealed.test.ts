/** Sealed secrets name their key, so MASTER_KEY rotates: the previous key still opens, a reseal moves values to the new one. */
import { describe, expect, it } from 'vitest'
import { toBase64, utf8 } from '../../src/crypto/encoding'
import { aesGcmEncrypt, randomBytes } from '../../src/crypto/primitives'
import { MasterKeyUnknown, masterKeyId, open, readMasterKeyring, seal, sealedKeyId } from '../../src/crypto/sealed'

const OLD = toBase64(utf8('o'.repeat(32)))
const NEW = toBase64(utf8('n'.repeat(32)))

describe('sealed secrets with key ids', () => {
  it('carry the id of the key that sealed them, which says nothing of the key', async () => {
    const keyring = readMasterKeyring(NEW, undefined)
    const sealed = await keyring.seal('acme', 'whsec_secret')
    const id = await masterKeyId(keyring.current)
    expect(id).toMatch(/^[A-Za-z0-9]{8}$/)
    expect(sealedKeyId(sealed)).toBe(id)
    expect(sealed.startsWith(`v2.${id}.`)).toBe(true)
    expect(NEW).not.toContain(id)
  })

  it('open under MASTER_KEY_PREVIOUS while it is set, and name the missing key once it is not', async () => {
    const before = readMasterKeyring(OLD, undefined)
    const sealed = await before.seal('acme', 'whsec_secret')
    const during = readMasterKeyring(NEW, OLD)
    expect(await during.open('acme', sealed)).toBe('whsec_secret')
    expect(await during.sealsWithCurrent(sealed)).toBe(false)
    const resealed = await during.seal('acme', await during.open('acme', sealed))
    expect(await during.sealsWithCurrent(resealed)).toBe(true)
    const after = readMasterKeyring(NEW, undefined)
    expect(await after.open('acme', resealed)).toBe('whsec_secret')
    await expect(after.open('acme', sealed)).rejects.toThrow(MasterKeyUnknown)
    await expect(after.open('acme', sealed)).rejects.toThrow(/neither MASTER_KEY nor MASTER_KEY_PREVIOUS/)
  })

  it('still open values sealed before key ids (v1), with either key', async () => {
    const legacy = async (key: string): Promise<string> => {
      const iv = randomBytes(12)
      const sealed = await aesGcmEncrypt(readMasterKeyring(key, undefined).current, iv, utf8('acme'), utf8('whsec_legacy'))
      return `v1.${toBase64(iv)}.${toBase64(sealed)}`
    }
    const keyring = readMasterKeyring(NEW, OLD)
    expect(await keyring.open('acme', await legacy(NEW))).toBe('whsec_legacy')
    expect(await keyring.open('acme', await legacy(OLD))).toBe('whsec_legacy')
    expect(sealedKeyId(await legacy(OLD))).toBeNull()
    await expect(readMasterKeyring(NEW, undefined).open('acme', await legacy(OLD))).rejects.toThrow(MasterKeyUnknown)
  })

  it('refuse a value sealed under another key by the single-key open, and a malformed MASTER_KEY_PREVIOUS', async () => {
    const keyring = readMasterKeyring(NEW, undefined)
    const other = readMasterKeyring(OLD, undefined)
    await expect(open(other.current, 'acme', await seal(keyring.current, 'acme', 'x'))).rejects.toThrow(MasterKeyUnknown)
    expect(() => readMasterKeyring(NEW, 'c2hvcnQ=')).toThrow('MASTER_KEY_PREVIOUS must decode to 32 bytes')
    expect(readMasterKeyring(NEW, '').previous).toBeNull()
  })
})
