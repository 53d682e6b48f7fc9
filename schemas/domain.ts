/**
 * The domain layer the pipeline sees: input events as one discriminated union on `kind`, built
 * from decoded wire records by `toInputEvent` (adapters.ts), which also enforces the rules Avro
 * cannot (non-empty ids, non-negative amounts, currency codes...).
 *
 * An input event is its wire record plus `kind`: the field names, units and nullability are the
 * schema's (one exception: a transfer's wire `kind` is `transferKind`) (generated/types.ts documents each field). Optional fields are `T | null`, never
 * undefined.
 *
 * Outputs (decisions, alerts, payout and ledger commands, dead letters) have no separate domain
 * type: the generated wire types are the domain types, because a mapping would be the identity.
 * The id conventions they share are the helpers below.
 *
 * Example:
 *   function amountOf(event: InputEvent): number {
 *     switch (event.kind) {
 *       case 'deposit': return event.status === 'COMPLETED' ? event.amountMinor : 0
 *       case 'withdrawal': return -event.amountMinor
 *       default: return 0
 *     }
 *   }
 */
import type { InputTopicKey } from '../core/topics.js'
import type { Bet, Deposit, DeviceActivity, PayoutEvent as PayoutEventWire, PlayerChange, PlayerCluster, ReviewVerdict, ScreeningInstruction, Transfer, TransferKind, TransferReceived, Withdrawal } from './generated/types.js'

export type {
  Alert, AlertSeverity, Bet, BetType, DeadLetter, Decision, DecisionOutcome, DecisionReason, DecisionSource, Deposit, DepositStatus,
  DetectorExecution, DeviceActivity, DeviceActivityType, ExecutionStatus, FeatureContribution, GameType, KycStatus, LedgerCommand,
  LedgerOperation, ModelScore, PaymentInstrument, PaymentMethod, PayoutCommand, PayoutOperation, PlayerChange, PlayerChangeType,
  PlayerTier, TopicWireTypes, Transfer, TransferKind, TransferReceived, Withdrawal, WithdrawalType, ReviewVerdict, ReviewOutcome, PayoutEventType,
  WithdrawalTransition, ShadowScore, ReviewRef,
} from './generated/types.js'

/** A registration, profile, KYC or self-exclusion change (casino.players.v1). */
export interface PlayerEvent extends PlayerChange { readonly kind: 'player' }
/** A login or session boundary with device and network signals (casino.devices.v1). */
export interface DeviceEvent extends DeviceActivity { readonly kind: 'device' }
/** A deposit or a change of its status (casino.deposits.v1). */
export interface DepositEvent extends Deposit { readonly kind: 'deposit' }
/** A bet placed or settled (casino.bets.v1). */
export interface BetEvent extends Bet { readonly kind: 'bet' }
/** A withdrawal request or cancellation (casino.withdrawals.v1). */
export interface WithdrawalEvent extends Withdrawal { readonly kind: 'withdrawal' }
/**
 * Money sent by `playerId` to `toPlayerId` (casino.transfers.v1). The wire field `kind` (P2P,
 * TIP...) is `transferKind` here, since `kind` is the union's discriminator.
 */
export interface TransferEvent extends Omit<Transfer, 'kind'> {
  readonly kind: 'transfer'
  readonly transferKind: TransferKind
}

/**
 * Money `playerId` RECEIVED from `fromPlayerId`: a transfer re-keyed by the receiver
 * (risk.transfers-received.v1, written by the sender's partition task). Same eventId, transferId
 * and event time as the TransferEvent it copies; the same transfer may arrive more than once
 * (redelivery, replay), so state keyed on it de-duplicates by transferId.
 * Example: `{ kind: 'transferReceived', playerId: 'B', fromPlayerId: 'A', transferId: 'tr-1', transferKind: 'P2P', amountMinor: 200000, ... }`
 */
export interface TransferReceivedEvent extends TransferReceived { readonly kind: 'transferReceived' }

/** An AML officer's verdict on a withdrawal held for review (risk.reviews.v1, written by the case service). */
export interface ReviewEvent extends ReviewVerdict { readonly kind: 'review' }
/** What the payout service did with a payout (payout.events.v1). */
export interface PayoutEvent extends PayoutEventWire { readonly kind: 'payout' }

/** The player's cluster in the link graph, as the graph worker last computed it (risk.clusters.v1). */
export interface ClusterEvent extends PlayerCluster { readonly kind: 'cluster' }

/** A rescreen of the player or an officer's verdict on a list match (risk.screening.v1). */
export interface ScreeningEvent extends ScreeningInstruction { readonly kind: 'screening' }

export type InputEvent = PlayerEvent | DeviceEvent | DepositEvent | BetEvent | WithdrawalEvent | TransferEvent | ReviewEvent | PayoutEvent | ClusterEvent | ScreeningEvent | TransferReceivedEvent
export type InputEventKind = InputEvent['kind']

/** The event each input topic yields. */
export interface InputEventByTopic {
  readonly players: PlayerEvent
  readonly devices: DeviceEvent
  readonly deposits: DepositEvent
  readonly bets: BetEvent
  readonly withdrawals: WithdrawalEvent
  readonly transfers: TransferEvent
  readonly reviews: ReviewEvent
  readonly payouts: PayoutEvent
  readonly clusters: ClusterEvent
  readonly screening: ScreeningEvent
  readonly transfersReceived: TransferReceivedEvent
}

export const INPUT_EVENT_KIND_BY_TOPIC = {
  players: 'player',
  devices: 'device',
  deposits: 'deposit',
  bets: 'bet',
  withdrawals: 'withdrawal',
  transfers: 'transfer',
  reviews: 'review',
  payouts: 'payout',
  clusters: 'cluster',
  screening: 'screening',
  transfersReceived: 'transferReceived',
} as const satisfies { readonly [K in InputTopicKey]: InputEventByTopic[K]['kind'] }

/**
 * Id of a decision: `${withdrawalId}:${revision}`. The same withdrawal and revision always give
 * the same id, which is what consumers de-duplicate on.
 * Example: `decisionIdOf('wd-881', 1)` -> `'wd-881:1'`.
 */
export function decisionIdOf(withdrawalId: string, revision: number): string {
  return `${withdrawalId}:${revision}`
}

/**
 * Idempotency key of a payout or ledger command: `wd:{withdrawalId}:{operation}:{attempt}`.
 * Example: `commandIdempotencyKey('wd-881', 'PAY', 1)` -> `'wd:wd-881:PAY:1'`.
 */
export function commandIdempotencyKey(withdrawalId: string, operation: string, attempt: number): string {
  return `wd:${withdrawalId}:${operation}:${attempt}`
}

/**
 * Id of a dead letter: `${topic}:${partition}:${offset}` of the source record, so re-routing
 * the same record after a restart writes the same id.
 * Example: `deadLetterIdOf('casino.deposits.v1', 3, '1042')` -> `'casino.deposits.v1:3:1042'`.
 */
export function deadLetterIdOf(topic: string, partition: number, offset: string | number): string {
  return `${topic}:${partition}:${offset}`
}
