/**
 * STR routes (issue 8, item 2): an AML officer drafts a suspicious transaction report from a
 * case, edits it, the MLRO (compliance_officer) approves and exports it as goAML XML that
 * validated against the FIU's schema. The library is sinks/str (docs/str.md); drafts live in
 * the STR store (api/str-store.ts); the case's data comes from the case service and ClickHouse
 * (api/str-queries.ts).
 *
 * | route | roles | what |
 * | POST /cases/:caseId/str | aml_officer, compliance_officer | draft from the case (201) |
 * | GET /cases/:caseId/str | aml_officer, compliance_officer | the case's drafts |
 * | GET /str/:draftId | aml_officer, compliance_officer | a draft with its problems |
 * | PATCH /str/:draftId | aml_officer, compliance_officer | `{ expectedRevision, patch }`; 409 when stale or approved |
 * | POST /str/:draftId/approve | compliance_officer | `{ expectedRevision }`; 422 listing the problems |
 * | POST /str/:draftId/export | compliance_officer | validate with xmllint, write, `{ fileName, sha256, xml }`; 422 with the schema errors |
 * | GET /str/:draftId/preview | aml_officer, compliance_officer | `{ xml, problems, schema }` while editing |
 *
 * Every call is audited (entity `str_draft`; changes with before/after).
 *
 * Example:
 *   POST /cases/CASE-00000042/str {}                         -> 201 { draft: { draftId: 'str-CASE-00000042-1', revision: 1, ... }, problems: [...] }
 *   PATCH /str/str-CASE-00000042-1 { expectedRevision: 1, patch: { narrative: '...' } }   -> 200 revision 2
 *   POST /str/str-CASE-00000042-1/approve { expectedRevision: 2 }                          -> 200 status approved
 *   POST /str/str-CASE-00000042-1/export                                                    -> 200 { fileName: 'STR-str-CASE-00000042-1.xml', sha256, xml }
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import { approveDraft, checkDraft, editDraft, type StrDraftPatch, type StrProblem } from '../../sinks/str/draft.js'
import { buildNarrative, draftFromCase, type StrCasePlayer } from '../../sinks/str/from-case.js'
import { indicatorsFor } from '../../sinks/str/indicators.js'
import { exportGoaml, GoamlSchemaRejection, previewGoaml } from '../../sinks/str/validate.js'
import type { GovernanceDependencies } from '../app.js'
import { recordAuditChange } from '../audit.js'
import { errorBody } from '../http-errors.js'
import { API_ROLES } from '../roles.js'
import { StrQueries, type PlayerRecord } from '../str-queries.js'
import { sharedStrDraftStore, type StrDraftRecord } from '../str-store.js'

const OFFICERS = [API_ROLES.amlOfficer, API_ROLES.complianceOfficer]
const MLRO = [API_ROLES.complianceOfficer]
/** Epoch milliseconds up to 2100-01-01: beyond, ClickHouse's DateTime cannot be bound. */
const MAX_TIME_MS = 4_102_444_800_000

const draftIdParams = {
  type: 'object', required: ['draftId'], additionalProperties: false,
  properties: { draftId: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]*$' } },
} as const
const caseIdParams = { type: 'object', required: ['caseId'], additionalProperties: false, properties: { caseId: { type: 'string', minLength: 1, maxLength: 256 } } } as const

