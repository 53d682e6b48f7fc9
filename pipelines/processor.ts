/**
 * The per-event step of a partition task: update the player's profile, run every detector that
 * accepts the event, and for a withdrawal request make the decision. Synchronous and pure over
 * (player state, event, rule set): the same inputs give byte-identical outputs, which is what
 * lets a restart re-emit exactly what a crashed run may already have sent.
 */
import type { ErrorCode } from '../core/errors.js'
import { TOPICS, type TopicKey } from '../core/topics.js'
import { detectorKey, type AnyDetector, type DetectorContext, type Observation, type PlayerProfile, type ScreenFunction } from '../detectors/detector.js'
import type { DetectorRegistry } from '../detectors/index.js'
import type { DecisionPolicy, ResolvedRule, RuleSet } from '../detectors/rule-set.js'
import { linkKeyOf, linksFor, type LinkRecord } from '../graph/links.js'
import { extractFeatures } from '../models/features.js'
import { commandIdempotencyKey, decisionIdOf, type InputEvent, type PayoutEvent, type PlayerEvent, type ReviewEvent, type TransferEvent, type TransferReceived, type WithdrawalEvent } from '../schemas/domain.js'
import { decide, hardStopHits, PLAYER_REASON_CODES, type ClusterSignal, type DetectorExecution, type ModelSignal, type Reason, type Verdict } from './decide.js'
import { alreadyApplied, lastMovedAtMs, next, stateOf, TERMINAL_STATES, type Trigger, type TransitionEntry, type WithdrawalRecord, type WithdrawalState } from './withdrawal-state.js'

export interface PlayerState {
  readonly profile: PlayerProfile
  /** Detector state by detector id; a version change starts the detector afresh. */
  readonly detectors: Readonly<Record<string, { readonly version: number; readonly state: unknown }>>
  /**
   * The player's withdrawals: each request with its event log (withdrawal-state.ts). A request
   * id already here is a duplicate and is not decided twice. A withdrawal in a final state is
   * forgotten DECIDED_RETENTION_MS of event time after its last transition.
   */
  readonly withdrawals: Readonly<Record<string, WithdrawalRecord>>
  /** The player's cluster in the link graph (risk.clusters.v1); null while linked to nobody. */
  readonly cluster: ClusterSignal | null
  /**
   * When each identifier link (`DEVICE:fp:9a`, `IP_BLOCK:203.0.113.0/24`...) was last published
   * to risk.links.v1, by event time (see LINK_REFRESH_MS); absent until the first one.
   */
  readonly linked?: Readonly<Record<string, number>>
}

/**
 * A LINK record repeats what the graph already holds except its lastSeen, which only matters
 * against the link's 180-day TTL (graph/params.ts); so an identifier the player was linked to
 * less than this long ago (event time) is not published again. Devices and IP blocks repeat on
 * every login: they were two thirds of the engine's outputs, each encoded and produced, and each
 * read by the graph worker. The graph's lastSeen is then at most this much behind.
 */
export const LINK_REFRESH_MS = 24 * 60 * 60 * 1000
const MAX_LINKED_REMEMBERED = 64

/**
 * The player's link memory after publishing `link`, or null when the same link went out less
 * than LINK_REFRESH_MS before it (skip it). An older event than the one remembered is published
 * (the graph may move firstSeen back) without moving the memory back.
 */
function refreshLink(linked: Readonly<Record<string, number>> | undefined, link: LinkRecord): Readonly<Record<string, number>> | null {
  const key = `${link.identifierType ?? ''}:${link.identifier ?? ''}`
  const lastMs = linked?.[key]
  const timeMs = link.eventTimeMs
  if (lastMs !== undefined && timeMs >= lastMs && timeMs - lastMs < LINK_REFRESH_MS) return null
  // A dictionary (null prototype), not a literal: identifiers are unique strings, and a literal
  // given one as a property name gets a hidden class of its own for every new one (V8 map
  // transitions). Broker-less replay profile, 200k events: this function's self time 1.4% -> 1.1-1.2%.
  const next = Object.create(null) as Record<string, number>
  if (linked !== undefined) for (const other in linked) next[other] = linked[other] as number
  next[key] = lastMs === undefined ? timeMs : Math.max(lastMs, timeMs)
  let keys = Object.keys(next)
  if (keys.length <= MAX_LINKED_REMEMBERED) return next
  // Over the bound: forget the links due for a refresh anyway, then the oldest (ties by key).
  for (const other of keys) if ((next[other] as number) <= timeMs - LINK_REFRESH_MS) delete next[other]
  keys = Object.keys(next)
  if (keys.length <= MAX_LINKED_REMEMBERED) return next
  const kept = Object.create(null) as Record<string, number>
  for (const other of keys.sort((a, b) => (next[b] as number) - (next[a] as number) || (a < b ? -1 : 1)).slice(0, MAX_LINKED_REMEMBERED)) kept[other] = next[other] as number
  return kept
}

