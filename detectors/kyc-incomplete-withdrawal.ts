/**
 * kyc_incomplete_withdrawal: a withdrawal requested before the player's KYC is VERIFIED
 * (catalog 7). Whether that blocks the payout, holds it for review or asks for documents is
 * the rule set's action (step_up_kyc by default, block_payout in the UK, where a player must be
 * verified before gambling at all), not this detector's.
 *
 * Every request is evaluated (hit or not). `value` is the request's ordinal for this player
 * (1 = the first request this rule evaluated for the player), so the decision engine can make "first
 * withdrawal without full KYC" a hard stop from data; the detail says "first withdrawal" too.
 * `minKycLevel` optionally also requires a level on the operator's scale.
 *
 * Worked example (minKycLevel null): KYC PENDING, first request -> hit, value 1, detail
 * "KYC PENDING (not VERIFIED) at the first withdrawal request"; KYC_CHANGED to VERIFIED, then a
 * second request -> no hit, value 2. With minKycLevel 2 and kycLevel 1, a VERIFIED player's
 * request is a hit ("KYC level 1, required 2").
 *
 * A player whose registration pitboss never saw has jurisdiction UNKNOWN and KYC status NONE
 * (pipelines/processor.ts); the shipped rule set disables this rule for jurisdiction UNKNOWN
 * (see its override) rather than treating "no record" as "not verified".
 */
import { defineDetector, type Observation } from './detector.js'

export interface KycIncompleteWithdrawalParams {
  /** Also require this KYC level (operator scale); null = the VERIFIED status is enough. */
  readonly minKycLevel: number | null
}

export interface KycIncompleteWithdrawalState {
  /** Withdrawal requests seen for this player (duplicated requests never reach detectors). */
  readonly requestCount: number
}

const VERIFIED = 'VERIFIED'

export const kycIncompleteWithdrawal = defineDetector({
  id: 'kyc_incomplete_withdrawal',
  version: 1,
  description: 'withdrawal requested before KYC is VERIFIED (and optionally at a minimum KYC level)',
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: [],
    properties: {
      minKycLevel: { type: ['integer', 'null'], minimum: 0, default: null },
    },
  },
  init: (): KycIncompleteWithdrawalState => ({ requestCount: 0 }),
  step(state: KycIncompleteWithdrawalState, event, params: KycIncompleteWithdrawalParams, context) {
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const ordinal = state.requestCount + 1
    const { kycStatus, kycLevel } = context.profile
    const statusMissing = kycStatus !== VERIFIED
    const levelMissing = params.minKycLevel !== null && (kycLevel ?? 0) < params.minKycLevel
    const which = ordinal === 1 ? 'the first withdrawal request' : `withdrawal request ${ordinal}`
    const problems = [
      ...(statusMissing ? [`KYC ${kycStatus} (not ${VERIFIED})`] : []),
      ...(levelMissing ? [`KYC level ${kycLevel ?? 'none'}, required ${params.minKycLevel}`] : []),
    ]
    const observation: Observation = {
      hit: problems.length > 0,
      value: ordinal,
      threshold: null,
      detail: problems.length > 0 ? `${problems.join('; ')} at ${which}` : `KYC ${VERIFIED} at ${which}`,
      evidenceEventIds: [event.eventId],
      windowStartMs: null,
      windowEndMs: null,
    }
    return { state: { requestCount: ordinal }, observation }
  },
})