// Shapes of a draft's parts, strict enough that checkDraft and the renderer never meet a wrong
// type (they check content: names, dates, countries, amounts).
const nullableText = { type: ['string', 'null'], maxLength: 10_000 } as const
const text = { type: 'string', maxLength: 10_000 } as const
const contactType = { type: 'string', enum: ['business', 'private', 'residence', 'registered'] } as const
const addressSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'line', 'city', 'postalCode', 'countryCode', 'state'],
  properties: { type: contactType, line: text, city: text, postalCode: nullableText, countryCode: text, state: text },
} as const
const phoneSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'communication', 'countryPrefix', 'number'],
  properties: { type: contactType, communication: { type: 'string', enum: ['mobile', 'landline'] }, countryPrefix: nullableText, number: text },
} as const
const instrumentSchema = {
  type: ['object', 'null'], additionalProperties: false, required: ['method', 'token', 'cardBin', 'walletAddress', 'holderName', 'psp'],
  properties: { method: text, token: text, cardBin: nullableText, walletAddress: nullableText, holderName: nullableText, psp: nullableText },
} as const
const minorUnits = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }] } as const
const subjectSchema = {
  type: 'object', additionalProperties: false,
  required: ['playerId', 'firstName', 'middleName', 'lastName', 'originalName', 'gender', 'dateOfBirth', 'nationalityCountryCode', 'residenceCountryCode', 'idNumber', 'identifications', 'addresses', 'phones', 'emails', 'occupation', 'taxRegistered', 'instruments'],
  properties: {
    playerId: text, firstName: text, middleName: nullableText, lastName: text, originalName: nullableText,
    gender: { type: ['string', 'null'], enum: ['female', 'male', null] }, dateOfBirth: text, nationalityCountryCode: text, residenceCountryCode: text, idNumber: nullableText,
    identifications: {
      type: 'array', maxItems: 20, items: {
        type: 'object', additionalProperties: false, required: ['type', 'number', 'issueDate', 'expiryDate', 'issueCountryCode', 'issuedBy'],
        properties: { type: { type: 'string', enum: ['passport', 'driving_licence', 'national_id', 'other'] }, number: text, issueDate: text, expiryDate: text, issueCountryCode: text, issuedBy: nullableText },
      },
    },
    addresses: { type: 'array', maxItems: 20, items: addressSchema },
    phones: { type: 'array', maxItems: 20, items: phoneSchema },
    emails: { type: 'array', maxItems: 20, items: text },
    occupation: nullableText,
    taxRegistered: { type: ['boolean', 'null'] },
    instruments: { type: 'array', maxItems: 100, items: { ...instrumentSchema, type: 'object' } },
  },
} as const
const transactionSchema = {
  type: 'object', additionalProperties: false,
  required: ['transactionId', 'kind', 'eventTimeMs', 'amountMinor', 'currency', 'localAmountMinor', 'exchangeRate', 'status', 'instrument', 'counterparty', 'description'],
  properties: {
    transactionId: text, kind: { type: 'string', enum: ['deposit', 'withdrawal', 'transfer_out', 'transfer_in'] }, eventTimeMs: { type: 'integer' },
    amountMinor: minorUnits, currency: text, localAmountMinor: { anyOf: [...minorUnits.anyOf, { type: 'null' }] }, exchangeRate: nullableText, status: nullableText,
    instrument: instrumentSchema,
    counterparty: {
      type: ['object', 'null'], additionalProperties: false, required: ['playerId', 'firstName', 'lastName', 'countryCode'],
      properties: { playerId: text, firstName: text, lastName: text, countryCode: text },
    },
    description: nullableText,
  },
} as const
const patchSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    subject: subjectSchema,
    transactions: { type: 'array', maxItems: 10_000, items: transactionSchema },
    indicators: {
      type: 'array', maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['code', 'sources'], properties: { code: text, sources: { type: 'array', items: text } } },
    },
    narrative: { type: 'string', maxLength: 100_000 },
    action: nullableText,
    localCurrency: text,
  },
} as const

export interface StrRouteOptions {
  /** Submission times, approval and creation times. */
  readonly clock: Clock
  /**
   * Seconds one goAML export took (render, xmllint, write), kind `str_goaml`; refused exports
   * are not measured. Example: `(kind, seconds) => histogram.observe({ kind }, seconds)`.
   */
  readonly observeReport?: (kind: string, seconds: number) => void
}

