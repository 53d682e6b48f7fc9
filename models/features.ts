/**
 * The feature contract of pitboss's withdrawal models (issue 4): a fixed, versioned vector of
 * float32 values computed from a player's state at decision time plus the withdrawal request.
 *
 * "At decision time" means: the `PlayerState` the partition task holds *before* it steps the
 * withdrawal request (the `player` argument of `EventProcessor.process`), together with that
 * request. Every window is anchored at the withdrawal's event time, never the wall clock, and
 * only state items with `eventTimeMs <= withdrawal.eventTimeMs` count, so an out-of-order event
 * already in state cannot leak the future into a feature.
 *
 * The features are read from what the detectors already keep (their states are the engine's
 * memory of a player); pitboss keeps no second copy. A detector disabled by the rule set keeps no
 * state, and its features then read as "nothing seen" (0), not as missing. NaN means "not
 * defined" (a ratio over zero, an unknown registration time) and is routed by each tree split's
 * learnt missing-value branch, exactly as xgboost does.
 *
 * Any change of a name, order, unit or derivation is a new `FEATURE_CONTRACT_VERSION`; a model's
 * manifest names the version it was trained on and the scorer refuses a mismatch.
 *
 * Example:
 *   const vector = extractFeatures(player, withdrawalEvent)   // Float32Array(FEATURE_COUNT)
 *   vector[FEATURE_INDEX.withdrawals_24h_count]               // prior requests in the last 24 h
 */
import type { PlayerState } from '../pipelines/processor.js'
import type { WithdrawalEvent } from '../schemas/domain.js'

export const FEATURE_CONTRACT_ID = 'pitboss.withdrawal-features'
export const FEATURE_CONTRACT_VERSION = 1

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS

/** One entry of the contract: what a column means, in what unit, and where it comes from. */
export interface FeatureDefinition {
  readonly name: string
  readonly type: 'float32'
  readonly unit: string
  readonly description: string
  /** The state (detector id or `profile` / `event`) the value is read from. */
  readonly source: string
}

/** The contract, in vector order. The order is the ONNX input's column order. */
export const FEATURES = [
  { name: 'withdrawal_amount_minor', type: 'float32', unit: 'minor units of the withdrawal currency', source: 'event', description: 'amount of the withdrawal being decided' },
  { name: 'account_age_hours', type: 'float32', unit: 'hours', source: 'profile.registeredAtMs', description: 'withdrawal time minus registration time; NaN when the registration was never seen' },
  { name: 'kyc_verified', type: 'float32', unit: '0/1', source: 'profile.kycStatus', description: '1 when the KYC status is VERIFIED' },
  { name: 'tier_new', type: 'float32', unit: '0/1', source: 'profile.tier', description: '1 when the player tier is NEW' },
  { name: 'tier_vip', type: 'float32', unit: '0/1', source: 'profile.tier', description: '1 when the player tier is VIP' },
  { name: 'withdrawals_1h_count', type: 'float32', unit: 'count', source: 'withdrawal_velocity', description: 'earlier withdrawal requests in the hour before this one' },
  { name: 'withdrawals_24h_count', type: 'float32', unit: 'count', source: 'withdrawal_velocity', description: 'earlier withdrawal requests in the 24 h before this one' },
  { name: 'withdrawals_24h_sum_minor', type: 'float32', unit: 'minor units', source: 'withdrawal_velocity', description: 'sum of the earlier requests in the 24 h before this one' },
  { name: 'withdrawals_7d_count', type: 'float32', unit: 'count', source: 'withdrawal_velocity', description: 'earlier withdrawal requests in the 7 days before this one (the detector keeps its weekly window)' },
  { name: 'deposits_1h_count', type: 'float32', unit: 'count', source: 'deposit_structuring', description: 'completed deposits (rule-set currency) in the last hour' },
  { name: 'deposits_24h_count', type: 'float32', unit: 'count', source: 'deposit_structuring', description: 'completed deposits (rule-set currency) in the last 24 h' },
  { name: 'deposits_24h_sum_minor', type: 'float32', unit: 'minor units', source: 'deposit_structuring', description: 'sum of those deposits' },
  { name: 'minutes_since_last_deposit', type: 'float32', unit: 'minutes', source: 'deposit_structuring', description: 'time since the latest deposit kept (24 h window); NaN when none' },
  { name: 'deposits_48h_sum_minor', type: 'float32', unit: 'minor units', source: 'pass_through', description: 'deposits in the pass-through window (48 h by default)' },
  { name: 'wagering_to_deposit_ratio_48h', type: 'float32', unit: 'ratio', source: 'pass_through', description: 'stakes settled in the window / deposits in the window; NaN when no deposits' },
  { name: 'withdrawal_to_deposit_ratio_48h', type: 'float32', unit: 'ratio', source: 'pass_through + event', description: '(earlier outflows in the window + this amount) / deposits in the window; NaN when no deposits' },
  { name: 'distinct_devices_7d', type: 'float32', unit: 'count', source: 'device_count', description: 'device fingerprints seen in the last 7 days' },
  { name: 'distinct_asns_24h', type: 'float32', unit: 'count', source: 'ip_asn_jump', description: 'autonomous systems seen in the last 24 h' },
  { name: 'anonymised_logins_6h', type: 'float32', unit: 'count', source: 'anonymising_network', description: 'logins through proxy, VPN, Tor or a high-risk ASN in the last 6 h' },
  { name: 'chargebacks_90d_count', type: 'float32', unit: 'count', source: 'chargeback_count', description: 'deposits charged back or reversed in the last 90 days' },
  { name: 'cancellations_7d_count', type: 'float32', unit: 'count', source: 'deposit_cancel_cycle', description: 'cancelled deposits and withdrawals in the last 7 days' },
  { name: 'amount_to_median_withdrawal', type: 'float32', unit: 'ratio', source: 'unusual_amount + event', description: 'this amount / median of the earlier withdrawals kept; NaN when none' },
  { name: 'method_share', type: 'float32', unit: 'ratio 0..1', source: 'rare_method + event', description: 'share of the player\'s recent payments that used this withdrawal\'s method; NaN when none' },
] as const satisfies readonly FeatureDefinition[]

