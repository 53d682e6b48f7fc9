/**
 * The detector registry: every detector pitboss runs, in one explicit list. Registering two
 * detectors with the same id@version throws at start (RISK_ERR_DETECTOR_DUPLICATE).
 */
import { RiskError } from '../core/errors.js'
import { detectorKey, type AnyDetector, type EventKind } from './detector.js'
import { withdrawalVelocity } from './withdrawal-velocity.js'
import { anonymisingNetwork } from './anonymising-network.js'
import { chargebackCount } from './chargeback-count.js'
import { depositCancelCycle } from './deposit-cancel-cycle.js'
import { deviceCount } from './device-count.js'
import { geoMismatch } from './geo-mismatch.js'
import { impossibleTravel } from './impossible-travel.js'
import { ipAsnJump } from './ip-asn-jump.js'
import { newDeviceWithdrawal } from './new-device-withdrawal.js'
import { closedLoopBreach } from './closed-loop-breach.js'
import { depositStructuring } from './deposit-structuring.js'
import { passThrough } from './pass-through.js'
import { rareMethod } from './rare-method.js'
import { unusualAmount } from './unusual-amount.js'
import { bonusMaxBet } from './bonus-max-bet.js'
import { bonusWageringUnmet } from './bonus-wagering-unmet.js'
import { eddThreshold } from './edd-threshold.js'
import { instrumentNameMismatch } from './instrument-name-mismatch.js'
import { kycIncompleteWithdrawal } from './kyc-incomplete-withdrawal.js'
import { longSession } from './long-session.js'
import { lossChasing } from './loss-chasing.js'
import { nightIntensity } from './night-intensity.js'
import { sanctionsConfirmedMatch, sanctionsPotentialMatch } from './sanctions-match.js'
import { selfExclusionBreach } from './self-exclusion-breach.js'
import { underage } from './underage.js'

export const DETECTORS: readonly AnyDetector[] = [withdrawalVelocity, depositStructuring, passThrough, unusualAmount, closedLoopBreach, rareMethod,
  geoMismatch, impossibleTravel, ipAsnJump, anonymisingNetwork, newDeviceWithdrawal, deviceCount, chargebackCount, depositCancelCycle,
  kycIncompleteWithdrawal, instrumentNameMismatch, underage, eddThreshold, bonusWageringUnmet, bonusMaxBet, lossChasing, longSession, nightIntensity, selfExclusionBreach,
  sanctionsPotentialMatch, sanctionsConfirmedMatch]

export class DetectorRegistry {
  private readonly byId = new Map<string, AnyDetector>()
  private readonly byKind = new Map<EventKind, AnyDetector[]>()

  constructor(detectors: readonly AnyDetector[] = DETECTORS) {
    const keys = new Set<string>()
    for (const detector of detectors) {
      const key = detectorKey(detector)
      if (keys.has(key)) throw new RiskError('RISK_ERR_DETECTOR_DUPLICATE', `detector ${key} is registered twice`, { detectorId: detector.id })
      keys.add(key)
      // One version of a detector runs at a time; a new version replaces the old one in the list.
      if (this.byId.has(detector.id)) throw new RiskError('RISK_ERR_DETECTOR_DUPLICATE', `detector ${detector.id} is registered in two versions; keep one in detectors/index.ts`, { detectorId: detector.id })
      this.byId.set(detector.id, detector)
      for (const kind of detector.accepts) {
        const list = this.byKind.get(kind) ?? []
        list.push(detector)
        this.byKind.set(kind, list)
      }
    }
  }

  get(id: string): AnyDetector | undefined {
    return this.byId.get(id)
  }

  all(): readonly AnyDetector[] {
    return [...this.byId.values()]
  }

  /** Detectors that step on events of this kind, in registration order. */
  accepting(kind: EventKind): readonly AnyDetector[] {
    return this.byKind.get(kind) ?? []
  }
}
