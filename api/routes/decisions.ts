/**
 * Decisions and reviews (issue 8, item 2):
 *
 *   GET  /decisions/:withdrawalId          every revision with its reasons, detector executions and
 *                                          model scores (champion and shadows), and the withdrawal's
 *                                          state transitions; 404 when the sink has none
 *   POST /withdrawals/:withdrawalId/review an officer's verdict on a withdrawal awaiting review:
 *                                          produced to risk.reviews.v1, answered 202 with its eventId;
 *                                          the engine turns it into decision revision 2
 *
 * The verdict's eventId is deterministic, so a retried POST produces the same one and the engine
 * ignores the copy: `review:<withdrawalId>:request:<requestId>` when the caller sends a
 * `requestId` (recommended: one per button press), else `review:<withdrawalId>:case:<caseId>:v<case version>`
 * with a caseId, else `review:<withdrawalId>:reviewer:<subject>:<verdict>`.
 *
 * Before producing, the withdrawal is looked up in the read model: unknown -> 404, another
 * player -> 400, no longer awaiting review -> 409 RISK_ERR_WITHDRAWAL_TRANSITION (unless the
 * revision came from this very eventId: then 202 again, the retry is idempotent).
 *
 * Example:
 *   POST /withdrawals/wd-881/review { "playerId": "p-1", "verdict": "APPROVE", "reasonCode": "DOCUMENTS_VERIFIED", "requestId": "7f3a" }
 *   -> 202 { "eventId": "review:wd-881:request:7f3a", "withdrawalId": "wd-881", "verdict": "APPROVE" }
 */
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import type { ReviewVerdict } from '../../schemas/generated/types.js'
import type { OperationsDependencies } from '../app.js'
import { recordAuditChange } from '../audit.js'
import { API_ROLES } from '../roles.js'
import { actorOf, documented, OFFICER_ROLES } from './cases.js'

const ID = { type: 'string', minLength: 1, maxLength: 256 } as const
const WITHDRAWAL_PARAMS = { type: 'object', required: ['withdrawalId'], additionalProperties: false, properties: { withdrawalId: ID } } as const

interface WithdrawalParams { withdrawalId: string }
interface ReviewBody {
  playerId: string
  verdict: 'APPROVE' | 'DECLINE'
  reasonCode: string
  note?: string | null
  caseId?: string | null
  requestId?: string
}

/** The deterministic eventId of a verdict (see the module comment). */
export function reviewEventId(parts: { withdrawalId: string; requestId?: string; caseId?: string | null; caseVersion?: number; reviewerId: string; verdict: string }): string {
  if (parts.requestId !== undefined) return `review:${parts.withdrawalId}:request:${parts.requestId}`
  if (parts.caseId !== undefined && parts.caseId !== null) return `review:${parts.withdrawalId}:case:${parts.caseId}:v${parts.caseVersion ?? 0}`
  return `review:${parts.withdrawalId}:reviewer:${parts.reviewerId}:${parts.verdict}`
}

