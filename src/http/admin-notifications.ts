/**
 * @module The audit trail as the admin API shows it: one entry per notification (its verdict, and for a
 * provider notification its type and subject), and `GET …/notifications/{id}` with the redacted raw body
 * a merchant with `keepRejectedBodies` keeps of a rejected one.
 */
import { isMerchantId } from '../merchants/schema'
import { loadMerchant } from '../merchants/store'
import { notificationRow, type NotificationListRow } from '../storage/admin-queries'
import { keptBody } from '../storage/rejected-bodies'
import { AdminError, json } from './responses'

/** A subject object named after one notification is about no provider id of a thing: no subject then. */
const NOTIFICATION_SUBJECT = 'notification:'

export interface NotificationEntry {
  id: string
  channel: string
  received_at: string
  verdict: string
  reason: string | null
  out_trade_no: string | null
  source: string
  /** A provider notification's type (`MCHTRANSFER.BILL.FINISHED`); null for an order's notifications. */
  notification_type: string | null
  /** The provider's id of what a provider notification is about, when it names one. */
  subject_id: string | null
}

export function notificationEntry(row: NotificationListRow): NotificationEntry {
  const { subject_key: subjectKey, ...entry } = row
  const subjectId = subjectKey === null || subjectKey.startsWith(NOTIFICATION_SUBJECT) ? null : subjectKey
  return { ...entry, notification_type: row.notification_type ?? null, subject_id: subjectId }
}

/** One audit entry, with `body` (headers and text, signatures cut short) when its raw body was kept. */
export async function getNotification(_request: Request, env: Env, merchantId: string, notificationId: string): Promise<Response> {
  const merchant = isMerchantId(merchantId) ? await loadMerchant(env, merchantId, { fresh: true }) : null
  if (merchant === null) throw new AdminError('not_found', `merchant ${merchantId} does not exist`)
  const row = /^ntf_[0-9a-f]{32}$/.test(notificationId) ? await notificationRow(env.DB, merchantId, notificationId) : null
  if (row === null) throw new AdminError('not_found', `notification ${notificationId} does not exist`)
  const kept = await keptBody(env.DB, merchantId, notificationId, Date.now())
  const body = kept === null ? null : { content_type: kept.contentType, headers: kept.headers, text: kept.body, truncated: kept.truncated }
  return json({ ...notificationEntry(row), body })
}