export type FeatureName = (typeof FEATURES)[number]['name']
export const FEATURE_NAMES: readonly FeatureName[] = FEATURES.map((feature) => feature.name)
export const FEATURE_COUNT = FEATURES.length
/** Column of each feature, e.g. `FEATURE_INDEX.kyc_verified === 2`. */
export const FEATURE_INDEX = Object.fromEntries(FEATURES.map((feature, index) => [feature.name, index])) as { readonly [K in FeatureName]: number }

/** The contract as it is written into a model's manifest. */
export function featureContract(): { id: string; version: number; features: readonly FeatureDefinition[] } {
  return { id: FEATURE_CONTRACT_ID, version: FEATURE_CONTRACT_VERSION, features: FEATURES }
}

// Structural views of the detector states read here. They are declared locally (not imported)
// because detectors export only some of their state types; a renamed field shows up as a
// feature stuck at 0 in the extraction test, not as a crash.
interface TimedAmount { readonly eventTimeMs: number; readonly amountMinor: number }
interface TimedItem { readonly eventTimeMs: number }
interface SightingItem { readonly lastSeenMs: number; readonly firstSeenMs: number }
interface MethodItem { readonly eventTimeMs: number; readonly method: string }
interface StakeBucket { readonly eventTimeMs: number; readonly stakeMinor: number }

function detectorState<T>(player: PlayerState, detectorId: string, field: string): readonly T[] {
  const entry = player.detectors[detectorId]
  if (entry === undefined || entry.state === null || typeof entry.state !== 'object') return []
  const value = (entry.state as Record<string, unknown>)[field]
  return Array.isArray(value) ? (value as T[]) : []
}

/** Items in (endMs - sizeMs, endMs]: the same sliding-window rule the detectors use. */
function inWindow<T extends TimedItem>(items: readonly T[], endMs: number, sizeMs: number): T[] {
  return items.filter((item) => item.eventTimeMs > endMs - sizeMs && item.eventTimeMs <= endMs)
}

const sumAmounts = (items: readonly TimedAmount[]): number => items.reduce((sum, item) => sum + item.amountMinor, 0)

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/**
 * The feature vector of one withdrawal request, in contract order, written into `into` at
 * `offset` when given (so a batch fills one Float32Array without copies).
 *
 * Example: extractFeatures(newPlayerState(), withdrawal)[FEATURE_INDEX.account_age_hours] -> NaN
 */
