/**
 * @module The CLI's gateway-wide commands, each walking pages until done and reporting progress on stderr: reseal every
 * merchant's secrets, the projection's parked records (status, re-drive), and the retention walk.
 */
import { ApiError, unwrap, type AdminClient } from './client.ts'
import { listPages, out, type Output, type Progress } from './commands.ts'

export async function resealAll(client: AdminClient, progress: Progress): Promise<Output> {
  let resealed = 0
  let unchanged = 0
  const unreadable: string[] = []
  let cursor: string | undefined
  do {
    const page = await unwrap(client.POST('/admin/reseal', { body: cursor === undefined ? {} : { cursor } }))
    resealed += page.resealed
    unchanged += page.unchanged
    unreadable.push(...page.unreadable)
    progress(`resealed ${resealed}, already current ${unchanged}…`)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  const done = `resealed ${resealed} merchant(s); ${unchanged} already under the current MASTER_KEY`
  if (unreadable.length === 0) return out({ resealed, unchanged, unreadable }, done)
  // Left as they are: only the key they were sealed under opens them.
  const text =
    `${done}; ${unreadable.length} could not be opened with MASTER_KEY or MASTER_KEY_PREVIOUS: ${unreadable.join(', ')}\n` +
    'set MASTER_KEY_PREVIOUS to the key they were sealed under, then run reseal again'
  return { ...out({ resealed, unchanged, unreadable }, text), exitCode: 1 }
}

export async function projectionStatus(client: AdminClient): Promise<Output> {
  const status = await unwrap(client.GET('/admin/projection'))
  const since = status.oldest_parked_at === null ? '' : ` (the oldest since ${status.oldest_parked_at})`
  return out(
    status,
    `${status.parked} projection record(s) parked${since}${status.parked > 0 ? ': npm run admin -- projection redrive' : ''}`,
  )
}

export async function redriveProjection(client: AdminClient, progress: Progress): Promise<Output> {
  let redriven = 0
  let remaining = 0
  do {
    const page = await unwrap(client.POST('/admin/projection/redrive', { body: {} }))
    redriven += page.redriven
    remaining = page.remaining
    progress(`sent again ${redriven}, still parked ${remaining}…`)
    if (page.redriven === 0) break
  } while (remaining > 0)
  return out({ redriven, remaining }, `sent ${redriven} parked projection record(s) back to the queue; ${remaining} still parked`)
}

/** Every merchant's id, page by page: for the commands that walk them all. */
async function allMerchantIds(client: AdminClient): Promise<string[]> {
  const { items } = await listPages({ all: true }, async (cursor) => {
    const page = await unwrap(client.GET('/admin/merchants', { params: { query: { limit: 100, cursor } } }))
    return { items: page.merchants.map((m) => m.id), next: page.next_cursor }
  })
  return items
}

interface RetentionTotals {
  checked: number
  scheduled: number
  failed: number
}

/** One merchant's retention walk, page by page: its totals. */
async function walkRetention(client: AdminClient, merchantId: string, progress: Progress): Promise<RetentionTotals> {
  const totals: RetentionTotals = { checked: 0, scheduled: 0, failed: 0 }
  let cursor: string | undefined
  do {
    const page = await unwrap(
      client.POST('/admin/merchants/{merchantId}/retention', {
        params: { path: { merchantId } },
        body: cursor === undefined ? {} : { cursor },
      }),
    )
    totals.checked += page.checked
    totals.scheduled += page.scheduled
    totals.failed += page.failed
    progress(`${merchantId}: checked ${totals.checked}, dated ${totals.scheduled}, failed ${totals.failed}…`)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return totals
}

/**
 * Gives each stored object of the merchant named (else of every merchant) its retention date: after upgrading, or
 * shortening it. Walking every merchant, one whose walk fails is reported and the others are walked.
 */
export async function scheduleRetention(client: AdminClient, merchantId: string | undefined, progress: Progress): Promise<Output> {
  const merchants = merchantId === undefined ? await allMerchantIds(client) : [merchantId]
  const totals: RetentionTotals = { checked: 0, scheduled: 0, failed: 0 }
  const unwalked: { merchant_id: string; error: string }[] = []
  for (const id of merchants) {
    try {
      const walked = await walkRetention(client, id, progress)
      totals.checked += walked.checked
      totals.scheduled += walked.scheduled
      totals.failed += walked.failed
    } catch (error) {
      if (merchantId !== undefined || !(error instanceof ApiError)) throw error
      unwalked.push({ merchant_id: id, error: `${error.status} ${error.code}: ${error.message}` })
      progress(`${id}: not walked: ${error.status} ${error.code}: ${error.message}`)
    }
  }
  let text = `checked ${totals.checked} stored object(s) of ${merchants.length} merchant(s); ${totals.scheduled} given their retention date`
  if (totals.failed > 0) text += `\n${totals.failed} could not be reached: run it again later`
  for (const { merchant_id, error } of unwalked) text += `\nnot walked: ${merchant_id} (${error})`
  const output = out({ merchants: merchants.length, ...totals, unwalked }, text)
  return totals.failed > 0 || unwalked.length > 0 ? { ...output, exitCode: 1 } : output
}
