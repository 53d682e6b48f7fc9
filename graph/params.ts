import { RiskError } from '../core/errors.js'
import { TYPOLOGIES, type IdentifierType, type TypologyId } from './types.js'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Every threshold of the link graph, as plain data. Pass a partial object to LinkGraph; what
 * is missing comes from DEFAULT_GRAPH_PARAMS.
 *
 * Example: new LinkGraph({ farm: { minAccounts: 4 }, cycle: { maxLength: 5 } })
 */
export interface GraphParams {
  /** Seed of Louvain's RNG; each component derives its own stream from it and its id. */
  readonly seed: number
  /** How long a link / transfer / bet counts after it was last seen, by event time. */
  readonly linkTtlMs: number
  readonly transferTtlMs: number
  readonly betTtlMs: number
  readonly louvain: { readonly resolution: number }
  /** Edge weights used by Louvain and risk propagation (weak identifiers weigh less). */
  readonly linkWeights: Readonly<Record<IdentifierType, number>>
  readonly risk: {
    /** Restart probability of the personalized PageRank. */
    readonly restartProbability: number
    readonly maxIterations: number
    readonly tolerance: number
    /** Seed weights: how much each flag starts with. */
    readonly sanctionedWeight: number
    readonly flaggedWeight: number
    readonly chargedBackWeight: number
  }
  readonly farm: {
    /** k: accounts sharing one identifier of these types raise a farm alert. */
    readonly minAccounts: number
    readonly identifierTypes: readonly IdentifierType[]
  }
  readonly referral: {
    /** A referrer plus referees that share a non-referrer identifier with it or each other. */
    readonly minAccounts: number
    /** Identifiers that make a referral self-dealing (an IP block alone does not). */
    readonly strongIdentifierTypes: readonly IdentifierType[]
  }
  readonly bonusFarm: {
    /** Bonus claimers linked through these identifier types, at least this many. */
    readonly minAccounts: number
    readonly linkTypes: readonly IdentifierType[]
  }
  readonly collusion: {
    readonly opposingSides: ReadonlyArray<readonly [string, string]>
    /** Rounds where two linked players bet opposite sides, and their share of shared rounds. */
    readonly minOpposingRounds: number
    readonly minOpposingShare: number
    /** Smaller stake / larger stake at or above this counts as "matched" (hedged) opposing bets. */
    readonly minStakeRatio: number
    /** Chip flow: rounds where one lost and the other won, always the same way round. */
    readonly minChipFlowRounds: number
    readonly minChipFlowShare: number
    readonly minChipFlowAmountMinor: number
  }
  readonly fan: {
    /** Distinct counterparties within the window. */
    readonly minCounterparties: number
    readonly windowMs: number
    /** Only transfers at or below this amount count (structuring); null counts all. */
    readonly maxTransferAmountMinor: number | null
    readonly minTotalAmountMinor: number
  }
  readonly cycle: {
    readonly minLength: number
    readonly maxLength: number
    /** Each hop no earlier than the previous one, all within the span; false ignores time. */
    readonly timeOrdered: boolean
    readonly maxSpanMs: number
    /** Each hop's amount within this ratio of the previous hop's; null ignores amounts. */
    readonly amountToleranceRatio: number | null
    /** Search budget per start player (edges explored) so a dense component cannot stall the worker. */
    readonly maxExpansionsPerStart: number
  }
  readonly scatterGather: {
    /** Distinct intermediaries between one source and one sink. */
    readonly minIntermediaries: number
    readonly windowMs: number
    readonly amountToleranceRatio: number
  }
  /** Cap on alerts per typology and component, so one huge component cannot flood the topic. */
  readonly maxAlertsPerTypology: number
  /** Typologies that run on recompute (all by default). */
  readonly enabledTypologies: readonly TypologyId[]
}

