/**
 * The per-event step of a partition task: update the player's profile, run every detector that
 * accepts the event, and for a withdrawal request make the decision. Synchronous and pure over
 * (player state, event, rule set): the same inputs give byte-identical outputs, which is what
 * lets a restart re-emit exactly what a crashed run may already have sent.
 */
import type { TopicKey } from '../core/topics.js'
import { detectorKey, type AnyDetector, type DetectorContext, type Observation, type PlayerProfile, type ScreenFunction } from '../detectors/detector.js'
import type { DetectorRegistry } from '../detectors/index.js'
import type { ResolvedRule, RuleSet } from '../detectors/rule-set.js'
import { commandIdempotencyKey, type InputEvent, type PlayerEvent, type WithdrawalEvent } from '../schemas/domain.js'
import { decide, type DetectorExecution, type Outcome } from './decide.js'

export interface PlayerState {
  readonly profile: PlayerProfile
  /** Detector state by detector id; a version change starts the detector afresh. */
  readonly detectors: Readonly<Record<string, { readonly version: number; readonly state: unknown }>>
  /** Withdrawals already decided (id -> event time), so a duplicated request is not decided twice. */
  readonly decided: Readonly<Record<string, number>>
}

/** How long a decided withdrawal id is remembered to drop duplicated requests, in event time. */
export const DECIDED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000

export const UNKNOWN = 'UNKNOWN'

