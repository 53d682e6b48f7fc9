/**
 * An officer's verdict on a sanctions or PEP list match (issue 7, docs/screening.md):
 *
 *   POST /players/:playerId/screening-verdicts   { listId, entryId, verdict, caseId?, note?, requestId }
 *
 * FALSE_MATCH says list entry `listId:entryId` is not this player: the engine remembers it for
 * the player and never matches that entry again (the name is screened again without it, since
 * the next best entry may still qualify). TRUE_MATCH withdraws an earlier FALSE_MATCH. The
 * verdict is produced to risk.screening.v1 (keyed by playerId, so it reaches the partition task
 * holding the player's sanctions state) and answered 202 with its eventId once acknowledged.
 *
 * The eventId is deterministic, `screening-verdict:<playerId>:request:<requestId>`, so a retried
 * POST produces the same one (the engine's dismissal set makes a repeat change nothing). A
 * caseId, when given, must name a case about this player. Audited with the verdict produced.
 *
 * Example:
 *   POST /players/p-1042/screening-verdicts
 *     { "listId": "ofac-sdn", "entryId": "7843", "verdict": "FALSE_MATCH", "caseId": "CASE-00000031", "note": "passport checked", "requestId": "7f3a" }
 *   -> 202 { "eventId": "screening-verdict:p-1042:request:7f3a", "playerId": "p-1042", "listId": "ofac-sdn", "entryId": "7843", "verdict": "FALSE_MATCH" }
 */
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import type { ScreeningInstruction } from '../../schemas/generated/types.js'
import type { OperationsDependencies } from '../app.js'
import { recordAuditChange } from '../audit.js'
import { actorOf, documented, OFFICER_ROLES } from './cases.js'

const ID = { type: 'string', minLength: 1, maxLength: 256 } as const

export const SCREENING_VERDICTS = ['FALSE_MATCH', 'TRUE_MATCH'] as const
export type ScreeningVerdict = (typeof SCREENING_VERDICTS)[number]

interface PlayerParams { playerId: string }
interface VerdictBody {
  listId: string
  entryId: string
  verdict: ScreeningVerdict
  caseId?: string | null
  note?: string | null
  requestId: string
}

/** The deterministic eventId of a verdict. Example: `screeningVerdictEventId('p-1', '7f3a')` -> `'screening-verdict:p-1:request:7f3a'`. */
export function screeningVerdictEventId(playerId: string, requestId: string): string {
  return `screening-verdict:${playerId}:request:${requestId}`
}

export function registerScreeningVerdictRoutes(app: FastifyInstance, operations: OperationsDependencies, clock: Clock): void {
  const { cases, publishScreening } = operations
  if (publishScreening === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'screening verdicts need operations.publishScreening (api/screening-publisher.ts)')

  app.post<{ Params: PlayerParams; Body: VerdictBody }>('/players/:playerId/screening-verdicts', {
    config: { roles: OFFICER_ROLES, audit: { action: 'player.screening-verdict', entity: 'player', idParam: 'playerId' } },
    schema: documented({
      summary: "An officer's verdict on a sanctions list match (FALSE_MATCH: never match this entry again for the player; TRUE_MATCH: withdraw that); 202 once produced to risk.screening.v1",
      tags: ['screening'],
      params: { type: 'object', required: ['playerId'], additionalProperties: false, properties: { playerId: ID } },
      body: {
        type: 'object',
        required: ['listId', 'entryId', 'verdict', 'requestId'],
        additionalProperties: false,
        properties: {
          listId: { ...ID, examples: ['ofac-sdn'], description: 'the list of the entry, as the match names it (the alert detail or GET /screening/status)' },
          entryId: { ...ID, examples: ['7843'] },
          verdict: { type: 'string', enum: [...SCREENING_VERDICTS] },
          caseId: { anyOf: [ID, { type: 'null' }] },
          note: { anyOf: [{ type: 'string', minLength: 1, maxLength: 10_000 }, { type: 'null' }] },
          requestId: { ...ID, description: "the caller's id for this verdict (one per button press); a retry with the same one produces the same eventId" },
        },
      },
    }),
  }, async (request, reply) => {
    const { playerId } = request.params
    const body = request.body
    const officer = actorOf(request, cases)
    const caseId = body.caseId ?? null
    if (caseId !== null) {
      const record = await cases.get(caseId)
      if (!record.playerIds.includes(playerId)) throw new RiskError('RISK_ERR_REQUEST_INVALID', `case ${caseId} is not about player ${playerId} (its players: ${record.playerIds.join(', ')})`, { caseId, field: 'caseId' })
    }
    const instruction: ScreeningInstruction = {
      eventId: screeningVerdictEventId(playerId, body.requestId),
      playerId,
      eventTimeMs: clock.nowMs(),
      type: body.verdict,
      listVersion: null,
      listId: body.listId,
      entryId: body.entryId,
      officerId: officer.id,
      caseId,
      note: body.note ?? null,
    }
    await publishScreening(instruction)
    recordAuditChange(request, { after: instruction })
    return reply.code(202).send({ eventId: instruction.eventId, playerId, listId: body.listId, entryId: body.entryId, verdict: body.verdict })
  })
}
