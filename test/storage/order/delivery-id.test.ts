/** Delivery ids name the object that holds them: the admin API reaches it from the id alone. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deliveryHolderOf } from '../../../src/storage/order'
import { deliveryIdsOf } from '../../../src/storage/order/delivery-id'

const objectIds = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'))
const kinds = fc.constantFrom('order' as const, 'subject' as const)

describe('a delivery id', () => {
  it('names the object it was made for, whatever its bytes', () => {
    fc.assert(
      fc.property(objectIds, kinds, (objectId, kind) => {
        const id = deliveryIdsOf({ kind, objectId })()
        expect(id).toMatch(/^dlv_[os][A-Za-z0-9_-]{54}$/)
        expect(deliveryHolderOf(id)).toEqual({ kind, objectId })
      }),
    )
  })

  it('differs from the object’s other deliveries', () => {
    const holder = { kind: 'order' as const, objectId: 'ab'.repeat(32) }
    const next = deliveryIdsOf(holder)
    const ids = new Set(Array.from({ length: 1000 }, () => next()))
    expect(ids.size).toBe(1000)
  })

  it('names no object when it is of the earlier kind, or when the object id is not one this runtime writes', () => {
    expect(deliveryHolderOf(`dlv_${'0'.repeat(32)}`)).toBeNull()
    expect(deliveryHolderOf('dlv_nothing')).toBeNull()
    expect(deliveryHolderOf(`dlv_x${'A'.repeat(54)}`)).toBeNull()
    expect(deliveryHolderOf(`dlv_o${'A'.repeat(53)}`)).toBeNull()
    const fallback = deliveryIdsOf({ kind: 'order', objectId: 'not-hex' })()
    expect(fallback).toMatch(/^dlv_[0-9a-f]{32}$/)
    expect(deliveryHolderOf(fallback)).toBeNull()
  })
})