export function newPlayerState(): PlayerState {
  return {
    profile: {
      jurisdiction: UNKNOWN, tier: 'NEW', kycStatus: 'NONE', registeredAtMs: null, country: null, dateOfBirth: null, selfExcludedUntilMs: null,
      firstName: null, lastName: null, kycLevel: null, referrerPlayerId: null,
    },
    detectors: {},
    decided: {},
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

export interface ProcessorOptions {
  /** Sanctions and PEP screening for the detectors that use it; absent = no lists loaded. */
  readonly screen?: ScreenFunction | null
}

export class EventProcessor {
  private readonly screen: ScreenFunction | null

  constructor(private readonly registry: DetectorRegistry, options: ProcessorOptions = {}) {
    this.screen = options.screen ?? null
  }

  /**
   * `owned`: the caller made `player` earlier in the same batch and shares it with nobody, so its
   * detector states may be updated in place instead of copied (a copy per event was a visible
   * share of the profile). States the cache or a checkpoint holds are never passed as owned.
   */
  process(event: InputEvent, player: PlayerState, ruleSet: RuleSet, source: SourceRef, streamTimeMs: number, owned = false): ProcessResult {
    const isWithdrawalRequest = event.kind === 'withdrawal' && event.type === 'REQUESTED'
    if (isWithdrawalRequest && player.decided[event.withdrawalId] !== undefined) {
      return { player, outputs: [], detectorErrors: [], lateFor: [], duplicate: true }
    }
    const profile = event.kind === 'player' ? applyProfile(player.profile, event) : player.profile
    const rules = ruleSet.rulesFor(profile.jurisdiction, profile.tier)
    const context: DetectorContext = { profile, streamTimeMs, screen: this.screen }
    const detectorStates = owned ? (player.detectors as Record<string, { readonly version: number; readonly state: unknown }>) : { ...player.detectors }
    const outputs: OutputRecord[] = []
    const executions: DetectorExecution[] = []
    const detectorErrors: Array<{ detectorId: string; message: string }> = []
    const lateFor: string[] = []

    for (const detector of this.registry.accepting(event.kind)) {
      const rule = rules.get(detector.id)
      if (rule === undefined || !rule.enabled) continue
      const stored = detectorStates[detector.id]
      const previous = stored !== undefined && stored.version === detector.version ? stored.state : detector.init()
      let observation: Observation | null
      try {
        const result = detector.step(previous, event as never, rule.params, context)
        detectorStates[detector.id] = { version: detector.version, state: result.state }
        observation = result.observation
        if (result.late === true) lateFor.push(detector.id)
      } catch (error) {
        // The detector's state is left as it was; the decision is still made (and reviewed).
        const message = error instanceof Error ? error.message : String(error)
        detectorErrors.push({ detectorId: detector.id, message })
        if (isWithdrawalRequest) executions.push({ detectorId: detector.id, detectorVersion: detector.version, status: 'ERROR', value: null, threshold: null, detail: message, action: null })
        continue
      }
      if (observation === null) continue
      if (isWithdrawalRequest) {
        executions.push({
          detectorId: detector.id, detectorVersion: detector.version, status: observation.hit ? 'HIT' : 'NO_HIT',
          value: observation.value, threshold: observation.threshold, detail: observation.detail, action: observation.hit ? rule.action : null,
        })
      }
      if (observation.hit) outputs.push(this.alert(event, detector, rule, observation, ruleSet.version))
    }

    let decided = player.decided
    if (isWithdrawalRequest) {
      const decision = this.decision(event as WithdrawalEvent, profile, executions, ruleSet.version, source)
      outputs.unshift(decision, this.command(event as WithdrawalEvent, decision))
      decided = { ...pruneDecided(player.decided, event.eventTimeMs), [event.withdrawalId]: event.eventTimeMs }
    }
    return { player: { profile, detectors: detectorStates, decided }, outputs, detectorErrors, lateFor, duplicate: false }
  }

  private alert(event: InputEvent, detector: AnyDetector, rule: ResolvedRule, observation: Observation, ruleSetVersion: string): OutputRecord {
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
      },
    }
  }

  /**
   * What the decision asks the payout and ledger services to do, with an idempotency key
   * `wd:{withdrawalId}:{operation}:{attempt}` they de-duplicate on (a replay re-sends the same
   * key). APPROVE pays (attempt 1), REVIEW holds the amount while an officer looks, DECLINE
   * releases the amount the operator reserved when the withdrawal was requested.
   */
  private command(event: WithdrawalEvent, decision: OutputRecord): OutputRecord {
    const decisionId = String(decision.value.decisionId)
    const outcome = decision.value.outcome as Outcome
    if (outcome === 'APPROVE') {
      const idempotencyKey = commandIdempotencyKey(event.withdrawalId, 'PAY', 1)
      return {
        topic: 'payoutCommands',
        key: event.withdrawalId,
        value: { commandId: idempotencyKey, idempotencyKey, withdrawalId: event.withdrawalId, playerId: event.playerId, operation: 'PAY', attempt: 1, amountMinor: event.amountMinor, currency: event.currency, method: event.method, instrumentToken: event.instrument.token, decisionId },
      }
    }
    const operation = outcome === 'REVIEW' ? 'HOLD' : 'RELEASE'
    const idempotencyKey = commandIdempotencyKey(event.withdrawalId, operation, 1)
    return {
      topic: 'ledgerCommands',
      key: event.withdrawalId,
      value: { commandId: idempotencyKey, idempotencyKey, withdrawalId: event.withdrawalId, playerId: event.playerId, operation, amountMinor: event.amountMinor, currency: event.currency, decisionId },
    }
  }

  private decision(event: WithdrawalEvent, profile: PlayerProfile, executions: readonly DetectorExecution[], ruleSetVersion: string, source: SourceRef): OutputRecord {
    const verdict = decide(executions)
    const revision = 1
    return {
      topic: 'decisions',
      key: event.withdrawalId,
      value: {
        decisionId: `${event.withdrawalId}:${revision}`,
        withdrawalId: event.withdrawalId,
        revision,
        playerId: event.playerId,
        outcome: verdict.outcome,
        reasons: verdict.reasons.map((reason) => ({ ...reason })),
        playerReasonCode: verdict.playerReasonCode,
        actions: [...verdict.actions],
        amountMinor: event.amountMinor,
        currency: event.currency,
        jurisdiction: profile.jurisdiction,
        tier: profile.tier,
        eventTimeMs: event.eventTimeMs,
        ruleSetVersion,
        executions: executions.map(({ action: _action, ...execution }) => execution),
        model: null,
        clusterId: null,
        source: { topic: source.topic, partition: source.partition, offset: source.offset, eventId: event.eventId },
      },
    }
  }
}

function pruneDecided(decided: Readonly<Record<string, number>>, nowEventMs: number): Record<string, number> {
  const kept: Record<string, number> = {}
  for (const [withdrawalId, eventTimeMs] of Object.entries(decided)) {
    if (eventTimeMs > nowEventMs - DECIDED_RETENTION_MS) kept[withdrawalId] = eventTimeMs
  }
  return kept
}
