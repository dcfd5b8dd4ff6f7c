/**
 * @module Taking in a provider notification that is not about an order (`effect.kind === 'other'`):
 * deduped by the provider's notification id, audited, and forwarded once as `provider.notification`
 * with the verified fields as they are, in one transaction before the provider's accept reply.
 */
import { isoNow, newId } from '../lib/ids'
import type { VerifiedNotification } from '../providers/core/types'
import type { NotificationVerdict, SubjectRef } from '../storage/order'
import type { OrderContext } from './context'
import type { ProviderNotificationEvent } from './events'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { addEvent } from './outbox'
import { measured, meterIngest } from './meter'

export interface SubjectIngestRequest {
  subject: SubjectRef
  notification: VerifiedNotification
  settings: ForwardSettings
  receivedAt: number
}

export interface SubjectIngestResult {
  verdict: NotificationVerdict
  /** The `webhook-id` of the event it produced, none for a duplicate. */
  eventIds: string[]
}

export async function ingestSubjectNotification(ctx: OrderContext, request: SubjectIngestRequest): Promise<SubjectIngestResult> {
  const { subject, notification, receivedAt } = request
  const { effect } = notification
  if (effect.kind !== 'other') throw new TypeError('a subject object takes provider notifications about no order only')
  const saveForwardTarget = await sealForwardTarget(ctx, subject.merchantId, request.settings)
  const nowMs = Date.now()
  const now = isoNow(nowMs)
  const { store } = ctx
  const newSubject = store.subject.get() === null
  const { result, rows } = measured(ctx, () =>
    ctx.store.transaction((): SubjectIngestResult => {
      store.subject.ensure(subject, now)
      saveForwardTarget(now)
      const duplicate = store.notifications.hasSeen(notification.notificationId)
      store.notifications.record({
        id: newId('ntf'),
        channel: notification.channel,
        providerNotificationId: notification.notificationId,
        receivedAt: isoNow(receivedAt),
        verdict: duplicate ? 'duplicate' : 'accepted',
        reason: null,
        source: 'notify',
        notificationType: effect.notificationType,
      })
      if (duplicate) return { verdict: 'duplicate', eventIds: [] }
      const body: ProviderNotificationEvent = {
        type: 'provider.notification',
        timestamp: effect.occurredAt ?? isoNow(receivedAt),
        data: {
          merchant_id: subject.merchantId,
          provider: notification.provider,
          channel: notification.channel,
          notification_type: effect.notificationType,
          notification_id: notification.notificationId,
          subject_id: effect.subjectId,
          raw: notification.raw,
        },
      }
      return { verdict: 'accepted', eventIds: [addEvent(store, body, notification.channel, nowMs)] }
    }),
  )
  // Every notification of a subject is listed in D1 (duplicates too): the alarm hands the trail on.
  await ctx.store.setAlarm(nowMs)
  meterIngest(ctx, 'subject', { verdict: result.verdict, new_order: newSubject }, { rows, alarms: 1 })
  return result
}
