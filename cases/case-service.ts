/**
 * The case service: alerts in, de-duplicated into incidents, grouped into cases, worked by
 * officers through a lifecycle; every change durable, serialised per case, audited, and
 * published (case events, labels) through the store's outbox. Issue 6 item 4; the why is in
 * docs/cases.md.
 *
 * - Incidents: an alert joins its player's latest incident of the same detector (typology) when
 *   that incident's case is not closed and the alert's event time is within the incident's
 *   window (24 h from its first alert by default, per detector in the policy); otherwise it
 *   opens a new incident. A replayed alertId changes nothing (outcome 'duplicate').
 * - Cases: one case that is not CLOSED per subject, the subject being the alert's cluster when
 *   it carries a clusterId, else its player. New incidents join it; priority and SLA follow the
 *   policy (policy.ts).
 * - Officer actions take `{ caseId, expectedVersion, actor }`: the version read, checked under
 *   the case's lock, so of two officers claiming version 3 one gets version 4 and the other
 *   RISK_ERR_CASE_CONFLICT. Comments and evidence only add, so their expectedVersion is optional.
 *   Times of officer actions come from the injected clock; an alert's from its event time.
 * - Errors: RISK_ERR_CASE_NOT_FOUND (no such case, incident or alert), RISK_ERR_CASE_CONFLICT
 *   (stale version), RISK_ERR_CASE_TRANSITION (not allowed now; the message lists what is),
 *   RISK_ERR_FORBIDDEN (an MLRO-only action), RISK_ERR_REQUEST_INVALID (a malformed request),
 *   RISK_ERR_INVALID_FIELD (a malformed alert), RISK_ERR_STATE_WRITE (the disk; retry).
 *
 * Example:
 *   const cases = await createCaseService({ directory: '/var/lib/pitboss/cases', clock: systemClock })
 *   const { caseId } = await cases.ingestAlert(alert)                  // an Alert of risk.alerts.v1
 *   const current = await cases.get(caseId)                            // version 1, OPEN
 *   const anna = { id: 'anna', role: 'aml_officer' }
 *   const claimed = await cases.claim({ caseId, expectedVersion: current.version, actor: anna })
 *   for (const item of claimed.checklist) await cases.tickChecklist({ caseId, expectedVersion: (await cases.get(caseId)).version, actor: anna, itemId: item.itemId })
 *   await cases.close({ caseId, expectedVersion: (await cases.get(caseId)).version, actor: anna, resolution: 'DISMISSED', reason: 'explained by payroll deposits' })
 *   await cases.verifyAuditChain()                                     // { ok: true, ... }
 *   await cases.shutdown()
 */
import type { Clock } from '../core/clock.js'
import { RiskError, type ErrorCode } from '../core/errors.js'
import type { CaseEventType, CaseLabel } from '../schemas/generated/types.js'
import type { AuditVerification } from './audit-chain.js'
import { canonicalJson } from './audit-chain.js'
import { KeyedMutex } from './keyed-mutex.js'
import { allowedActions, allowedResolutions, assertAllowed, type CaseAction } from './lifecycle.js'
import { casePolicy, checklistItemsOf, higherPriority, incidentWindowOf, priorityOf, priorityRank, type CasePolicy, type CasePolicyOverrides } from './policy.js'
import { CaseStore, KEY_SEPARATOR, type EventDraft, type OutboxSource } from './store.js'
import {
  CASE_PRIORITIES, CASE_STATUSES, CLOSE_RESOLUTIONS, EVIDENCE_KINDS,
  type Actor, type AlertInput, type Case, type CaseEvent, type CasePriority, type CaseStatus, type CaseSubject,
  type ChecklistEntry, type CloseResolution, type EvidenceKind, type Incident, type IngestResult, type StoredAlert,
} from './types.js'

export interface CaseServiceOptions {
  /** Folder of the case store's RocksDB; one process at a time. */
  readonly directory: string
  readonly clock: Clock
  readonly policy?: CasePolicyOverrides
}

/** Opens the store and returns the service. */
export async function createCaseService(options: CaseServiceOptions): Promise<CaseService> {
  const policy = casePolicy(options.policy)
  const store = await CaseStore.open(options.directory)
  return new CaseService(store, policy, options.clock)
}

/** The identity that alerts act under in the audit log. */
export const SYSTEM_ACTOR: Actor = Object.freeze({ id: 'case-service', role: 'system' })

export interface CaseRequest {
  readonly caseId: string
  readonly actor: Actor
  /** The case version the caller read; a different current version fails with RISK_ERR_CASE_CONFLICT. */
  readonly expectedVersion: number
}

/** For actions that only add (comments, evidence): the version check is optional. */
export interface AddingRequest extends Omit<CaseRequest, 'expectedVersion'> {
  readonly expectedVersion?: number
}