/** How long a withdrawal in a final state is remembered (to drop duplicated requests), in event time. */
export const DECIDED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000

export const UNKNOWN = 'UNKNOWN'

export function newPlayerState(): PlayerState {
  return {
    profile: {
      jurisdiction: UNKNOWN, tier: 'NEW', kycStatus: 'NONE', registeredAtMs: null, country: null, dateOfBirth: null, selfExcludedUntilMs: null,
      firstName: null, lastName: null, kycLevel: null, referrerPlayerId: null,
    },
    detectors: {},
    withdrawals: {},
    cluster: null,
  }
}

export interface SourceRef {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

export interface OutputRecord {
  readonly topic: TopicKey
  readonly key: string
  readonly value: Record<string, unknown>
}

export interface ProcessResult {
  readonly player: PlayerState
  readonly outputs: readonly OutputRecord[]
  /** Detectors that threw on this event (recorded as ERROR executions when it was a withdrawal). */
  readonly detectorErrors: ReadonlyArray<{ detectorId: string; message: string }>
  /** Detectors that found this event late for their window. */
  readonly lateFor: readonly string[]
  readonly duplicate: boolean
  /**
   * The event was processed by the detectors but could not move its withdrawal (unknown
   * withdrawal, or a transition its state refuses): the partition task dead-letters it with this.
   */
  readonly rejected: { readonly code: ErrorCode; readonly message: string } | null
  /**
   * Set for a withdrawal request when the processor was built with `scoring: true` and no hard
   * stop decided: the decision waits for the model. This result's `player` already holds the
   * detectors' updates and a provisional record of the withdrawal (so a duplicated request is
   * still recognised), and its `outputs` the alerts. The caller scores `features` — batched
   * with the other withdrawals of its batch — and calls `complete` with the score and the
   * player's state as it is by then; `complete` gives the state with the decided withdrawal and
   * the decision's outputs (decision, command, transitions). Before the caller steps another
   * withdrawal, review or payout event of the same player, it must complete the pending ones.
   */
  readonly awaitingScore: PendingScore | null
}

export interface PendingScore {
  readonly withdrawalId: string
  readonly features: Float32Array
  complete(scored: ScoredWithdrawal, current: PlayerState): { readonly player: PlayerState; readonly outputs: readonly OutputRecord[] }
}

function applyProfile(profile: PlayerProfile, event: PlayerEvent): PlayerProfile {
  return {
    jurisdiction: event.jurisdiction ?? profile.jurisdiction,
    tier: event.tier ?? profile.tier,
    kycStatus: event.kycStatus ?? profile.kycStatus,
    registeredAtMs: event.type === 'REGISTERED' ? event.eventTimeMs : profile.registeredAtMs,
    country: event.country ?? profile.country,
    dateOfBirth: event.dateOfBirth ?? profile.dateOfBirth,
    selfExcludedUntilMs: event.type === 'SELF_EXCLUSION_CHANGED' ? event.selfExcludedUntilMs : profile.selfExcludedUntilMs,
    firstName: event.firstName ?? profile.firstName,
    lastName: event.lastName ?? profile.lastName,
    kycLevel: event.kycLevel ?? profile.kycLevel,
    referrerPlayerId: event.referrerPlayerId ?? profile.referrerPlayerId,
  }
}

/** What the processor takes from the model service (models/service.ts) for one withdrawal. */
export interface ScoredWithdrawal {
  readonly champion: ModelSignal | null
  readonly shadows: ReadonlyArray<ModelSignal>
  /** Set when scoring failed: the decision is made without the model and goes to REVIEW at least. */
  readonly error?: string
}

export interface ProcessorOptions {
  /** Sanctions and PEP screening for the detectors that use it; absent = no lists loaded. */
  readonly screen?: ScreenFunction | null
  /** Or a holder whose `current` is read per event, so a list update applies without a restart (engine.ts). */
  readonly screens?: { readonly current: ScreenFunction | null }
  /**
   * True when a model service scores withdrawals: a request's result then carries
   * `awaitingScore` (ONNX Runtime scores asynchronously; this step stays synchronous).
   */
  readonly scoring?: boolean
  /** True to re-key identifiers and transfers into `risk.links.v1` for the graph worker (graph/links.ts). */
  readonly links?: boolean
}

/** What every result of one process() call shares. */
interface ResultParts {
  readonly outputs: OutputRecord[]
  readonly detectorErrors: Array<{ detectorId: string; message: string }>
  readonly lateFor: string[]
}

/** A module function, not a closure per event: allocation on the hot path (and tsx names every closure it creates). */
function resultOf(parts: ResultParts, player: PlayerState, rejected: ProcessResult['rejected'] = null, duplicate = false): ProcessResult {
  return { player, outputs: parts.outputs, detectorErrors: parts.detectorErrors, lateFor: parts.lateFor, duplicate, rejected, awaitingScore: null }
}

/** A withdrawal request's detector pass, before the model's score joins it. */
interface PendingDecision {
  readonly event: WithdrawalEvent
  readonly profile: PlayerProfile
  readonly policy: DecisionPolicy
  readonly executions: readonly DetectorExecution[]
  readonly source: SourceRef
}

export class EventProcessor {
  private readonly screens: { readonly current: ScreenFunction | null }
  private readonly scoring: boolean
  private readonly links: boolean

