/**
 * Cases for officers (issue 8, item 2): the queue, one case with everything needed to work it,
 * and the lifecycle actions, all through CaseService (cases/case-service.ts, docs/cases.md).
 *
 *   GET  /cases?status&assigneeId&priority&playerId&limit&after     the queue, a page at a time
 *   GET  /cases/:caseId                                             case, incidents, alerts, timeline, allowedActions
 *   POST /cases/:caseId/claim | unclaim | assign | escalate | close { expectedVersion, ... }
 *   POST /cases/:caseId/comments                                    { text, expectedVersion? }
 *   POST /cases/:caseId/evidence                                    { kind, reference, description?, expectedVersion? }
 *   POST /cases/:caseId/checklist/:itemId                           { expectedVersion, note? }
 *
 * The actor is the token's subject with its most senior officer role (an MLRO role when held),
 * so the lifecycle's MLRO-only steps follow the token. A stale `expectedVersion` answers 409
 * RISK_ERR_CASE_CONFLICT: of two officers claiming version 3 at once, one gets version 4 and
 * the other the conflict. Every read and change is audited; changes with the case before and after.
 *
 * Example:
 *   POST /cases/CASE-00000001/claim  { "expectedVersion": 3 }
 *   -> 200 { "caseId": "CASE-00000001", "version": 4, "status": "IN_REVIEW", "assigneeId": "anna", ... }
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify'
import type { CaseService } from '../../cases/case-service.js'
import { CASE_PRIORITIES, CASE_STATUSES, CLOSE_RESOLUTIONS, EVIDENCE_KINDS, type Actor, type Case, type CasePriority, type CaseStatus, type CloseResolution, type EvidenceKind } from '../../cases/types.js'
import { RiskError } from '../../core/errors.js'
import { recordAuditChange } from '../audit.js'
import type { DocumentedSchema } from '../route-config.js'
import { API_ROLES, type ApiRole } from '../roles.js'

/** Officers: who works alerts and cases. */
export const OFFICER_ROLES: readonly ApiRole[] = Object.freeze([API_ROLES.amlOfficer, API_ROLES.complianceOfficer])

const ID = { type: 'string', minLength: 1, maxLength: 256 } as const
const TEXT = { type: 'string', minLength: 1, maxLength: 10_000 } as const
const VERSION = { type: 'integer', minimum: 1, description: 'the case version the caller read' } as const
const CASE_PARAMS = { type: 'object', required: ['caseId'], additionalProperties: false, properties: { caseId: ID } } as const

/** A route schema with the OpenAPI keys (summary, tags) that fastify's own type leaves out. */
export function documented(schema: DocumentedSchema): FastifySchema {
  return schema
}

/**
 * The case service's actor for this request: the token's subject, acting in the most senior
 * officer role it holds (an MLRO role of the case policy first).
 */
export function actorOf(request: FastifyRequest, cases: CaseService): Actor {
  const principal = request.principal
  // The access hook only lets a request through with a principal; this guards a wiring mistake.
  if (principal === null) throw new RiskError('RISK_ERR_UNAUTHENTICATED', 'no verified caller on a protected route')
  const held = principal.roles as readonly string[]
  const role = cases.policy.mlroRoles.find((mlro) => held.includes(mlro)) ?? OFFICER_ROLES.find((officer) => held.includes(officer)) ?? held[0] ?? 'unknown'
  return { id: principal.subject, role }
}

interface CaseParams { caseId: string }
interface CaseListQuery { status?: CaseStatus; assigneeId?: string; priority?: CasePriority; playerId?: string; limit: number; after?: string }
interface VersionBody { expectedVersion: number }