export interface CaseFilter {
  readonly status?: CaseStatus
  readonly assigneeId?: string
  readonly priority?: CasePriority
  readonly playerId?: string
  /** At most this many (default 100, at most 1000). */
  readonly limit?: number
  /** Cases after this id (the last id of the previous page). */
  readonly afterCaseId?: string
}

const MAX_TEXT_LENGTH = 10_000
const MAX_ID_LENGTH = 256
const DEFAULT_LIST_LIMIT = 100
const MAX_LIST_LIMIT = 1000

const KEYS = {
  case: (caseId: string) => `case/${caseId}`,
  incident: (incidentId: string) => `incident/${incidentId}`,
  alert: (alertId: string) => `alert/${alertId}`,
  openCase: (subject: CaseSubject) => `open/${subject.kind}${KEY_SEPARATOR}${subject.id}`,
  latestIncident: (playerId: string, detectorId: string) => `latest-incident/${playerId}${KEY_SEPARATOR}${detectorId}`,
  index: (name: IndexName, value: string) => `ix/${name}/${value}${KEY_SEPARATOR}`,
} as const

type IndexName = 'status' | 'assignee' | 'priority' | 'player'

const LOCKS = {
  alert: (alertId: string) => `alert:${alertId}`,
  incident: (playerId: string, detectorId: string) => `incident:${playerId}${KEY_SEPARATOR}${detectorId}`,
  subject: (subject: CaseSubject) => `subject:${subject.kind}${KEY_SEPARATOR}${subject.id}`,
  case: (caseId: string) => `case:${caseId}`,
} as const

function formatId(kind: 'CASE' | 'INC', number: number): string {
  return `${kind}-${String(number).padStart(8, '0')}`
}

/** The secondary-index keys of a case; a change deletes the ones it loses and writes the new ones. */
function indexKeysOf(record: Case): string[] {
  const keys = [KEYS.index('status', record.status) + record.caseId, KEYS.index('priority', record.priority) + record.caseId]
  if (record.assigneeId !== null) keys.push(KEYS.index('assignee', record.assigneeId) + record.caseId)
  for (const playerId of record.playerIds) keys.push(KEYS.index('player', playerId) + record.caseId)
  return keys
}

function union(values: readonly string[], more: readonly string[]): string[] {
  const result = [...values]
  for (const value of more) if (!result.includes(value)) result.push(value)
  return result
}

function fail(code: ErrorCode, message: string, context: Record<string, string | number | null> = {}): never {
  throw new RiskError(code, message, context)
}

function requireText(value: unknown, name: string, code: ErrorCode, maxLength = MAX_TEXT_LENGTH): string {
  if (typeof value !== 'string' || value.trim() === '') fail(code, `${name} must be a non-empty string`, { field: name })
  if (value.length > maxLength) fail(code, `${name} is ${value.length} characters, more than ${maxLength}`, { field: name })
  return value
}

function requireId(value: unknown, name: string, code: ErrorCode): string {
  const id = requireText(value, name, code, MAX_ID_LENGTH)
  if (id.includes(KEY_SEPARATOR)) fail(code, `${name} must not contain the NUL character`, { field: name })
  return id
}

function optionalText(value: unknown, name: string): string | null {
  return value === undefined || value === null ? null : requireText(value, name, 'RISK_ERR_REQUEST_INVALID')
}

function requireActor(actor: unknown): Actor {
  const candidate = actor as Partial<Actor> | null | undefined
  if (candidate === null || typeof candidate !== 'object') fail('RISK_ERR_REQUEST_INVALID', 'actor must be { id, role }', { field: 'actor' })
  return { id: requireId(candidate.id, 'actor.id', 'RISK_ERR_REQUEST_INVALID'), role: requireId(candidate.role, 'actor.role', 'RISK_ERR_REQUEST_INVALID') }
}

const SEVERITIES: readonly string[] = CASE_PRIORITIES