  constructor(private readonly registry: DetectorRegistry, options: ProcessorOptions = {}) {
    this.screens = options.screens ?? { current: options.screen ?? null }
    this.scoring = options.scoring ?? false
    this.links = options.links ?? false
  }

  /**
   * `owned`: the caller made `player` earlier in the same batch and shares it with nobody, so its
   * detector states may be updated in place instead of copied (a copy per event was a visible
   * share of the profile). States the cache or a checkpoint holds are never passed as owned.
   *
   * With `scoring`, a withdrawal request that no hard stop decided returns `awaitingScore`.
   */
  process(event: InputEvent, player: PlayerState, ruleSet: RuleSet, source: SourceRef, streamTimeMs: number, owned = false): ProcessResult {
    const isWithdrawalRequest = event.kind === 'withdrawal' && event.type === 'REQUESTED'
    const withdrawals = player.withdrawals ?? {}
    if (isWithdrawalRequest && withdrawals[event.withdrawalId] !== undefined) {
      return { player, outputs: [], detectorErrors: [], lateFor: [], duplicate: true, rejected: null, awaitingScore: null }
    }
    // Features are read from the state before this request changes it (models/features.ts).
    const features = isWithdrawalRequest && this.scoring ? extractFeatures(player, event) : null
    const profile = event.kind === 'player' ? applyProfile(player.profile, event) : player.profile
    const rules = ruleSet.rulesFor(profile.jurisdiction, profile.tier)
    const context: DetectorContext = { profile, streamTimeMs, screen: this.screens.current }
    // A detector returns the state it was given when the event changed nothing, and then its
    // stored entry is kept as it is (no new wrapper). Not owned: copied, since the caller passes
    // the returned state as owned on the player's next event and that call updates it in place.
    const detectorStates = owned ? (player.detectors as Record<string, { readonly version: number; readonly state: unknown }>) : { ...player.detectors }
    const outputs: OutputRecord[] = []
    const executions: DetectorExecution[] = []
    const detectorErrors: Array<{ detectorId: string; message: string }> = []
    const lateFor: string[] = []

    for (const detector of this.registry.accepting(event.kind)) {
      const rule = rules.get(detector.id)
      if (rule === undefined || !rule.enabled) continue
      const stored = detectorStates[detector.id]
      const current = stored !== undefined && stored.version === detector.version
      const previous = current ? stored.state : detector.init()
      let observation: Observation | null
      try {
        const result = detector.step(previous, event as never, rule.params, context)
        if (!current || result.state !== previous) detectorStates[detector.id] = { version: detector.version, state: result.state }
        observation = result.observation
        if (result.late === true) lateFor.push(detector.id)
      } catch (error) {
        // The detector's state is left as it was; the decision is still made (and reviewed).
        const message = error instanceof Error ? error.message : String(error)
        detectorErrors.push({ detectorId: detector.id, message })
        if (isWithdrawalRequest) executions.push({ detectorId: detector.id, detectorVersion: detector.version, status: 'ERROR', value: null, threshold: null, detail: message, action: null, severity: null })
        continue
      }
      if (observation === null) continue
      if (isWithdrawalRequest) {
        executions.push({
          detectorId: detector.id, detectorVersion: detector.version, status: observation.hit ? 'HIT' : 'NO_HIT',
          value: observation.value, threshold: observation.threshold, detail: observation.detail,
          action: observation.hit ? rule.action : null, severity: observation.hit ? rule.severity : null,
        })
      }
      if (observation.hit) outputs.push(this.alert(event, detector, rule, observation, ruleSet.version, player.cluster?.clusterId ?? null))
    }

    let linked = player.linked
    if (this.links) {
      for (const link of linksFor(event)) {
        if (link.kind === 'LINK') {
          const refreshed = refreshLink(linked, link)
          if (refreshed === null) continue
          linked = refreshed
        }
        outputs.push({ topic: 'links', key: linkKeyOf(link), value: link as unknown as Record<string, unknown> })
      }
    }
    // The receiver's partition never sees casino.transfers.v1 (keyed by the sender): the transfer
    // is re-keyed to it (issue 3, pass-through via transfers received). Always on, not an option:
    // the receiver's pass_through would silently lose its inflows without it.
    if (event.kind === 'transfer' && event.toPlayerId !== event.playerId) outputs.push(transferReceivedRecord(event, source))
    const base: PlayerState = linked === undefined
      ? { profile, detectors: detectorStates, withdrawals, cluster: player.cluster ?? null }
      : { profile, detectors: detectorStates, withdrawals, cluster: player.cluster ?? null, linked }
    const parts: ResultParts = { outputs, detectorErrors, lateFor }

    if (isWithdrawalRequest) {
      const pending: PendingDecision = { event, profile, policy: ruleSet.policyFor(profile.jurisdiction, profile.tier), executions, source }
      if (features === null || hardStopHits(executions, pending.policy).length > 0) {
        return resultOf(parts, this.decideRequest(pending, base, null, [], ruleSet.version, outputs))
      }
      let completed = false
      const complete = (scored: ScoredWithdrawal, current: PlayerState): { player: PlayerState; outputs: OutputRecord[] } => {
        if (completed) throw new Error(`withdrawal ${event.withdrawalId}: awaitingScore.complete called twice`)
        completed = true
        const decisionOutputs: OutputRecord[] = []
        // The cluster the request met, not one that arrived after it in the batch.
        const decided = this.decideRequest(pending, { ...current, cluster: base.cluster }, scored.champion, scored.shadows, ruleSet.version, decisionOutputs, scored.error ?? null)
        return { player: { ...decided, cluster: current.cluster }, outputs: decisionOutputs }
      }
      const provisional: WithdrawalRecord = {
        withdrawalId: event.withdrawalId, amountMinor: event.amountMinor, currency: event.currency, method: event.method, instrumentToken: event.instrument.token,
        jurisdiction: profile.jurisdiction, tier: profile.tier, requestedAtMs: event.eventTimeMs, revisions: 0, attempt: 0, log: [],
      }
      return { ...resultOf(parts, { ...base, withdrawals: { ...base.withdrawals, [event.withdrawalId]: provisional } }), awaitingScore: { withdrawalId: event.withdrawalId, features, complete } }
    }
    if (event.kind === 'withdrawal' && event.type === 'CANCELLED') {
      const moved = this.move(base, event.playerId, event.withdrawalId, event.eventId, event.eventTimeMs, { trigger: 'cancel' }, 'WITHDRAWAL_CANCELLED', null, outputs)
      if (!moved.ok) return moved.duplicate ? resultOf(parts, base, null, true) : resultOf(parts, base, moved.rejected)
      const record = moved.record
      outputs.push(ledgerCommand(record, event.playerId, 'RELEASE', Math.max(1, record.attempt), `${record.withdrawalId}:cancel`))
      return resultOf(parts, moved.player)
    }
    if (event.kind === 'cluster') {
      const cluster: ClusterSignal | null = event.erased || event.clusterId === null ? null : { clusterId: event.clusterId, size: event.size, risk: event.risk, typologies: [...event.typologies] }
      return resultOf(parts, { ...base, cluster })
    }
    if (event.kind === 'review') return this.review(event, base, ruleSet, source, outputs, parts)
    if (event.kind === 'payout') return this.payout(event, base, outputs, parts)
    return resultOf(parts, base)
  }