export function registerCaseRoutes(app: FastifyInstance, cases: CaseService): void {
  /** Registers `POST /cases/:caseId/<action>` whose handler changes the case; audits before and after. */
  function action<Body extends object, Params extends CaseParams = CaseParams>(
    path: string,
    auditAction: string,
    summary: string,
    body: Record<string, unknown>,
    params: Record<string, unknown>,
    change: (request: FastifyRequest<{ Params: Params; Body: Body }>, actor: Actor) => Promise<Case>,
  ): void {
    app.post<{ Params: Params; Body: Body }>(`/cases/:caseId/${path}`, {
      config: { roles: OFFICER_ROLES, audit: { action: auditAction, entity: 'case', idParam: 'caseId' } },
      schema: documented({ summary, tags: ['cases'], params, body }),
    }, async (request) => {
      const before = await cases.get((request.params as CaseParams).caseId)
      const after = await change(request, actorOf(request, cases))
      recordAuditChange(request, { before, after })
      return after
    })
  }

  app.get<{ Querystring: CaseListQuery }>('/cases', {
    config: { roles: OFFICER_ROLES, audit: { action: 'case.list', entity: 'case' } },
    schema: documented({
      summary: 'The case queue, filtered, in case-id (creation) order; page with `after` = the last caseId',
      tags: ['cases'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: [...CASE_STATUSES] },
          assigneeId: ID,
          priority: { type: 'string', enum: [...CASE_PRIORITIES] },
          playerId: ID,
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          after: { ...ID, description: 'the last caseId of the previous page' },
        },
      },
    }),
  }, async (request) => {
    const { limit, after, ...filter } = request.query
    const found = await cases.list({ ...filter, limit, ...(after === undefined ? {} : { afterCaseId: after }) })
    recordAuditChange(request, { detail: { filter: request.query, count: found.length } })
    const last = found[found.length - 1]
    return { cases: found, next: found.length === limit && last !== undefined ? last.caseId : null }
  })

  app.get<{ Params: CaseParams }>('/cases/:caseId', {
    config: { roles: OFFICER_ROLES, audit: { action: 'case.read', entity: 'case', idParam: 'caseId' } },
    schema: documented({ summary: 'One case with its incidents, their alerts, its event timeline and what the caller may do now', tags: ['cases'], params: CASE_PARAMS }),
  }, async (request) => {
    const record = await cases.get(request.params.caseId)
    const [incidents, timeline] = await Promise.all([cases.incidents(record.caseId), cases.timeline(record.caseId)])
    const alerts = (await Promise.all(incidents.map((incident) => cases.alerts(incident.incidentId)))).flat()
    return { case: record, incidents, alerts, timeline, allowedActions: cases.allowedActions(record, actorOf(request, cases)) }
  })

  const versionOnly = { type: 'object', required: ['expectedVersion'], additionalProperties: false, properties: { expectedVersion: VERSION } }

  action<VersionBody>('claim', 'case.claim', 'Take the case (OPEN -> IN_REVIEW; an MLRO takes an escalated one)', versionOnly, CASE_PARAMS,
    (request, actor) => cases.claim({ caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor }))

  action<VersionBody>('unclaim', 'case.unclaim', 'Give the case back to the queue', versionOnly, CASE_PARAMS,
    (request, actor) => cases.unclaim({ caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor }))

  action<VersionBody & { assigneeId: string }>('assign', 'case.assign', 'Assign the case to an officer', {
    type: 'object', required: ['expectedVersion', 'assigneeId'], additionalProperties: false, properties: { expectedVersion: VERSION, assigneeId: ID },
  }, CASE_PARAMS, (request, actor) => cases.assign({ caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor, assigneeId: request.body.assigneeId }))

  action<VersionBody & { reason: string }>('escalate', 'case.escalate', 'Escalate to the MLRO queue', {
    type: 'object', required: ['expectedVersion', 'reason'], additionalProperties: false, properties: { expectedVersion: VERSION, reason: TEXT },
  }, CASE_PARAMS, (request, actor) => cases.escalate({ caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor, reason: request.body.reason }))

  action<VersionBody & { resolution: CloseResolution; reason: string; checklistOverrideReason?: string | null }>('close', 'case.close', 'Close the case with a resolution (emits its training labels)', {
    type: 'object',
    required: ['expectedVersion', 'resolution', 'reason'],
    additionalProperties: false,
    properties: {
      expectedVersion: VERSION,
      resolution: { type: 'string', enum: [...CLOSE_RESOLUTIONS] },
      reason: TEXT,
      checklistOverrideReason: { anyOf: [TEXT, { type: 'null' }], description: 'why unticked checklist items are accepted' },
    },
  }, CASE_PARAMS, (request, actor) => cases.close({
    caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor,
    resolution: request.body.resolution, reason: request.body.reason, checklistOverrideReason: request.body.checklistOverrideReason ?? null,
  }))

  action<{ text: string; expectedVersion?: number }>('comments', 'case.comment', 'Comment on the case (allowed on a closed case too)', {
    type: 'object', required: ['text'], additionalProperties: false, properties: { text: TEXT, expectedVersion: VERSION },
  }, CASE_PARAMS, (request, actor) => cases.comment({ caseId: request.params.caseId, actor, text: request.body.text, ...versionOf(request.body) }))

  action<{ kind: EvidenceKind; reference: string; description?: string | null; expectedVersion?: number }>('evidence', 'case.add_evidence', 'Attach evidence: an event id, a decision id (withdrawalId:revision) or a note', {
    type: 'object',
    required: ['kind', 'reference'],
    additionalProperties: false,
    properties: { kind: { type: 'string', enum: [...EVIDENCE_KINDS] }, reference: TEXT, description: { anyOf: [TEXT, { type: 'null' }] }, expectedVersion: VERSION },
  }, CASE_PARAMS, (request, actor) => cases.addEvidence({
    caseId: request.params.caseId, actor, kind: request.body.kind, reference: request.body.reference, description: request.body.description ?? null, ...versionOf(request.body),
  }))

  action<VersionBody & { note?: string | null }, CaseParams & { itemId: string }>('checklist/:itemId', 'case.tick_checklist', 'Tick a checklist item', {
    type: 'object', required: ['expectedVersion'], additionalProperties: false, properties: { expectedVersion: VERSION, note: { anyOf: [TEXT, { type: 'null' }] } },
  }, {
    type: 'object', required: ['caseId', 'itemId'], additionalProperties: false, properties: { caseId: ID, itemId: { ...ID, description: 'detectorId:item, e.g. deposit_structuring:source-of-funds' } },
  }, (request, actor) => cases.tickChecklist({ caseId: request.params.caseId, expectedVersion: request.body.expectedVersion, actor, itemId: request.params.itemId, note: request.body.note ?? null }))
}

/** `{ expectedVersion }` when the caller sent one (comments and evidence only add, so it is optional). */
function versionOf(body: { expectedVersion?: number }): { expectedVersion?: number } {
  return body.expectedVersion === undefined ? {} : { expectedVersion: body.expectedVersion }
}