/** Checks an alert and fills the optional inputs; RISK_ERR_INVALID_FIELD names the bad field. */
function toStoredAlert(input: AlertInput): Omit<StoredAlert, 'incidentId' | 'caseId'> {
  const code = 'RISK_ERR_INVALID_FIELD'
  if (input === null || typeof input !== 'object') fail(code, 'the alert must be an object')
  const alertId = requireId(input.alertId, 'alertId', code)
  const playerId = requireId(input.playerId, 'playerId', code)
  const detectorId = requireId(input.detectorId, 'detectorId', code)
  if (!SEVERITIES.includes(input.severity)) fail(code, `severity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(input.severity)}`, { alertId, field: 'severity' })
  if (!Number.isSafeInteger(input.eventTimeMs) || input.eventTimeMs < 0) fail(code, `eventTimeMs must be a non-negative integer, got ${String(input.eventTimeMs)}`, { alertId, field: 'eventTimeMs' })
  const clusterId = input.clusterId === undefined || input.clusterId === null ? null : requireId(input.clusterId, 'clusterId', code)
  const amountMinor = input.amountMinor ?? null
  if (amountMinor !== null && (!Number.isSafeInteger(amountMinor) || amountMinor < 0)) fail(code, `amountMinor must be a non-negative integer of minor units, got ${String(amountMinor)}`, { alertId, field: 'amountMinor' })
  const decisionIds = [...(input.decisionIds ?? []), ...(input.decisionId === undefined || input.decisionId === null ? [] : [input.decisionId])].map((id, index) => requireId(id, `decisionIds[${index}]`, code))
  const currency = amountMinor === null ? null : input.currency ?? null
  return {
    alertId, playerId, detectorId, detectorVersion: input.detectorVersion, severity: input.severity, action: input.action,
    eventTimeMs: input.eventTimeMs, value: input.value ?? null, threshold: input.threshold ?? null,
    windowStartMs: input.windowStartMs ?? null, windowEndMs: input.windowEndMs ?? null,
    evidenceEventIds: [...(input.evidenceEventIds ?? [])], ruleSetVersion: input.ruleSetVersion,
    clusterId, amountMinor, currency, decisionIds: [...new Set(decisionIds)],
  }
}

interface EventSpec {
  readonly type: CaseEventType
  readonly details: Record<string, unknown>
}

interface Change {
  readonly next: Case
  readonly events: readonly EventSpec[]
  readonly puts?: ReadonlyArray<readonly [string, unknown]>
  readonly deletes?: readonly string[]
  readonly labels?: readonly CaseLabel[]
}

export class CaseService {
  private readonly locks = new KeyedMutex()

  constructor(private readonly store: CaseStore, readonly policy: CasePolicy, private readonly clock: Clock) {}

  /** Where the outbox relay reads what to publish (outbox-relay.ts). */
  get outbox(): OutboxSource {
    return this.store
  }

  // ---------------------------------------------------------------- alerts