  /** A request's decision: transitions PENDING -> RISK_SCORING -> outcome, the decision record and its command. */
  private decideRequest(pending: PendingDecision, player: PlayerState, model: ModelSignal | null, shadows: readonly ModelSignal[], ruleSetVersion: string, outputs: OutputRecord[], modelError: string | null = null): PlayerState {
    const { event, profile, policy, executions, source } = pending
    const verdict = decide({ executions, policy, model, modelError, cluster: player.cluster, amountMinor: event.amountMinor, requestedAtMs: event.eventTimeMs })
    const revision = 1
    const decisionId = decisionIdOf(event.withdrawalId, revision)
    let record: WithdrawalRecord = {
      withdrawalId: event.withdrawalId, amountMinor: event.amountMinor, currency: event.currency, method: event.method, instrumentToken: event.instrument.token,
      jurisdiction: profile.jurisdiction, tier: profile.tier, requestedAtMs: event.eventTimeMs, revisions: revision, attempt: 0, log: [],
    }
    const transitions: OutputRecord[] = []
    const step = (trigger: Trigger, causeType: string, causeId: string, detail: string | null): void => {
      const result = next(stateOf(record), trigger)
      if (!result.ok) throw new Error(`withdrawal ${event.withdrawalId}: ${trigger.trigger} refused from ${String(stateOf(record))}`) // cannot happen: a fresh record
      record = appendTransition(record, result.to, causeType, causeId, event.eventTimeMs, detail)
      transitions.push(transitionRecord(record, event.playerId))
    }
    step({ trigger: 'request' }, 'WITHDRAWAL_REQUESTED', event.eventId, null)
    step({ trigger: 'score' }, 'RISK_SCORING', event.eventId, model === null ? null : `${model.modelId}@${model.modelVersion}`)
    if (verdict.outcome === 'APPROVE') record = { ...record, attempt: 1 }
    step({ trigger: 'decide', outcome: verdict.outcome }, 'DECISION', decisionId, `${verdict.outcome}${verdict.hardStop === null ? '' : ` (hard stop ${verdict.hardStop})`}`)

    const decision = decisionRecord({
      event, profile, verdict, revision, ruleSetVersion, executions, model, shadows, clusterId: player.cluster?.clusterId ?? null, review: null,
      source: { topic: source.topic, partition: source.partition, offset: source.offset, eventId: event.eventId },
    })
    const command = verdict.outcome === 'APPROVE'
      ? payoutCommand(record, event.playerId, 1, decisionId, verdict.notBeforeMs, null)
      : ledgerCommand(record, event.playerId, verdict.outcome === 'REVIEW' ? 'HOLD' : 'RELEASE', 1, decisionId)
    outputs.unshift(decision, command, ...transitions)
    const kept = pruneWithdrawals(player.withdrawals, event.eventTimeMs)
    return { ...player, withdrawals: { ...kept, [event.withdrawalId]: record } }
  }

