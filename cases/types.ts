/**
 * The case store's domain types: cases, incidents (de-duplicated alert groups), the alerts
 * inside them, and the inputs the case service takes. Case events and labels are the wire
 * records of `risk.case-events.v1` and `risk.labels.v1` (schemas/generated/types.ts): the audit
 * log stores exactly what is published, so a consumer can re-check the hash chain.
 *
 * Example (a case with one incident of 20 alerts):
 *   { caseId: 'CASE-00000001', version: 21, status: 'OPEN', subject: { kind: 'player', id: 'p-1' },
 *     incidentIds: ['INC-00000001'], alertCount: 20, priority: 'HIGH', dueAtMs: 1715776601250, ... }
 */
import type { Alert, AlertSeverity, CaseEvent, CaseLabel, CaseStatus } from '../schemas/generated/types.js'

export type { AlertSeverity, CaseEvent, CaseEventType, CaseLabel, CaseResolution, CaseStatus } from '../schemas/generated/types.js'

export const CASE_STATUSES = ['OPEN', 'IN_REVIEW', 'ESCALATED', 'CLOSED'] as const satisfies readonly CaseStatus[]

/** Resolutions an officer can close a case with (the schema's UNKNOWN is for readers only). */
export const CLOSE_RESOLUTIONS = ['DISMISSED', 'RESTRICTED', 'STR_FILED'] as const
export type CloseResolution = (typeof CLOSE_RESOLUTIONS)[number]

/** Priorities, lowest first; they share their names with alert severities. */
export const CASE_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const satisfies readonly AlertSeverity[]
export type CasePriority = (typeof CASE_PRIORITIES)[number]

export const EVIDENCE_KINDS = ['event', 'decision', 'note'] as const
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number]

/** Who acts: an officer's id and role (the API takes both from the bearer token). */
export interface Actor {
  readonly id: string
  readonly role: string
}

/** What a case is about: one player, or a cluster of linked accounts when the alerts carry one. */
export interface CaseSubject {
  readonly kind: 'player' | 'cluster'
  readonly id: string
}

export interface ChecklistEntry {
  /** `${detectorId}:${item id}`, e.g. `deposit_structuring:source-of-funds`. */
  readonly itemId: string
  readonly detectorId: string
  readonly text: string
  readonly tickedBy: string | null
  readonly tickedAtMs: number | null
  readonly note: string | null
}

export interface CaseComment {
  /** `${caseId}/comment-${n}`. */
  readonly commentId: string
  readonly authorId: string
  readonly authorRole: string
  readonly text: string
  readonly atMs: number
}

/** A reference attached to a case: an input event id, a decision id (withdrawalId:revision) or free text. */
export interface Evidence {
  /** `${caseId}/evidence-${n}`. */
  readonly evidenceId: string
  readonly kind: EvidenceKind
  readonly reference: string
  readonly description: string | null
  readonly addedBy: string
  readonly addedAtMs: number
}

export interface Case {
  readonly caseId: string
  /** Starts at 1 and grows by one with every change; officers act with the version they read. */
  readonly version: number
  readonly status: CaseStatus
  readonly subject: CaseSubject
  /** Players whose alerts are in the case, in the order they joined. */
  readonly playerIds: readonly string[]
  /** Detector ids (typologies) of its incidents, in the order they joined. */
  readonly typologies: readonly string[]
  readonly incidentIds: readonly string[]
  readonly alertCount: number
  readonly priority: CasePriority
  readonly maxSeverity: AlertSeverity
  /** Largest amount given with any of its alerts (minor units of the reporting currency); null when none was. */
  readonly maxAmountMinor: number | null
  /** Event time of the first alert. */
  readonly openedAtMs: number
  /** Event time of the latest alert. */
  readonly lastAlertAtMs: number
  /** openedAtMs plus the SLA of the priority; only moves earlier when the priority rises. */
  readonly dueAtMs: number
  /** Time of the last change (event time for alerts, the service clock for officer actions). */
  readonly updatedAtMs: number
  readonly assigneeId: string | null
  readonly escalatedAtMs: number | null
  readonly escalationReason: string | null
  readonly closedAtMs: number | null
  readonly closedBy: string | null
  readonly resolution: CloseResolution | null
  readonly closeReason: string | null
  /** Why the case was closed with checklist items unticked; null when the checklist was complete. */
  readonly checklistOverrideReason: string | null
  readonly checklist: readonly ChecklistEntry[]
  readonly comments: readonly CaseComment[]
  readonly evidence: readonly Evidence[]
  /** Decision ids given with alerts or attached as evidence, de-duplicated, in order. */
  readonly decisionIds: readonly string[]
}

/** Alerts of one typology for one player within one window: what the officer sees as one line. */
export interface Incident {
  readonly incidentId: string
  readonly caseId: string
  readonly playerId: string
  readonly detectorId: string
  readonly maxSeverity: AlertSeverity
  /** Event time of the alert that opened it; the window is anchored there and never moves. */
  readonly firstAlertTimeMs: number
  readonly lastAlertTimeMs: number
  /** firstAlertTimeMs plus the detector's incident window. */
  readonly windowEndMs: number
  /** In arrival order. */
  readonly alertIds: readonly string[]
  readonly maxAmountMinor: number | null
}

/**
 * What the case service ingests: an alert of `risk.alerts.v1` plus what alerts do not carry
 * (yet). `clusterId` groups the case by cluster instead of player; `amountMinor` is the money
 * involved, in the reporting currency (an alert's `value` is not reliably money);
 * `decisionIds` are the decisions the alert fed into, when the caller knows them.
 */
export interface AlertInput extends Omit<Alert, 'clusterId' | 'amountMinor' | 'currency' | 'decisionId'> {
  readonly clusterId?: string | null
  readonly amountMinor?: number | null
  readonly currency?: string | null
  /** Alert schema v2's single decision id; joins `decisionIds`. */
  readonly decisionId?: string | null
  readonly decisionIds?: readonly string[]
}

/** An alert as stored, with where it went. */
export interface StoredAlert extends Omit<Alert, 'clusterId' | 'amountMinor' | 'currency' | 'decisionId'> {
  readonly clusterId: string | null
  readonly amountMinor: number | null
  readonly currency: string | null
  readonly decisionIds: readonly string[]
  readonly incidentId: string
  readonly caseId: string
}

export type IngestOutcome = 'opened-case' | 'opened-incident' | 'joined-incident' | 'duplicate'

export interface IngestResult {
  readonly outcome: IngestOutcome
  readonly caseId: string
  readonly incidentId: string
  /** The case's version after the ingest (for a duplicate: its version now). */
  readonly caseVersion: number
}

/** One message waiting in the outbox for the relay. */
export type OutboxMessage =
  | { readonly outboxKey: string; readonly topic: 'caseEvents'; readonly key: string; readonly value: CaseEvent }
  | { readonly outboxKey: string; readonly topic: 'labels'; readonly key: string; readonly value: CaseLabel }
