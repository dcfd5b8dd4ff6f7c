/** @module Where this merchant's events go, secrets sealed, newest merchant version wins: a field of the head record. */
import type { Head } from './head'
import type { ForwardTargetRow } from './records'

export class ForwardTargetTable {
  constructor(private readonly head: Head) {}

  get(): ForwardTargetRow | null {
    const forward = this.head.read().forward
    if (forward === undefined) return null
    const { url, sealedSecret, sealedPreviousSecret, merchantVersion, disabledAt } = forward
    return { url, sealedSecret, sealedPreviousSecret, merchantVersion, disabledAt }
  }

  /** Stores `target` unless the stored copy comes from the same or a newer merchant version. */
  save(target: ForwardTargetRow, now: string): void {
    const stored = this.get()
    if (stored !== null && stored.merchantVersion >= target.merchantVersion) return
    this.head.update((head) => {
      head.forward = { ...target, updatedAt: now }
    })
  }

  disable(now: string): void {
    // Until settings with a newer version arrive (saving the merchant again re-enables it), or `enable`.
    const stored = this.get()
    if (stored === null || stored.disabledAt !== null) return
    this.head.update((head) => {
      head.forward = { ...stored, disabledAt: now, updatedAt: now }
    })
  }

  /** Clears a `disable` made under the stored version (its secrets and URL stay). */
  enable(now: string): void {
    const stored = this.get()
    if (stored === null || stored.disabledAt === null) return
    this.head.update((head) => {
      head.forward = { ...stored, disabledAt: null, updatedAt: now }
    })
  }
}