export function extractFeatures(player: PlayerState, withdrawal: WithdrawalEvent, into?: Float32Array, offset = 0): Float32Array {
  const vector = into ?? new Float32Array(FEATURE_COUNT)
  const nowMs = withdrawal.eventTimeMs
  const profile = player.profile
  const set = (name: FeatureName, value: number): void => { vector[offset + FEATURE_INDEX[name]] = value }

  set('withdrawal_amount_minor', withdrawal.amountMinor)
  set('account_age_hours', profile.registeredAtMs === null ? Number.NaN : (nowMs - profile.registeredAtMs) / HOUR_MS)
  set('kyc_verified', profile.kycStatus === 'VERIFIED' ? 1 : 0)
  set('tier_new', profile.tier === 'NEW' ? 1 : 0)
  set('tier_vip', profile.tier === 'VIP' ? 1 : 0)

  // A duplicate of this very request cannot be in state (duplicates are dropped before the
  // detectors step), so everything here is strictly earlier.
  const requests = detectorState<TimedAmount>(player, 'withdrawal_velocity', 'requests')
  const requests24h = inWindow(requests, nowMs, DAY_MS)
  set('withdrawals_1h_count', inWindow(requests, nowMs, HOUR_MS).length)
  set('withdrawals_24h_count', requests24h.length)
  set('withdrawals_24h_sum_minor', sumAmounts(requests24h))
  set('withdrawals_7d_count', inWindow(requests, nowMs, 7 * DAY_MS).length)

  const deposits = inWindow(detectorState<TimedAmount>(player, 'deposit_structuring', 'deposits'), nowMs, DAY_MS)
  set('deposits_1h_count', inWindow(deposits, nowMs, HOUR_MS).length)
  set('deposits_24h_count', deposits.length)
  set('deposits_24h_sum_minor', sumAmounts(deposits))
  const lastDepositMs = deposits.reduce((latest, item) => Math.max(latest, item.eventTimeMs), Number.NEGATIVE_INFINITY)
  set('minutes_since_last_deposit', deposits.length === 0 ? Number.NaN : (nowMs - lastDepositMs) / MINUTE_MS)

  const passThroughWindowMs = 2 * DAY_MS
  // pass_through@2 keeps deposits and transfers received as `inflows`; the features keep their
  // contract (deposits only: the shipped model was trained on that), so received money is left out.
  const passThroughDeposits = detectorState<TimedAmount & { readonly source?: string }>(player, 'pass_through', 'inflows').filter((inflow) => inflow.source === 'deposit')
  const inflowMinor = sumAmounts(inWindow(passThroughDeposits, nowMs, passThroughWindowMs))
  const outflowMinor = sumAmounts(inWindow(detectorState<TimedAmount>(player, 'pass_through', 'outflows'), nowMs, passThroughWindowMs))
  const stakedMinor = inWindow(detectorState<StakeBucket>(player, 'pass_through', 'wagering'), nowMs, passThroughWindowMs).reduce((sum, bucket) => sum + bucket.stakeMinor, 0)
  set('deposits_48h_sum_minor', inflowMinor)
  set('wagering_to_deposit_ratio_48h', inflowMinor === 0 ? Number.NaN : stakedMinor / inflowMinor)
  set('withdrawal_to_deposit_ratio_48h', inflowMinor === 0 ? Number.NaN : (outflowMinor + withdrawal.amountMinor) / inflowMinor)

  const seenSince = (items: readonly SightingItem[], sizeMs: number): number => items.filter((item) => item.lastSeenMs > nowMs - sizeMs && item.firstSeenMs <= nowMs).length
  set('distinct_devices_7d', seenSince(detectorState<SightingItem>(player, 'device_count', 'devices'), 7 * DAY_MS))
  set('distinct_asns_24h', seenSince(detectorState<SightingItem>(player, 'ip_asn_jump', 'asns'), DAY_MS))
  set('anonymised_logins_6h', inWindow(detectorState<TimedItem>(player, 'anonymising_network', 'flagged'), nowMs, 6 * HOUR_MS).length)
  set('chargebacks_90d_count', inWindow(detectorState<TimedItem>(player, 'chargeback_count', 'chargebacks'), nowMs, 90 * DAY_MS).length)
  set('cancellations_7d_count', inWindow(detectorState<TimedItem>(player, 'deposit_cancel_cycle', 'cancellations'), nowMs, 7 * DAY_MS).length)

  const pastAmounts = detectorState<TimedAmount>(player, 'unusual_amount', 'withdrawals').filter((item) => item.eventTimeMs <= nowMs).map((item) => item.amountMinor)
  const medianMinor = pastAmounts.length === 0 ? 0 : median(pastAmounts)
  set('amount_to_median_withdrawal', medianMinor === 0 ? Number.NaN : withdrawal.amountMinor / medianMinor)

  const payments = detectorState<MethodItem>(player, 'rare_method', 'payments').filter((item) => item.eventTimeMs <= nowMs)
  set('method_share', payments.length === 0 ? Number.NaN : payments.filter((item) => item.method === withdrawal.method).length / payments.length)
  return vector
}