  /** An officer's verdict on a withdrawal awaiting review: decision revision N+1 and its command. */
  private review(event: ReviewEvent, player: PlayerState, ruleSet: RuleSet, source: SourceRef, outputs: OutputRecord[], parts: ResultParts): ProcessResult {
    const outcome = event.verdict === 'APPROVE' ? 'APPROVE' : 'DECLINE'
    const existing = player.withdrawals[event.withdrawalId]
    const revision = (existing?.revisions ?? 0) + 1
    const decisionId = decisionIdOf(event.withdrawalId, revision)
    const moved = this.move(player, event.playerId, event.withdrawalId, event.eventId, event.eventTimeMs, { trigger: 'review', outcome }, 'REVIEW', `${outcome} by ${event.reviewerId}: ${event.reasonCode}`, outputs, (record) => ({ ...record, revisions: revision, attempt: outcome === 'APPROVE' ? 1 : record.attempt }))
    if (!moved.ok) return moved.duplicate ? resultOf(parts, player, null, true) : resultOf(parts, player, moved.rejected)
    const record = moved.record
    const policy = ruleSet.policyFor(record.jurisdiction, record.tier)
    const reasons: Reason[] = [{ code: outcome === 'APPROVE' ? 'REVIEWER_APPROVED' : 'REVIEWER_DECLINED', detectorId: null, detail: `${event.reviewerId}${event.caseId === null ? '' : ` in case ${event.caseId}`}: ${event.reasonCode}${event.note === null ? '' : ` — ${event.note}`}` }]
    const notBeforeMs = outcome === 'APPROVE' && record.amountMinor >= policy.coolingOff.minAmountMinor && policy.coolingOff.holdMs > 0 ? record.requestedAtMs + policy.coolingOff.holdMs : null
    const verdict: Verdict = { outcome, reasons, actions: notBeforeMs === null ? [] : ['cooling_off_hold'], playerReasonCode: PLAYER_REASON_CODES[outcome], compositeScore: null, hardStop: null, notBeforeMs }
    const decision = decisionRecord({
      event: { withdrawalId: record.withdrawalId, playerId: event.playerId, amountMinor: record.amountMinor, currency: record.currency, eventTimeMs: event.eventTimeMs },
      profile: { jurisdiction: record.jurisdiction, tier: record.tier }, verdict, revision, ruleSetVersion: ruleSet.version, executions: [], model: null, shadows: [],
      clusterId: player.cluster?.clusterId ?? null, review: { reviewerId: event.reviewerId, caseId: event.caseId, reasonCode: event.reasonCode, eventId: event.eventId },
      source: { topic: source.topic, partition: source.partition, offset: source.offset, eventId: event.eventId },
    })
    // The amount was held when the withdrawal went to review: an approval pays it, a decline releases it.
    const command = outcome === 'APPROVE' ? payoutCommand(record, event.playerId, 1, decisionId, notBeforeMs, null) : ledgerCommand(record, event.playerId, 'RELEASE', 1, decisionId)
    outputs.unshift(decision, command)
    return resultOf(parts, moved.player)
  }