export function registerDecisionRoutes(app: FastifyInstance, operations: OperationsDependencies, clock: Clock): void {
  const { cases, readModel, publishReview } = operations

  app.get<{ Params: WithdrawalParams }>('/decisions/:withdrawalId', {
    config: { roles: [...OFFICER_ROLES, API_ROLES.regulatorRead], audit: { action: 'decision.read', entity: 'withdrawal', idParam: 'withdrawalId' } },
    schema: documented({ summary: 'Every decision revision of a withdrawal with its reasons, executions and model scores, and its state transitions', tags: ['decisions'], params: WITHDRAWAL_PARAMS }),
  }, async (request) => {
    const history = await readModel.withdrawal(request.params.withdrawalId)
    if (history === null) throw new RiskError('RISK_ERR_NOT_FOUND', `no decision or transition for withdrawal ${request.params.withdrawalId} (the sink writes within seconds of the engine; check the id)`, { withdrawalId: request.params.withdrawalId })
    return history
  })

  app.post<{ Params: WithdrawalParams; Body: ReviewBody }>('/withdrawals/:withdrawalId/review', {
    config: { roles: OFFICER_ROLES, audit: { action: 'withdrawal.review', entity: 'withdrawal', idParam: 'withdrawalId' } },
    schema: documented({
      summary: "An officer's verdict on a withdrawal awaiting review; 202 once produced to risk.reviews.v1",
      tags: ['decisions'],
      params: WITHDRAWAL_PARAMS,
      body: {
        type: 'object',
        required: ['playerId', 'verdict', 'reasonCode'],
        additionalProperties: false,
        properties: {
          playerId: ID,
          verdict: { type: 'string', enum: ['APPROVE', 'DECLINE'] },
          reasonCode: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Z0-9_]+$', examples: ['DOCUMENTS_VERIFIED'] },
          note: { anyOf: [{ type: 'string', minLength: 1, maxLength: 10_000 }, { type: 'null' }] },
          caseId: { anyOf: [ID, { type: 'null' }] },
          requestId: { ...ID, description: 'the caller\'s id for this verdict; a retry with the same one produces the same eventId' },
        },
      },
    }),
  }, async (request, reply) => {
    const { withdrawalId } = request.params
    const body = request.body
    const reviewer = actorOf(request, cases)
    const caseId = body.caseId ?? null
    let caseVersion: number | undefined
    if (caseId !== null) {
      const record = await cases.get(caseId)
      if (!record.playerIds.includes(body.playerId)) throw new RiskError('RISK_ERR_REQUEST_INVALID', `case ${caseId} is not about player ${body.playerId} (its players: ${record.playerIds.join(', ')})`, { caseId, field: 'caseId' })
      caseVersion = record.version
    }
    const eventId = reviewEventId({ withdrawalId, ...(body.requestId === undefined ? {} : { requestId: body.requestId }), caseId, ...(caseVersion === undefined ? {} : { caseVersion }), reviewerId: reviewer.id, verdict: body.verdict })

    const history = await readModel.withdrawal(withdrawalId)
    const latest = history?.revisions[history.revisions.length - 1]
    if (history === null || latest === undefined) throw new RiskError('RISK_ERR_NOT_FOUND', `no decision for withdrawal ${withdrawalId} yet; only a withdrawal decided REVIEW can be reviewed`, { withdrawalId })
    if (latest.playerId !== body.playerId) throw new RiskError('RISK_ERR_REQUEST_INVALID', `withdrawal ${withdrawalId} belongs to player ${latest.playerId}, not ${body.playerId}`, { withdrawalId, field: 'playerId' })
    const answer = { eventId, withdrawalId, verdict: body.verdict }
    if (latest.outcome !== 'REVIEW') {
      // A retry after the engine applied this very verdict: answer as the first call did.
      if (latest.review?.eventId === eventId) {
        recordAuditChange(request, { detail: { eventId, alreadyAppliedAsRevision: latest.revision } })
        return reply.code(202).send(answer)
      }
      const by = latest.review === null ? 'the engine' : `${latest.review.reviewerId}`
      throw new RiskError('RISK_ERR_WITHDRAWAL_TRANSITION', `withdrawal ${withdrawalId} is not awaiting review: revision ${latest.revision} by ${by} decided ${latest.outcome}`, { withdrawalId, revision: latest.revision })
    }

    const verdict: ReviewVerdict = {
      eventId,
      playerId: body.playerId,
      eventTimeMs: clock.nowMs(),
      withdrawalId,
      verdict: body.verdict,
      reviewerId: reviewer.id,
      caseId,
      reasonCode: body.reasonCode,
      note: body.note ?? null,
    }
    await publishReview(verdict)
    recordAuditChange(request, { after: verdict })
    return reply.code(202).send(answer)
  })
}