export const DEFAULT_GRAPH_PARAMS: GraphParams = Object.freeze({
  seed: 42,
  linkTtlMs: 180 * DAY_MS, // identifiers churn (devices replaced, IP blocks reassigned)
  transferTtlMs: 90 * DAY_MS, // one quarter: the usual look-back of a money-flow review
  betTtlMs: 30 * DAY_MS,
  louvain: { resolution: 1 },
  linkWeights: { device: 1, card: 1, wallet: 1, email: 1, phone: 1, referrer: 0.5, ip_block: 0.2 },
  risk: { restartProbability: 0.15, maxIterations: 50, tolerance: 1e-9, sanctionedWeight: 1, flaggedWeight: 0.8, chargedBackWeight: 0.6 },
  farm: { minAccounts: 3, identifierTypes: ['device', 'card', 'wallet'] },
  referral: { minAccounts: 3, strongIdentifierTypes: ['device', 'card', 'wallet', 'email', 'phone'] },
  bonusFarm: { minAccounts: 3, linkTypes: ['device', 'card', 'wallet', 'email', 'phone', 'referrer'] },
  collusion: {
    opposingSides: [['player', 'banker'], ['red', 'black'], ['odd', 'even'], ['big', 'small']],
    minOpposingRounds: 5,
    minOpposingShare: 0.6,
    minStakeRatio: 0.5,
    minChipFlowRounds: 10,
    minChipFlowShare: 0.8,
    minChipFlowAmountMinor: 500_00,
  },
  fan: { minCounterparties: 5, windowMs: 7 * DAY_MS, maxTransferAmountMinor: null, minTotalAmountMinor: 0 },
  cycle: { minLength: 3, maxLength: 6, timeOrdered: true, maxSpanMs: 30 * DAY_MS, amountToleranceRatio: 0.2, maxExpansionsPerStart: 50_000 },
  scatterGather: { minIntermediaries: 3, windowMs: 7 * DAY_MS, amountToleranceRatio: 0.2 },
  maxAlertsPerTypology: 1000,
  enabledTypologies: TYPOLOGIES,
} satisfies GraphParams)

/** A partial override: each section is merged field by field onto the defaults. */
export type GraphParamsInput = { readonly [K in keyof GraphParams]?: GraphParams[K] extends readonly unknown[] | number | boolean ? GraphParams[K] : Partial<GraphParams[K]> }

export function resolveGraphParams(input: GraphParamsInput = {}): GraphParams {
  const merged: Record<string, unknown> = {}
  for (const [key, base] of Object.entries(DEFAULT_GRAPH_PARAMS)) {
    const override = (input as Record<string, unknown>)[key]
    merged[key] = override === undefined ? base
      : typeof base === 'object' && base !== null && !Array.isArray(base) ? { ...base, ...(override as object) } : override
  }
  const params = merged as unknown as GraphParams
  const positive: Array<[string, number]> = [
    ['farm.minAccounts', params.farm.minAccounts], ['referral.minAccounts', params.referral.minAccounts],
    ['bonusFarm.minAccounts', params.bonusFarm.minAccounts], ['fan.minCounterparties', params.fan.minCounterparties],
    ['cycle.maxLength', params.cycle.maxLength], ['scatterGather.minIntermediaries', params.scatterGather.minIntermediaries],
    ['linkTtlMs', params.linkTtlMs], ['transferTtlMs', params.transferTtlMs], ['betTtlMs', params.betTtlMs],
  ]
  for (const [name, value] of positive) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RiskError('RISK_ERR_CONFIG_INVALID', `graph parameter ${name} must be a positive number, got ${value}`, { parameter: name })
    }
  }
  if (params.cycle.minLength < 2 || params.cycle.minLength > params.cycle.maxLength) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `graph parameter cycle.minLength must be between 2 and cycle.maxLength (${params.cycle.maxLength})`, { parameter: 'cycle.minLength' })
  }
  const unknown = params.enabledTypologies.filter((typology) => !(TYPOLOGIES as readonly string[]).includes(typology))
  if (unknown.length > 0) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `graph parameter enabledTypologies names unknown typologies ${unknown.join(', ')}; known: ${TYPOLOGIES.join(', ')}`, { parameter: 'enabledTypologies' })
  }
  const restart = params.risk.restartProbability
  if (!(restart > 0 && restart < 1)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `graph parameter risk.restartProbability must be in (0, 1), got ${restart}`, { parameter: 'risk.restartProbability' })
  }
  return Object.freeze(params)
}
