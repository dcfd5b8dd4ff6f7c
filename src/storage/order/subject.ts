/** @module What a subject object's provider notifications are about: a field of the head record (none in an order object). */
import type { Head } from './head'
import type { SubjectRef } from './records'

export class SubjectTable {
  constructor(private readonly head: Head) {}

  get(): SubjectRef | null {
    const subject = this.head.read().subject
    return subject === undefined ? null : { merchantId: subject.merchantId, provider: subject.provider, subjectKey: subject.subjectKey }
  }

  /** When the subject's first notification was stored (ISO-8601); null in an order object. */
  createdAt(): string | null {
    return this.head.read().subject?.createdAt ?? null
  }

  ensure(ref: SubjectRef, now: string): void {
    if (this.get() !== null) return
    this.head.update((head) => {
      head.subject = { ...ref, createdAt: now }
    })
  }
}
