/**
 * @module Which subject object owns a provider notification that is not about an order: one per
 * merchant + provider + subject (the provider's id of a transfer, a complaint…), so the notifications
 * about one thing are serialized the way an order's are.
 */
import type { VerifiedNotification } from '../providers/core/types'
import type { SubjectRef } from '../storage/order'

export type { SubjectRef }

/** The subject a notification is about; one that names none is a subject of its own. */
export function subjectKeyOf(notification: VerifiedNotification): string {
  const subjectId = notification.effect.kind === 'other' ? notification.effect.subjectId : null
  return subjectId ?? `notification:${notification.notificationId}`
}

/** JSON keeps the parts unambiguous whatever characters they hold; the leading tag keeps the key space apart. */
export function subjectObjectName(ref: SubjectRef): string {
  return JSON.stringify(['subject', ref.merchantId, ref.provider, ref.subjectKey])
}

export function subjectStub(env: Env, ref: SubjectRef): DurableObjectStub<import('./subject-object').SubjectObject> {
  return env.SUBJECTS.getByName(subjectObjectName(ref))
}