  /** What the payout service reports: dispatched, settled, failed (the debit is reversed), or a retry on another rail. */
  private payout(event: PayoutEvent, player: PlayerState, outputs: OutputRecord[], parts: ResultParts): ProcessResult {
    const record = player.withdrawals[event.withdrawalId]
    if (record !== undefined && !alreadyApplied(record, event.eventId)) {
      // A retry names the attempt that failed; every other event the attempt in force.
      const expected = record.attempt
      if (event.attempt !== expected) {
        return resultOf(parts, player, { code: 'RISK_ERR_WITHDRAWAL_TRANSITION', message: `withdrawal ${event.withdrawalId}: payout event ${event.type} is for attempt ${event.attempt}, but attempt ${expected} is in force (state ${String(stateOf(record))})` })
      }
    }
    const trigger: Trigger = event.type === 'DISPATCHED' ? { trigger: 'dispatch' } : event.type === 'SETTLED' ? { trigger: 'settle' } : event.type === 'FAILED' ? { trigger: 'fail' } : { trigger: 'retry' }
    const causeType = `PAYOUT_${event.type === 'RETRY_REQUESTED' ? 'RETRY' : event.type}`
    const detail = [event.rail === null ? null : `rail ${event.rail}`, event.pspReference === null ? null : `psp ${event.pspReference}`, event.failureReason].filter((part) => part !== null).join(', ') || null
    const moved = this.move(player, event.playerId, event.withdrawalId, event.eventId, event.eventTimeMs, trigger, causeType, detail, outputs, (next) => (trigger.trigger === 'retry' ? { ...next, attempt: next.attempt + 1 } : next))
    if (!moved.ok) return moved.duplicate ? resultOf(parts, player, null, true) : resultOf(parts, player, moved.rejected)
    const moving = moved.record
    const decisionId = decisionIdOf(moving.withdrawalId, moving.revisions)
    if (trigger.trigger === 'fail') outputs.push(ledgerCommand(moving, event.playerId, 'REVERSE', moving.attempt, decisionId))
    if (trigger.trigger === 'retry') outputs.push(payoutCommand(moving, event.playerId, moving.attempt, decisionId, null, event.rail))
    return resultOf(parts, moved.player)
  }

  /**
   * Moves a known withdrawal by one trigger and emits the transition. A redelivered cause (its
   * eventId already in the log) is a duplicate; an unknown withdrawal or a refused trigger is a
   * rejection the partition task dead-letters.
   */
  private move(
    player: PlayerState, playerId: string, withdrawalId: string, causeId: string, eventTimeMs: number, trigger: Trigger, causeType: string, detail: string | null, outputs: OutputRecord[],
    amend: (record: WithdrawalRecord) => WithdrawalRecord = (record) => record,
  ): { ok: true; player: PlayerState; record: WithdrawalRecord } | { ok: false; duplicate: boolean; rejected: ProcessResult['rejected'] } {
    const record = player.withdrawals[withdrawalId]
    if (record === undefined) {
      return { ok: false, duplicate: false, rejected: { code: 'RISK_ERR_WITHDRAWAL_TRANSITION', message: `withdrawal ${withdrawalId} is not known to this player's state (never requested, dead-lettered, or forgotten ${DECIDED_RETENTION_MS / 86_400_000} days after it ended); ${trigger.trigger} cannot apply` } }
    }
    if (alreadyApplied(record, causeId)) return { ok: false, duplicate: true, rejected: null }
    const from = stateOf(record)
    const result = next(from, trigger)
    if (!result.ok) {
      const allowed = result.allowed.length === 0 ? 'nothing (a final state)' : result.allowed.join(', ')
      return { ok: false, duplicate: false, rejected: { code: 'RISK_ERR_WITHDRAWAL_TRANSITION', message: `withdrawal ${withdrawalId} is ${String(from)}: ${trigger.trigger} is not allowed; ${String(from)} allows ${allowed}` } }
    }
    const moved = appendTransition(amend(record), result.to, causeType, causeId, eventTimeMs, detail)
    outputs.push(transitionRecord(moved, playerId))
    return { ok: true, player: { ...player, withdrawals: { ...player.withdrawals, [withdrawalId]: moved } }, record: moved }
  }

