/**
 * What the console reads from the API: the shapes of api/routes (cases.ts, decisions.ts,
 * players.ts, clusters.ts, rule-sets.ts, str.ts), reduced to the fields the pages show. They
 * are declared here rather than imported so the browser bundle pulls in no server code.
 */

export interface ChecklistEntry { readonly itemId: string; readonly detectorId: string; readonly text: string; readonly tickedBy: string | null; readonly tickedAtMs: number | null; readonly note: string | null }
export interface CaseComment { readonly commentId: string; readonly authorId: string; readonly authorRole: string; readonly text: string; readonly atMs: number }
export interface Evidence { readonly evidenceId: string; readonly kind: string; readonly reference: string; readonly description: string | null; readonly addedBy: string; readonly addedAtMs: number }

export interface CaseRecord {
  readonly caseId: string
  readonly version: number
  readonly status: string
  readonly subject: { readonly kind: 'player' | 'cluster'; readonly id: string }
  readonly playerIds: readonly string[]
  readonly typologies: readonly string[]
  readonly incidentIds: readonly string[]
  readonly alertCount: number
  readonly priority: string
  readonly maxSeverity: string
  readonly maxAmountMinor: number | null
  readonly openedAtMs: number
  readonly lastAlertAtMs: number
  readonly dueAtMs: number
  readonly assigneeId: string | null
  readonly escalationReason: string | null
  readonly closedAtMs: number | null
  readonly closedBy: string | null
  readonly resolution: string | null
  readonly closeReason: string | null
  readonly checklist: readonly ChecklistEntry[]
  readonly comments: readonly CaseComment[]
  readonly evidence: readonly Evidence[]
  readonly decisionIds: readonly string[]
}

export interface Incident { readonly incidentId: string; readonly playerId: string; readonly detectorId: string; readonly maxSeverity: string; readonly firstAlertTimeMs: number; readonly lastAlertTimeMs: number; readonly alertIds: readonly string[]; readonly maxAmountMinor: number | null }
export interface StoredAlert { readonly alertId: string; readonly playerId: string; readonly detectorId: string; readonly severity: string; readonly action: string; readonly eventTimeMs: number; readonly value: number | null; readonly threshold: number | null; readonly clusterId: string | null; readonly amountMinor: number | null; readonly currency: string | null; readonly incidentId: string; readonly ruleSetVersion: string }
export interface CaseEvent { readonly eventId: string; readonly caseVersion: number; readonly type: string; readonly status: string; readonly actorId: string; readonly actorRole: string; readonly occurredAtMs: number; readonly details: string }

export interface CaseView {
  readonly case: CaseRecord
  readonly incidents: readonly Incident[]
  readonly alerts: readonly StoredAlert[]
  readonly timeline: readonly CaseEvent[]
  readonly allowedActions: readonly string[]
}

export interface Execution { readonly detectorId: string; readonly detectorVersion: number; readonly status: string; readonly value: number | null; readonly threshold: number | null; readonly detail: string | null }
export interface ModelScore { readonly role: 'champion' | 'shadow'; readonly modelId: string; readonly modelVersion: string; readonly score: number; readonly cutoff: number | null; readonly contributions: ReadonlyArray<{ readonly feature: string; readonly contribution: number }> }
export interface DecisionRevision {
  readonly decisionId: string
  readonly withdrawalId: string
  readonly revision: number
  readonly playerId: string
  readonly outcome: string
  readonly reasons: ReadonlyArray<{ readonly code: string; readonly detectorId: string | null; readonly detail: string }>
  readonly amountMinor: number
  readonly currency: string
  readonly jurisdiction: string
  readonly tier: string
  readonly eventTimeMs: number
  readonly ruleSetVersion: string
  readonly compositeScore: number | null
  readonly hardStop: string | null
  readonly clusterId: string | null
  readonly executions: readonly Execution[]
  readonly models: readonly ModelScore[]
}
export interface WithdrawalHistory { readonly withdrawalId: string; readonly playerId: string; readonly revisions: readonly DecisionRevision[] }
export interface PlayerDecision { readonly decisionId: string; readonly withdrawalId: string; readonly clusterId: string | null }

export interface TimelineEntry { readonly atMs: number; readonly kind: string; readonly id: string; readonly summary: string }

export interface ClusterNode { readonly id: string; readonly kind: 'player' | 'identifier'; readonly label: string; readonly risk?: number; readonly typologies?: readonly string[]; readonly identifierType?: string }
export interface ClusterGraph { readonly clusterId: string; readonly size: number; readonly asOfMs: number; readonly truncated: boolean; readonly nodes: readonly ClusterNode[]; readonly edges: ReadonlyArray<{ readonly source: string; readonly target: string; readonly kind: string }> }

export interface RuleSetSummary { readonly version: string; readonly contentHash: string; readonly author: string | null; readonly createdAtMs: number | null; readonly previousVersion: string | null; readonly description?: string | null }
export interface FieldChange { readonly field: string; readonly from: unknown; readonly to: unknown }
export interface DetectorChange { readonly detectorId: string; readonly change: string; readonly fields: readonly FieldChange[] }
export interface RuleSetDiff {
  readonly from: RuleSetSummary
  readonly to: RuleSetSummary
  readonly identical: boolean
  readonly detectors: readonly DetectorChange[]
  readonly overrides: ReadonlyArray<{ readonly match: Record<string, string>; readonly occurrence: number; readonly change: string; readonly detectors: readonly DetectorChange[]; readonly decision: readonly FieldChange[] }>
  readonly decision: readonly FieldChange[]
}

export interface StrDraftRecord {
  readonly draft: {
    readonly draftId: string
    readonly caseId: string
    readonly revision: number
    readonly status: string
    readonly subject: Record<string, unknown>
    readonly transactions: ReadonlyArray<{ readonly transactionId: string; readonly kind: string; readonly eventTimeMs: number; readonly amountMinor: number | string; readonly currency: string; readonly status: string | null }>
    readonly indicators: ReadonlyArray<{ readonly code: string; readonly [key: string]: unknown }>
    readonly narrative: string
    readonly action: string | null
    readonly approvedBy: string | null
    readonly approvedAtMs: number | null
  }
  readonly createdBy: string
  readonly createdAtMs: number
  readonly exports: ReadonlyArray<{ readonly fileName: string; readonly sha256: string; readonly exportedAtMs: number; readonly exportedBy: string }>
  readonly problems: ReadonlyArray<{ readonly path: string; readonly message: string }>
}