  /**
   * Files one alert: into its incident, the incident into its case. Idempotent by alertId.
   * Example: 20 alerts of deposit_structuring for p-1 within 24 h -> one case, one incident
   * with 20 alertIds (outcomes: 'opened-case', then 19 x 'joined-incident').
   */
  async ingestAlert(input: AlertInput): Promise<IngestResult> {
    const alert = toStoredAlert(input)
    const subject: CaseSubject = alert.clusterId === null ? { kind: 'player', id: alert.playerId } : { kind: 'cluster', id: alert.clusterId }
    const releaseOthers = await this.locks.acquireAll([LOCKS.alert(alert.alertId), LOCKS.incident(alert.playerId, alert.detectorId), LOCKS.subject(subject)])
    try {
      const existing = await this.store.get<StoredAlert>(KEYS.alert(alert.alertId))
      if (existing !== undefined) {
        const record = await this.store.get<Case>(KEYS.case(existing.caseId))
        return { outcome: 'duplicate', caseId: existing.caseId, incidentId: existing.incidentId, caseVersion: record?.version ?? 0 }
      }
      // A joinable incident's case may have another subject (cluster vs player), whose lock we
      // do not hold: it can close between the look and the case lock, so look again then.
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const incident = await this.joinableIncident(alert)
        const openCaseId = incident?.caseId ?? (await this.store.get<string>(KEYS.openCase(subject)))
        const caseId = openCaseId ?? formatId('CASE', this.store.nextId('case'))
        const releaseCase = await this.locks.acquire(LOCKS.case(caseId))
        try {
          const current = openCaseId === undefined ? undefined : await this.store.get<Case>(KEYS.case(caseId))
          if (openCaseId !== undefined && (current === undefined || current.status === 'CLOSED')) continue
          return await this.fileAlert(alert, subject, caseId, current, incident)
        } finally {
          releaseCase()
        }
      }
      throw new RiskError('RISK_ERR_STATE_CORRUPT', `the open-case index of ${subject.kind} ${subject.id} names a case that is closed or missing`, { alertId: alert.alertId })
    } finally {
      releaseOthers()
    }
  }

  /** The player's latest incident of this typology, when its case is open and its window holds the alert. */
  private async joinableIncident(alert: Omit<StoredAlert, 'incidentId' | 'caseId'>): Promise<Incident | undefined> {
    const incidentId = await this.store.get<string>(KEYS.latestIncident(alert.playerId, alert.detectorId))
    if (incidentId === undefined) return undefined
    const incident = await this.store.get<Incident>(KEYS.incident(incidentId))
    if (incident === undefined) return undefined
    const record = await this.store.get<Case>(KEYS.case(incident.caseId))
    if (record === undefined || record.status === 'CLOSED') return undefined
    // The window is anchored at the first alert; an alert a little behind it (out of order) belongs too.
    const windowMs = incident.windowEndMs - incident.firstAlertTimeMs
    const inWindow = alert.eventTimeMs < incident.windowEndMs && alert.eventTimeMs > incident.firstAlertTimeMs - windowMs
    return inWindow ? incident : undefined
  }

  private async fileAlert(alert: Omit<StoredAlert, 'incidentId' | 'caseId'>, subject: CaseSubject, caseId: string, current: Case | undefined, incident: Incident | undefined): Promise<IngestResult> {
    const atMs = alert.eventTimeMs
    const alertPriority = priorityOf(this.policy, alert.severity, alert.amountMinor)
    const events: EventSpec[] = []
    const puts: Array<readonly [string, unknown]> = []
    let base: Case
    if (current === undefined) {
      base = {
        caseId, version: 0, status: 'OPEN', subject, playerIds: [], typologies: [], incidentIds: [], alertCount: 0,
        priority: alertPriority, maxSeverity: alert.severity, maxAmountMinor: null, openedAtMs: atMs, lastAlertAtMs: atMs,
        dueAtMs: atMs + this.policy.slaMs[alertPriority], updatedAtMs: atMs, assigneeId: null, escalatedAtMs: null, escalationReason: null,
        closedAtMs: null, closedBy: null, resolution: null, closeReason: null, checklistOverrideReason: null,
        checklist: [], comments: [], evidence: [], decisionIds: [],
      }
      puts.push([KEYS.openCase(subject), caseId])
      events.push({ type: 'CASE_OPENED', details: { firstAlertId: alert.alertId, priority: alertPriority, dueAtMs: base.dueAtMs } })
    } else {
      base = current
    }

    let next: Incident
    let outcome: IngestResult['outcome']
    let checklist: readonly ChecklistEntry[] = base.checklist
    let typologies = base.typologies
    if (incident === undefined) {
      const incidentId = formatId('INC', this.store.nextId('incident'))
      next = {
        incidentId, caseId, playerId: alert.playerId, detectorId: alert.detectorId, maxSeverity: alert.severity,
        firstAlertTimeMs: atMs, lastAlertTimeMs: atMs, windowEndMs: atMs + incidentWindowOf(this.policy, alert.detectorId),
        alertIds: [alert.alertId], maxAmountMinor: alert.amountMinor,
      }
      puts.push([KEYS.latestIncident(alert.playerId, alert.detectorId), incidentId])
      if (!typologies.includes(alert.detectorId)) {
        typologies = [...typologies, alert.detectorId]
        checklist = [...checklist, ...checklistItemsOf(this.policy, alert.detectorId).map((item): ChecklistEntry => ({
          itemId: `${alert.detectorId}:${item.id}`, detectorId: alert.detectorId, text: item.text, tickedBy: null, tickedAtMs: null, note: null,
        }))]
      }
      events.push({ type: 'INCIDENT_OPENED', details: { incidentId, playerId: alert.playerId, detectorId: alert.detectorId, windowEndMs: next.windowEndMs } })
      outcome = current === undefined ? 'opened-case' : 'opened-incident'
    } else {
      next = {
        ...incident,
        alertIds: [...incident.alertIds, alert.alertId],
        maxSeverity: priorityRank(alert.severity) > priorityRank(incident.maxSeverity) ? alert.severity : incident.maxSeverity,
        lastAlertTimeMs: Math.max(incident.lastAlertTimeMs, atMs),
        maxAmountMinor: maxAmount(incident.maxAmountMinor, alert.amountMinor),
      }
      outcome = 'joined-incident'
    }
    events.push({ type: 'ALERT_ADDED', details: { alertId: alert.alertId, incidentId: next.incidentId, playerId: alert.playerId, detectorId: alert.detectorId, severity: alert.severity, amountMinor: alert.amountMinor } })

    const priority = higherPriority(base.priority, alertPriority)
    const dueAtMs = Math.min(base.dueAtMs, base.openedAtMs + this.policy.slaMs[priority])
    if (current !== undefined && priority !== base.priority) events.push({ type: 'PRIORITY_RAISED', details: { from: base.priority, to: priority, dueAtMs, alertId: alert.alertId } })
    const record: Case = {
      ...base,
      version: base.version + 1,
      playerIds: union(base.playerIds, [alert.playerId]),
      typologies,
      incidentIds: union(base.incidentIds, [next.incidentId]),
      alertCount: base.alertCount + 1,
      priority,
      dueAtMs,
      maxSeverity: priorityRank(alert.severity) > priorityRank(base.maxSeverity) ? alert.severity : base.maxSeverity,
      maxAmountMinor: maxAmount(base.maxAmountMinor, alert.amountMinor),
      lastAlertAtMs: Math.max(base.lastAlertAtMs, atMs),
      updatedAtMs: Math.max(base.updatedAtMs, atMs),
      checklist,
      decisionIds: union(base.decisionIds, alert.decisionIds),
    }
    const stored: StoredAlert = { ...alert, incidentId: next.incidentId, caseId }
    puts.push([KEYS.incident(next.incidentId), next], [KEYS.alert(alert.alertId), stored])
    await this.write(current, record, events, SYSTEM_ACTOR, atMs, { puts })
    return { outcome, caseId, incidentId: next.incidentId, caseVersion: record.version }
  }

  // ---------------------------------------------------------------- officer actions

  /** OPEN -> IN_REVIEW with the actor as assignee (an MLRO takes an unassigned escalated case the same way). */
  async claim(request: CaseRequest): Promise<Case> {
    return this.change(request, 'claim', (current, actor) => ({
      next: { ...current, status: current.status === 'ESCALATED' ? 'ESCALATED' : 'IN_REVIEW', assigneeId: actor.id },
      events: [{ type: 'CLAIMED', details: { assigneeId: actor.id, previousAssigneeId: current.assigneeId } }],
    }))
  }

  /** Gives the case back: IN_REVIEW -> OPEN, or an escalated case back to the MLRO queue. */
  async unclaim(request: CaseRequest): Promise<Case> {
    return this.change(request, 'unclaim', (current) => ({
      next: { ...current, status: current.status === 'ESCALATED' ? 'ESCALATED' : 'OPEN', assigneeId: null },
      events: [{ type: 'UNCLAIMED', details: { previousAssigneeId: current.assigneeId } }],
    }))
  }

  /** Assigns (or reassigns) the case to an officer; an OPEN case goes IN_REVIEW. */
  async assign(request: CaseRequest & { readonly assigneeId: string }): Promise<Case> {
    const assigneeId = requireId(request.assigneeId, 'assigneeId', 'RISK_ERR_REQUEST_INVALID')
    return this.change(request, 'assign', (current) => ({
      next: { ...current, status: current.status === 'OPEN' ? 'IN_REVIEW' : current.status, assigneeId },
      events: [{ type: 'ASSIGNED', details: { assigneeId, previousAssigneeId: current.assigneeId } }],
    }))
  }

  async comment(request: AddingRequest & { readonly text: string }): Promise<Case> {
    const text = requireText(request.text, 'text', 'RISK_ERR_REQUEST_INVALID')
    return this.change(request, 'comment', (current, actor, atMs) => {
      const commentId = `${current.caseId}/comment-${current.comments.length + 1}`
      return {
        next: { ...current, comments: [...current.comments, { commentId, authorId: actor.id, authorRole: actor.role, text, atMs }] },
        events: [{ type: 'COMMENTED', details: { commentId, text } }],
      }
    })
  }

  /** Attaches a reference: an input event id, a decision id (withdrawalId:revision; it then goes into the labels) or a note. */
  async addEvidence(request: AddingRequest & { readonly kind: EvidenceKind; readonly reference: string; readonly description?: string | null }): Promise<Case> {
    if (!EVIDENCE_KINDS.includes(request.kind)) fail('RISK_ERR_REQUEST_INVALID', `kind must be one of ${EVIDENCE_KINDS.join(', ')}, got ${JSON.stringify(request.kind)}`, { field: 'kind' })
    const reference = requireText(request.reference, 'reference', 'RISK_ERR_REQUEST_INVALID')
    const description = optionalText(request.description, 'description')
    return this.change(request, 'addEvidence', (current, actor, atMs) => {
      const evidenceId = `${current.caseId}/evidence-${current.evidence.length + 1}`
      return {
        next: {
          ...current,
          evidence: [...current.evidence, { evidenceId, kind: request.kind, reference, description, addedBy: actor.id, addedAtMs: atMs }],
          decisionIds: request.kind === 'decision' ? union(current.decisionIds, [reference]) : current.decisionIds,
        },
        events: [{ type: 'EVIDENCE_ADDED', details: { evidenceId, kind: request.kind, reference, description } }],
      }
    })
  }

  async tickChecklist(request: CaseRequest & { readonly itemId: string; readonly note?: string | null }): Promise<Case> {
    const itemId = requireId(request.itemId, 'itemId', 'RISK_ERR_REQUEST_INVALID')
    const note = optionalText(request.note, 'note')
    return this.change(request, 'tickChecklist', (current, actor, atMs) => {
      const item = current.checklist.find((entry) => entry.itemId === itemId)
      if (item === undefined) fail('RISK_ERR_REQUEST_INVALID', `case ${current.caseId} has no checklist item ${itemId}; its items: ${current.checklist.map((entry) => entry.itemId).join(', ')}`, { caseId: current.caseId, itemId })
      if (item.tickedBy !== null) fail('RISK_ERR_CASE_TRANSITION', `checklist item ${itemId} of case ${current.caseId} was already ticked by ${item.tickedBy}`, { caseId: current.caseId, itemId })
      return {
        next: { ...current, checklist: current.checklist.map((entry) => (entry === item ? { ...entry, tickedBy: actor.id, tickedAtMs: atMs, note } : entry)) },
        events: [{ type: 'CHECKLIST_TICKED', details: { itemId, note } }],
      }
    })
  }

  /** OPEN or IN_REVIEW -> ESCALATED: to the MLRO roles' queue, unassigned. */
  async escalate(request: CaseRequest & { readonly reason: string }): Promise<Case> {
    const reason = requireText(request.reason, 'reason', 'RISK_ERR_REQUEST_INVALID')
    return this.change(request, 'escalate', (current, _actor, atMs) => ({
      next: { ...current, status: 'ESCALATED', assigneeId: null, escalatedAtMs: atMs, escalationReason: reason },
      events: [{ type: 'ESCALATED', details: { reason, previousAssigneeId: current.assigneeId, toRoles: this.policy.mlroRoles } }],
    }))
  }

  /**
   * Closes the case with a resolution, which emits one label per (player, typology) to
   * risk.labels.v1: STR_FILED and RESTRICTED are true positives, DISMISSED a false positive.
   * Needs every checklist item ticked, or a checklistOverrideReason.
   */
  async close(request: CaseRequest & { readonly resolution: CloseResolution; readonly reason: string; readonly checklistOverrideReason?: string | null }): Promise<Case> {
    if (!CLOSE_RESOLUTIONS.includes(request.resolution)) fail('RISK_ERR_REQUEST_INVALID', `resolution must be one of ${CLOSE_RESOLUTIONS.join(', ')}, got ${JSON.stringify(request.resolution)}`, { field: 'resolution' })
    const reason = requireText(request.reason, 'reason', 'RISK_ERR_REQUEST_INVALID')
    const override = optionalText(request.checklistOverrideReason, 'checklistOverrideReason')
    return this.change(request, 'close', async (current, actor, atMs) => {
      const resolutions = allowedResolutions(current)
      if (!resolutions.includes(request.resolution)) {
        fail('RISK_ERR_CASE_TRANSITION', `case ${current.caseId} in status ${current.status} cannot close as ${request.resolution} (an STR is filed from an escalated case); allowed resolutions: ${resolutions.join(', ')}`, { caseId: current.caseId, status: current.status })
      }
      const unticked = current.checklist.filter((entry) => entry.tickedBy === null).map((entry) => entry.itemId)
      if (unticked.length > 0 && override === null) {
        fail('RISK_ERR_CASE_TRANSITION', `case ${current.caseId} has unticked checklist items (${unticked.join(', ')}); tick them or close with a checklistOverrideReason`, { caseId: current.caseId })
      }
      const labels = await this.labelsOf(current, request.resolution, atMs, actor)
      return {
        next: {
          ...current, status: 'CLOSED', closedAtMs: atMs, closedBy: actor.id, resolution: request.resolution, closeReason: reason,
          checklistOverrideReason: unticked.length > 0 ? override : null,
        },
        events: [{ type: 'CLOSED', details: { resolution: request.resolution, reason, checklistOverrideReason: unticked.length > 0 ? override : null, untickedItems: unticked, labelIds: labels.map((label) => label.labelId) } }],
        deletes: [KEYS.openCase(current.subject)],
        labels,
      }
    }, { lockSubject: true })
  }

  private async labelsOf(record: Case, resolution: CloseResolution, closedAtMs: number, actor: Actor): Promise<CaseLabel[]> {
    const incidents = await this.incidentsOf(record)
    const stored = await this.store.getMany<StoredAlert>(incidents.flatMap((incident) => incident.alertIds.map(KEYS.alert)))
    const alerts = new Map(stored.filter((alert): alert is StoredAlert => alert !== undefined).map((alert) => [alert.alertId, alert]))
    const evidenceDecisions = record.evidence.filter((evidence) => evidence.kind === 'decision').map((evidence) => evidence.reference)
    const groups = new Map<string, { playerId: string; typology: string; alertIds: string[]; incidentIds: string[] }>()
    for (const incident of incidents) {
      const key = incident.playerId + KEY_SEPARATOR + incident.detectorId
      const group = groups.get(key) ?? { playerId: incident.playerId, typology: incident.detectorId, alertIds: [], incidentIds: [] }
      group.alertIds.push(...incident.alertIds)
      group.incidentIds.push(incident.incidentId)
      groups.set(key, group)
    }
    return [...groups.values()].map((group) => {
      // Alert times, not the incident's anchor: an alert may arrive behind its incident's first one.
      const times = group.alertIds.map((alertId) => alerts.get(alertId)?.eventTimeMs).filter((time): time is number => time !== undefined)
      return {
        labelId: `${record.caseId}:${group.playerId}:${group.typology}`,
        caseId: record.caseId,
        playerId: group.playerId,
        typology: group.typology,
        outcome: resolution === 'DISMISSED' ? 'FALSE_POSITIVE' : 'TRUE_POSITIVE',
        resolution,
        alertIds: group.alertIds,
        incidentIds: group.incidentIds,
        decisionIds: union(group.alertIds.flatMap((alertId) => alerts.get(alertId)?.decisionIds ?? []), evidenceDecisions),
        firstAlertTimeMs: Math.min(...times),
        lastAlertTimeMs: Math.max(...times),
        closedAtMs,
        closedBy: actor.id,
      }
    })
  }

  /**
   * One officer action: lock (the subject too when the open-case index changes), read, check the
   * version, then the state and role, build the change, write it. The lock is held until the
   * write is on disk, so the next action on the case reads its result.
   */
  private async change(
    request: CaseRequest | AddingRequest,
    action: CaseAction,
    build: (current: Case, actor: Actor, atMs: number) => Change | Promise<Change>,
    options: { lockSubject?: boolean } = {},
  ): Promise<Case> {
    const caseId = requireId(request?.caseId, 'caseId', 'RISK_ERR_REQUEST_INVALID')
    const actor = requireActor(request.actor)
    const expectedVersion = request.expectedVersion
    if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
      fail('RISK_ERR_REQUEST_INVALID', `expectedVersion must be the positive integer version the case was read at, got ${String(expectedVersion)}`, { caseId, field: 'expectedVersion' })
    }
    let releaseSubject = (): void => undefined
    if (options.lockSubject === true) {
      // The subject never changes, so it can be read before the lock; the subject lock comes first (see keyed-mutex.ts).
      releaseSubject = await this.locks.acquireAll([LOCKS.subject((await this.get(caseId)).subject)])
    }
    try {
      const releaseCase = await this.locks.acquire(LOCKS.case(caseId))
      try {
        const current = await this.get(caseId)
        if (expectedVersion !== undefined && current.version !== expectedVersion) {
          fail('RISK_ERR_CASE_CONFLICT', `case ${caseId} is at version ${current.version}, not ${expectedVersion}: it changed since it was read (status ${current.status}${current.assigneeId === null ? '' : `, assigned to ${current.assigneeId}`}); reload it and act again`, { caseId, expectedVersion, currentVersion: current.version })
        }
        assertAllowed(current, action, actor, this.policy)
        const atMs = this.clock.nowMs()
        const change = await build(current, actor, atMs)
        const next: Case = { ...change.next, version: current.version + 1, updatedAtMs: Math.max(current.updatedAtMs, atMs) }
        await this.write(current, next, change.events, actor, atMs, change)
        return next
      } finally {
        releaseCase()
      }
    } finally {
      releaseSubject()
    }
  }

  /** Writes the case with its index changes, events and extra records in one store commit. */
  private async write(previous: Case | undefined, next: Case, events: readonly EventSpec[], actor: Actor, atMs: number, extra: Omit<Partial<Change>, 'next' | 'events'>): Promise<CaseEvent[]> {
    const before = new Set(previous === undefined ? [] : indexKeysOf(previous))
    const after = new Set(indexKeysOf(next))
    const drafts: EventDraft[] = events.map((event) => ({
      caseId: next.caseId, caseVersion: next.version, type: event.type, status: next.status,
      subjectKind: next.subject.kind, subjectId: next.subject.id, actorId: actor.id, actorRole: actor.role,
      occurredAtMs: atMs, details: canonicalJson(event.details),
    }))
    return this.store.commit({
      puts: [[KEYS.case(next.caseId), next], ...[...after].filter((key) => !before.has(key)).map((key) => [key, 1] as const), ...(extra.puts ?? [])],
      deletes: [...[...before].filter((key) => !after.has(key)), ...(extra.deletes ?? [])],
      events: drafts,
      labels: extra.labels ?? [],
    })
  }

  // ---------------------------------------------------------------- queries

  /** The case; RISK_ERR_CASE_NOT_FOUND when there is none. */
  async get(caseId: string): Promise<Case> {
    const record = await this.store.get<Case>(KEYS.case(requireId(caseId, 'caseId', 'RISK_ERR_REQUEST_INVALID')))
    if (record === undefined) fail('RISK_ERR_CASE_NOT_FOUND', `no case ${caseId}`, { caseId })
    return record
  }

  /**
   * Cases matching every given filter, in case-id (creation) order, a page at a time.
   * Example: `list({ status: 'OPEN', priority: 'CRITICAL', limit: 50 })`.
   */
  async list(filter: CaseFilter = {}): Promise<Case[]> {
    if (filter.status !== undefined && !CASE_STATUSES.includes(filter.status)) fail('RISK_ERR_REQUEST_INVALID', `status must be one of ${CASE_STATUSES.join(', ')}`, { field: 'status' })
    if (filter.priority !== undefined && !CASE_PRIORITIES.includes(filter.priority)) fail('RISK_ERR_REQUEST_INVALID', `priority must be one of ${CASE_PRIORITIES.join(', ')}`, { field: 'priority' })
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) fail('RISK_ERR_REQUEST_INVALID', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, { field: 'limit' })
    // Walk the most selective index given; the other filters are checked on the records.
    const indexed: [IndexName, string] | null =
      filter.playerId !== undefined ? ['player', requireId(filter.playerId, 'playerId', 'RISK_ERR_REQUEST_INVALID')]
        : filter.assigneeId !== undefined ? ['assignee', requireId(filter.assigneeId, 'assigneeId', 'RISK_ERR_REQUEST_INVALID')]
          : filter.status !== undefined ? ['status', filter.status]
            : filter.priority !== undefined ? ['priority', filter.priority]
              : null
    const prefix = indexed === null ? KEYS.case('') : KEYS.index(indexed[0], indexed[1])
    const after = filter.afterCaseId === undefined ? undefined : prefix + filter.afterCaseId
    const matches = (record: Case): boolean =>
      (filter.status === undefined || record.status === filter.status)
      && (filter.priority === undefined || record.priority === filter.priority)
      && (filter.assigneeId === undefined || record.assigneeId === filter.assigneeId)
      && (filter.playerId === undefined || record.playerIds.includes(filter.playerId))
    const found: Case[] = []
    let page: string[] = []
    const flush = async (): Promise<void> => {
      const records = indexed === null
        ? page.map((value) => JSON.parse(value) as Case)
        : (await this.store.getMany<Case>(page.map(KEYS.case))).filter((record): record is Case => record !== undefined)
      for (const record of records) if (found.length < limit && matches(record)) found.push(record)
      page = []
    }
    for await (const [key, value] of this.store.scan(prefix, { after })) {
      page.push(indexed === null ? value.toString('utf8') : key.slice(prefix.length))
      if (page.length >= 100) await flush()
      if (found.length >= limit) break
    }
    if (found.length < limit) await flush()
    return found
  }

  /** The case's events, oldest first (the audit log's entries for this case). */
  async timeline(caseId: string): Promise<CaseEvent[]> {
    await this.get(caseId)
    return this.store.timeline(caseId)
  }

  /** The incidents of a case, in the order they opened. */
  async incidents(caseId: string): Promise<Incident[]> {
    return this.incidentsOf(await this.get(caseId))
  }

  private async incidentsOf(record: Case): Promise<Incident[]> {
    const incidents = await this.store.getMany<Incident>(record.incidentIds.map(KEYS.incident))
    return incidents.map((incident, index) => {
      if (incident === undefined) throw new RiskError('RISK_ERR_STATE_CORRUPT', `case ${record.caseId} names incident ${record.incidentIds[index]}, which is not stored`, { caseId: record.caseId })
      return incident
    })
  }

  async incident(incidentId: string): Promise<Incident> {
    const incident = await this.store.get<Incident>(KEYS.incident(requireId(incidentId, 'incidentId', 'RISK_ERR_REQUEST_INVALID')))
    if (incident === undefined) fail('RISK_ERR_CASE_NOT_FOUND', `no incident ${incidentId}`, { incidentId })
    return incident
  }

  /** The alerts of an incident, in arrival order. */
  async alerts(incidentId: string): Promise<StoredAlert[]> {
    const incident = await this.incident(incidentId)
    const alerts = await this.store.getMany<StoredAlert>(incident.alertIds.map(KEYS.alert))
    return alerts.filter((alert): alert is StoredAlert => alert !== undefined)
  }

  async alert(alertId: string): Promise<StoredAlert> {
    const alert = await this.store.get<StoredAlert>(KEYS.alert(requireId(alertId, 'alertId', 'RISK_ERR_REQUEST_INVALID')))
    if (alert === undefined) fail('RISK_ERR_CASE_NOT_FOUND', `no alert ${alertId}`, { alertId })
    return alert
  }

  /** What the actor may do with the case now (for the console's buttons). */
  allowedActions(record: Case, actor: Actor): CaseAction[] {
    return allowedActions(record, actor, this.policy)
  }

  /** Recomputes every hash of the audit log; reports the first broken link. */
  async verifyAuditChain(): Promise<AuditVerification> {
    return this.store.verifyAuditChain()
  }

  /**
   * Waits for submitted writes and closes the store. (Named apart from close(request), which
   * closes a case, so that a forgotten argument cannot shut the service down.)
   */
  async shutdown(): Promise<void> {
    return this.store.close()
  }
}

function maxAmount(left: number | null, right: number | null): number | null {
  if (left === null) return right
  if (right === null) return left
  return Math.max(left, right)
}

export type { CaseAction } from './lifecycle.js'
export type { AuditVerification, BrokenLink } from './audit-chain.js'
export type { CasePolicy, CasePolicyOverrides } from './policy.js'