  private alert(event: InputEvent, detector: AnyDetector, rule: ResolvedRule, observation: Observation, ruleSetVersion: string, clusterId: string | null): OutputRecord {
    const money = event.kind === 'withdrawal' || event.kind === 'deposit' || event.kind === 'transfer' ? { amountMinor: event.amountMinor, currency: event.currency } : { amountMinor: null, currency: null }
    return {
      topic: 'alerts',
      key: event.playerId,
      value: {
        alertId: `${detectorKey(detector)}:${event.eventId}`,
        playerId: event.playerId,
        detectorId: detector.id,
        detectorVersion: detector.version,
        severity: rule.severity.toUpperCase(),
        action: rule.action,
        eventTimeMs: event.eventTimeMs,
        value: observation.value,
        threshold: observation.threshold,
        windowStartMs: observation.windowStartMs,
        windowEndMs: observation.windowEndMs,
        evidenceEventIds: [...observation.evidenceEventIds],
        ruleSetVersion,
        clusterId,
        ...money,
        decisionId: event.kind === 'withdrawal' && event.type === 'REQUESTED' ? decisionIdOf(event.withdrawalId, 1) : null,
      },
    }
  }
}

/**
 * A transfer re-keyed by its receiver, for risk.transfers-received.v1. Built from the event and
 * its source position only (no clock), so a redelivered or replayed transfer gives a
 * byte-identical record; the receiver's detectors de-duplicate by transferId. The source topic is
 * written without the deployment prefix, so a replay under another prefix writes the same bytes.
 * Example: transfer tr-1 of A to B (partition 2, offset 17) -> key 'B', value
 *   { eventId, playerId: 'B', fromPlayerId: 'A', transferId: 'tr-1', ..., sourcePartition: 2, sourceOffset: 17 }
 */
export function transferReceivedRecord(event: TransferEvent, source: SourceRef): OutputRecord {
  const value: TransferReceived = {
    eventId: event.eventId,
    playerId: event.toPlayerId,
    eventTimeMs: event.eventTimeMs,
    transferId: event.transferId,
    transferKind: event.transferKind,
    fromPlayerId: event.playerId,
    amountMinor: event.amountMinor,
    currency: event.currency,
    tableId: event.tableId,
    sourceTopic: TOPICS.transfers.name,
    sourcePartition: source.partition,
    sourceOffset: source.offset,
  }
  return { topic: 'transfersReceived', key: event.toPlayerId, value: value as unknown as Record<string, unknown> }
}

function appendTransition(record: WithdrawalRecord, to: WithdrawalState, causeType: string, causeId: string, eventTimeMs: number, detail: string | null): WithdrawalRecord {
  const entry: TransitionEntry = { sequence: record.log.length + 1, from: stateOf(record), to, causeType, causeId, eventTimeMs, attempt: record.attempt, detail }
  return { ...record, log: [...record.log, entry] }
}

function transitionRecord(record: WithdrawalRecord, playerId: string): OutputRecord {
  const entry = record.log[record.log.length - 1] as TransitionEntry
  return {
    topic: 'withdrawalEvents',
    key: record.withdrawalId,
    value: {
      transitionId: `${record.withdrawalId}:${entry.sequence}`,
      withdrawalId: record.withdrawalId,
      playerId,
      sequence: entry.sequence,
      fromState: entry.from ?? 'NONE',
      toState: entry.to,
      causeType: entry.causeType,
      causeId: entry.causeId,
      eventTimeMs: entry.eventTimeMs,
      attempt: entry.attempt,
      detail: entry.detail,
    },
  }
}

/**
 * What a decision asks the payout service to do, with an idempotency key
 * `wd:{withdrawalId}:{operation}:{attempt}` it de-duplicates on (a replay re-sends the same key).
 */
function payoutCommand(record: WithdrawalRecord, playerId: string, attempt: number, decisionId: string, notBeforeMs: number | null, rail: string | null): OutputRecord {
  const idempotencyKey = commandIdempotencyKey(record.withdrawalId, 'PAY', attempt)
  return {
    topic: 'payoutCommands',
    key: record.withdrawalId,
    value: { commandId: idempotencyKey, idempotencyKey, withdrawalId: record.withdrawalId, playerId, operation: 'PAY', attempt, amountMinor: record.amountMinor, currency: record.currency, method: record.method, instrumentToken: record.instrumentToken, decisionId, notBeforeMs, rail },
  }
}

/** HOLD while an officer looks, RELEASE on a decline or cancellation, REVERSE when a paid-out attempt failed. */
function ledgerCommand(record: WithdrawalRecord, playerId: string, operation: 'HOLD' | 'RELEASE' | 'REVERSE', attempt: number, decisionId: string): OutputRecord {
  const idempotencyKey = commandIdempotencyKey(record.withdrawalId, operation, attempt)
  return {
    topic: 'ledgerCommands',
    key: record.withdrawalId,
    value: { commandId: idempotencyKey, idempotencyKey, withdrawalId: record.withdrawalId, playerId, operation, amountMinor: record.amountMinor, currency: record.currency, decisionId },
  }
}

interface DecisionParts {
  readonly event: { readonly withdrawalId: string; readonly playerId: string; readonly amountMinor: number; readonly currency: string; readonly eventTimeMs: number }
  readonly profile: { readonly jurisdiction: string; readonly tier: string }
  readonly verdict: Verdict
  readonly revision: number
  readonly ruleSetVersion: string
  readonly executions: readonly DetectorExecution[]
  readonly model: ModelSignal | null
  readonly shadows: readonly ModelSignal[]
  readonly clusterId: string | null
  readonly review: { readonly reviewerId: string; readonly caseId: string | null; readonly reasonCode: string; readonly eventId: string } | null
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: number; readonly eventId: string }
}