/** A refusal that lists what to fix: 422 with `problems` (draft rules) or `schemaErrors` (xmllint). */
function sendRefusal(reply: FastifyReply, error: RiskError, details: { problems?: readonly StrProblem[]; schemaErrors?: GoamlSchemaRejection['schemaErrors'] }): FastifyReply {
  const body = errorBody(error.code, error.message.replace(`${error.code}: `, ''))
  return reply.code(422).send({ error: { ...body.error, ...details } })
}

function actorOf(request: FastifyRequest): string {
  // Access control ran before the handler: a principal is always there on these routes.
  return request.principal?.subject ?? 'unknown'
}

/** The KYC record as the draft wants it. Nationality and documents are not on the players topic: the officer adds them. */
function casePlayerOf(playerId: string, record: PlayerRecord | null): StrCasePlayer {
  return {
    playerId,
    firstName: record?.firstName ?? null,
    lastName: record?.lastName ?? null,
    dateOfBirth: record?.dateOfBirth ?? null,
    nationalityCountryCode: null,
    residenceCountryCode: record?.country ?? null,
  }
}

export function registerStrRoutes(app: FastifyInstance, governance: GovernanceDependencies, options: StrRouteOptions): void {
  const settings = governance.str
  const queries = new StrQueries(settings.clickhouse, settings.topicPrefix)
  const store = () => sharedStrDraftStore(settings.draftsDir)
  const withProblems = (record: StrDraftRecord) => ({ ...record, problems: checkDraft(record.draft) })

  app.post('/cases/:caseId/str', {
    config: { roles: OFFICERS, audit: { action: 'str.draft', entity: 'str_draft' } },
    schema: {
      summary: 'Draft an STR from a case', tags: ['str'],
      description: 'Subject from the player\'s KYC record, transactions in scope from ClickHouse (the case window, or fromMs/toMs), indicators from the detectors that hit and the case\'s typologies, a narrative from the decisions.',
      params: caseIdParams,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          playerId: { type: 'string', minLength: 1, maxLength: 256, description: 'For a cluster case: which of its players the STR is about (default the first)' },
          fromMs: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS, description: 'Start of the transactions in scope (inclusive); default lookback before the first alert' },
          toMs: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS, description: 'End (exclusive); default just after the latest alert' },
          officerNotes: { type: 'string', maxLength: 4000 },
          action: { type: 'string', maxLength: 4000, description: 'What the operator did, e.g. withdrawal declined, account restricted' },
        },
      },
    },
  }, async (request, reply) => {
    const { caseId } = request.params as { caseId: string }
    const body = (request.body ?? {}) as { playerId?: string; fromMs?: number; toMs?: number; officerNotes?: string; action?: string }
    const record = await governance.cases.get(caseId)
    const playerId = body.playerId ?? (record.subject.kind === 'player' ? record.subject.id : record.playerIds[0])
    if (playerId === undefined || !record.playerIds.includes(playerId)) {
      throw new RiskError('RISK_ERR_REQUEST_INVALID', `player ${playerId ?? '(none)'} is not in case ${caseId}; choose one of ${record.playerIds.join(', ') || '(no players)'}`, { field: 'body.playerId' })
    }
    const fromMs = body.fromMs ?? Math.max(0, record.openedAtMs - settings.lookbackMs)
    const toMs = body.toMs ?? record.lastAlertAtMs + 1
    if (fromMs >= toMs) throw new RiskError('RISK_ERR_REQUEST_INVALID', `fromMs ${fromMs} must be before toMs ${toMs}`, { field: 'body.fromMs' })

    const [player, transactions, decisions, clusterTypologies] = await Promise.all([
      queries.playerRecord(playerId),
      queries.transactionsInScope(playerId, fromMs, toMs),
      queries.decisionsForNarrative({ decisionIds: record.decisionIds, playerId, fromMs, toMs }),
      queries.clusterTypologies(playerId),
    ])
    const drafts = await store()
    const draftId = await drafts.nextDraftId(caseId)
    const input = { caseId, draftId, player: casePlayerOf(playerId, player), transactions, decisions, typologies: clusterTypologies, officerNotes: body.officerNotes ?? null, action: body.action ?? null }
    const drafted = draftFromCase(input, { reportingEntity: settings.reportingEntity, localCurrency: settings.localCurrency })
    // The case's own typologies count too: a structuring alert on deposits has no decision whose executions show it.
    const withCaseTypologies = { ...drafted, indicators: indicatorsFor([...new Set([...drafted.indicators.flatMap((indicator) => indicator.sources), ...record.typologies])]) }
    const draft = { ...withCaseTypologies, narrative: buildNarrative(withCaseTypologies, input) }
    const nowMs = options.clock.nowMs()
    const created = await drafts.create({ draft, createdBy: actorOf(request), createdAtMs: nowMs, updatedAtMs: nowMs, exports: [] })
    recordAuditChange(request, { entityId: draftId, after: created, detail: { caseId, playerId, fromMs, toMs } })
    return reply.code(201).send(withProblems(created))
  })

  app.get('/cases/:caseId/str', {
    config: { roles: OFFICERS, audit: { action: 'str.list', entity: 'case', idParam: 'caseId' } },
    schema: { summary: 'The STR drafts of a case', tags: ['str'], params: caseIdParams },
  }, async (request) => {
    const { caseId } = request.params as { caseId: string }
    const drafts = await (await store()).listForCase(caseId)
    return { caseId, drafts: drafts.map((record) => ({ draftId: record.draft.draftId, revision: record.draft.revision, status: record.draft.status, createdBy: record.createdBy, createdAtMs: record.createdAtMs, updatedAtMs: record.updatedAtMs, exports: record.exports })) }
  })

  app.get('/str/:draftId', {
    config: { roles: OFFICERS, audit: { action: 'str.read', entity: 'str_draft', idParam: 'draftId' } },
    schema: { summary: 'An STR draft with the problems still to fix', tags: ['str'], params: draftIdParams },
  }, async (request) => {
    const { draftId } = request.params as { draftId: string }
    return withProblems(await (await store()).get(draftId))
  })

  app.patch('/str/:draftId', {
    config: { roles: OFFICERS, audit: { action: 'str.edit', entity: 'str_draft', idParam: 'draftId' } },
    schema: {
      summary: 'Edit an STR draft', tags: ['str'],
      description: 'Replaces the given parts. expectedRevision is the revision read: another one answers 409 (reload and edit again); an approved draft answers 409. Amounts beyond 2^53 minor units go as digit strings.',
      params: draftIdParams,
      body: { type: 'object', required: ['expectedRevision', 'patch'], additionalProperties: false, properties: { expectedRevision: { type: 'integer', minimum: 1 }, patch: patchSchema } },
    },
  }, async (request) => {
    const { draftId } = request.params as { draftId: string }
    const { expectedRevision, patch } = request.body as { expectedRevision: number; patch: StrDraftPatch }
    const { before, after } = await (await store()).update(draftId, expectedRevision, (current) =>
      ({ ...current, draft: editDraft(current.draft, patch, expectedRevision), updatedAtMs: options.clock.nowMs() }))
    recordAuditChange(request, { before: before.draft, after: after.draft })
    return withProblems(after)
  })

  app.post('/str/:draftId/approve', {
    config: { roles: MLRO, audit: { action: 'str.approve', entity: 'str_draft', idParam: 'draftId' } },
    schema: {
      summary: 'Approve an STR draft (MLRO)', tags: ['str'],
      description: 'Approves exactly the revision reviewed; 422 listing the draft\'s problems when it breaks the draft rules, 409 when stale or already approved.',
      params: draftIdParams,
      body: { type: 'object', required: ['expectedRevision'], additionalProperties: false, properties: { expectedRevision: { type: 'integer', minimum: 1 } } },
    },
  }, async (request, reply) => {
    const { draftId } = request.params as { draftId: string }
    const { expectedRevision } = request.body as { expectedRevision: number }
    const drafts = await store()
    const current = await drafts.get(draftId)
    const problems = current.draft.status === 'draft' ? checkDraft(current.draft) : []
    if (problems.length > 0) {
      return sendRefusal(reply, new RiskError('RISK_ERR_REQUEST_INVALID', `STR draft ${draftId} breaks ${problems.length} draft rule(s); fix them and approve again`), { problems })
    }
    const nowMs = options.clock.nowMs()
    const { before, after } = await drafts.update(draftId, expectedRevision, (stored) =>
      ({ ...stored, draft: approveDraft(stored.draft, { approvedBy: actorOf(request), approvedAtMs: nowMs }), updatedAtMs: nowMs }))
    recordAuditChange(request, { before: { status: before.draft.status, revision: before.draft.revision }, after: { status: after.draft.status, revision: after.draft.revision, approvedBy: after.draft.approvedBy, approvedAtMs: after.draft.approvedAtMs } })
    return withProblems(after)
  })

  app.post('/str/:draftId/export', {
    config: { roles: MLRO, audit: { action: 'str.export', entity: 'str_draft', idParam: 'draftId' } },
    schema: {
      summary: 'Export an approved STR as goAML XML (MLRO)', tags: ['str'],
      description: 'Validates with xmllint against the goAML XSD and writes the file; 422 with schemaErrors (line, element, message) or problems when refused, 409 when not approved. Returns the file name, its SHA-256 and the XML.',
      params: draftIdParams,
    },
  }, async (request, reply) => {
    const { draftId } = request.params as { draftId: string }
    const drafts = await store()
    const current = await drafts.get(draftId)
    if (current.draft.status !== 'approved') {
      throw new RiskError('RISK_ERR_CASE_TRANSITION', `STR draft ${draftId} is ${current.draft.status}; the MLRO approves it before export`, { draftId })
    }
    const problems = checkDraft(current.draft)
    if (problems.length > 0) return sendRefusal(reply, new RiskError('RISK_ERR_REQUEST_INVALID', `STR draft ${draftId} breaks ${problems.length} draft rule(s)`), { problems })
    const nowMs = options.clock.nowMs()
    const startedMs = options.clock.monotonicMs()
    let exported
    try {
      exported = await exportGoaml(current.draft, { schemaPath: settings.schemaPath, submissionTimeMs: nowMs, outputDir: settings.exportDir, timeoutMs: settings.xmllintTimeoutMs })
    } catch (error) {
      if (error instanceof GoamlSchemaRejection) return sendRefusal(reply, error, { schemaErrors: error.schemaErrors })
      throw error
    }
    options.observeReport?.('str_goaml', (options.clock.monotonicMs() - startedMs) / 1000)
    const exportRecord = { fileName: exported.fileName, sha256: exported.sha256, filePath: exported.filePath, exportedAtMs: nowMs, exportedBy: actorOf(request) }
    const { before, after } = await drafts.update(draftId, null, (stored) => ({ ...stored, exports: [...stored.exports, exportRecord], updatedAtMs: nowMs }))
    recordAuditChange(request, { before: { exports: before.exports.length }, after: { exports: after.exports.length }, detail: { caseId: current.draft.caseId, fileName: exported.fileName, sha256: exported.sha256, exportedAtMs: nowMs } })
    return { draftId, revision: after.draft.revision, fileName: exported.fileName, sha256: exported.sha256, exportedAtMs: nowMs, xml: exported.xml }
  })

  app.get('/str/:draftId/preview', {
    config: { roles: OFFICERS, audit: { action: 'str.preview', entity: 'str_draft', idParam: 'draftId' } },
    schema: { summary: 'Render and validate a draft without exporting it', tags: ['str'], params: draftIdParams },
  }, async (request) => {
    const { draftId } = request.params as { draftId: string }
    const record = await (await store()).get(draftId)
    const preview = await previewGoaml(record.draft, { schemaPath: settings.schemaPath, submissionTimeMs: options.clock.nowMs(), timeoutMs: settings.xmllintTimeoutMs })
    return { draftId, revision: record.draft.revision, ...preview }
  })
}