function decisionRecord(parts: DecisionParts): OutputRecord {
  const { event, verdict } = parts
  const contributions = (signal: ModelSignal): Array<{ feature: string; contribution: number }> => signal.contributions.map((entry) => ({ feature: entry.feature, contribution: entry.contribution }))
  return {
    topic: 'decisions',
    key: event.withdrawalId,
    value: {
      decisionId: decisionIdOf(event.withdrawalId, parts.revision),
      withdrawalId: event.withdrawalId,
      revision: parts.revision,
      playerId: event.playerId,
      outcome: verdict.outcome,
      reasons: verdict.reasons.map((reason) => ({ ...reason })),
      playerReasonCode: verdict.playerReasonCode,
      actions: [...verdict.actions],
      amountMinor: event.amountMinor,
      currency: event.currency,
      jurisdiction: parts.profile.jurisdiction,
      tier: parts.profile.tier,
      eventTimeMs: event.eventTimeMs,
      ruleSetVersion: parts.ruleSetVersion,
      executions: parts.executions.map(({ action: _action, severity: _severity, ...execution }) => execution),
      model: parts.model === null ? null : { modelId: parts.model.modelId, modelVersion: parts.model.modelVersion, score: parts.model.score, contributions: contributions(parts.model), cutoff: parts.model.cutoff },
      shadows: parts.shadows.map((shadow) => ({ modelId: shadow.modelId, modelVersion: shadow.modelVersion, score: shadow.score, cutoff: shadow.cutoff, contributions: contributions(shadow) })),
      compositeScore: verdict.compositeScore,
      hardStop: verdict.hardStop,
      review: parts.review,
      clusterId: parts.clusterId,
      source: parts.source,
    },
  }
}

/** Drops withdrawals that ended more than DECIDED_RETENTION_MS before `nowEventMs`; open ones are kept whatever their age. */
function pruneWithdrawals(withdrawals: Readonly<Record<string, WithdrawalRecord>>, nowEventMs: number): Record<string, WithdrawalRecord> {
  const kept: Record<string, WithdrawalRecord> = {}
  for (const [withdrawalId, record] of Object.entries(withdrawals)) {
    const state = stateOf(record)
    if (state !== null && TERMINAL_STATES.has(state) && lastMovedAtMs(record) <= nowEventMs - DECIDED_RETENTION_MS) continue
    kept[withdrawalId] = record
  }
  return kept
}
