/**
 * Rule sets: detector parameters, severities and actions as versioned data, with overrides per
 * jurisdiction and per player tier. A rule set is JSON, validated when loaded (its own shape
 * and each detector's params against that detector's JSON schema); every decision and signal
 * records the version it used. docs/rule-sets.md is the user's guide.
 *
 * Resolution for a player of jurisdiction J and tier T, by specificity, whatever the file order:
 *   1. `detectors` (the defaults);
 *   2. overrides matching `{ jurisdiction: J }` only;
 *   3. overrides matching `{ tier: T }` only;
 *   4. overrides matching `{ jurisdiction: J, tier: T }`.
 * Within one rank, later overrides in the file win. An override replaces enabled/severity/action
 * and merges params key by key. Specificity rather than file order, so an override appended at
 * the end of the file for a jurisdiction cannot silently beat a tier override.
 *
 * Versions. A version names one content (`detectors` + `overrides`) for ever: the content's
 * hash (`ruleSetContentHash`, sha256 of canonical JSON) is computed at load and kept beside the
 * version. A document may record it as `contentHash`; if it does, a file edited without a new
 * hash (hence, by the procedure in docs/rule-sets.md, without a new version) is refused. A
 * RuleSetHolder refuses to activate a version it has already held with other content. Audit
 * fields `author`, `createdAtMs` and `previousVersion` say who changed what and when.
 *
 * Example:
 *   { "version": "2026-11-26.1", "author": "compliance@operator", "createdAtMs": 1795651200000,
 *     "previousVersion": "2026-11-20.2",
 *     "detectors": { "withdrawal_velocity": { "enabled": true, "severity": "medium",
 *        "action": "hold_for_review", "params": { "maxCount": 3, "windowMs": 86400000 } } },
 *     "overrides": [ { "match": { "jurisdiction": "UK" },
 *        "detectors": { "withdrawal_velocity": { "params": { "maxCount": 2 } } } } ] }
 *   RuleSet.parse(doc, registry).rulesFor('UK', 'VIP').get('withdrawal_velocity')?.params.maxCount  // 2
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { RiskError } from '../core/errors.js'
import type { DetectorRegistry } from './index.js'

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

/** What a hit asks the payout flow to do. Outcome mapping is in pipelines/decide.ts. */
export const ACTIONS = ['block_payout', 'hold_for_review', 'continue_with_lower_limits', 'step_up_kyc', 'step_up_mfa', 'rg_intervention', 'alert_only'] as const
export type Action = (typeof ACTIONS)[number]

/** Player tiers an override can match (the PlayerTier Avro enum; an unknown future tier reads as NEW). */
export const TIERS = ['NEW', 'VERIFIED', 'VIP'] as const

export interface DetectorRule {
  readonly enabled: boolean
  readonly severity: Severity
  readonly action: Action
  readonly params: Readonly<Record<string, unknown>>
}

export interface RuleSetOverride {
  readonly match: { readonly jurisdiction?: string; readonly tier?: string }
  readonly detectors: Readonly<Record<string, Partial<DetectorRule>>>
  readonly decision?: DecisionPolicyChange
}

/**
 * How decide() (pipelines/decide.ts) weighs signals for one jurisdiction and tier.
 * - `hardStops`: detectors whose hit decides at once by its rule's action (no model, no weighing).
 * - soft signals are combined as a noisy-OR, `1 - Π(1 - term)`, of one term per soft hit
 *   (`severityWeights[severity]`), the model (`modelWeight × min(1, score / cutoff)`, so a score at
 *   the model's calibrated cut-off weighs exactly `modelWeight`) and the cluster
 *   (`clusterWeight × cluster risk`); the composite is compared with `reviewAt` and `declineAt`.
 * - `coolingOff`: an approval of at least `minAmountMinor` is paid no earlier than `holdMs` after
 *   the request (the payout command's notBeforeMs).
 */
export interface DecisionPolicy {
  readonly hardStops: readonly string[]
  readonly severityWeights: Readonly<Record<Severity, number>>
  readonly modelWeight: number
  readonly clusterWeight: number
  readonly reviewAt: number
  readonly declineAt: number
  readonly coolingOff: { readonly minAmountMinor: number; readonly holdMs: number }
}

export type DecisionPolicyChange = Partial<Omit<DecisionPolicy, 'severityWeights' | 'coolingOff'>> & {
  readonly severityWeights?: Partial<Record<Severity, number>>
  readonly coolingOff?: Partial<DecisionPolicy['coolingOff']>
}

/** The policy of a rule set that has no `decision` section. */
export const DEFAULT_DECISION_POLICY: DecisionPolicy = Object.freeze({
  hardStops: Object.freeze(['sanctions_confirmed_match', 'self_exclusion_breach', 'kyc_incomplete_withdrawal', 'underage']),
  severityWeights: Object.freeze({ low: 0.1, medium: 0.25, high: 0.45, critical: 0.7 }),
  modelWeight: 0.5,
  clusterWeight: 0.4,
  reviewAt: 0.5,
  declineAt: 0.9,
  coolingOff: Object.freeze({ minAmountMinor: 1_000_000, holdMs: 24 * 60 * 60 * 1000 }),
})

const unit = { type: 'number', minimum: 0, maximum: 1 } as const
const decisionPolicySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hardStops: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    severityWeights: { type: 'object', additionalProperties: false, properties: { low: unit, medium: unit, high: unit, critical: unit } },
    modelWeight: unit,
    clusterWeight: unit,
    reviewAt: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    declineAt: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    coolingOff: { type: 'object', additionalProperties: false, properties: { minAmountMinor: { type: 'integer', minimum: 0 }, holdMs: { type: 'integer', minimum: 0 } } },
  },
} as const

function applyPolicyChange(policy: DecisionPolicy, change: DecisionPolicyChange | undefined): DecisionPolicy {
  if (change === undefined) return policy
  return {
    ...policy,
    ...change,
    severityWeights: { ...policy.severityWeights, ...(change.severityWeights ?? {}) },
    coolingOff: { ...policy.coolingOff, ...(change.coolingOff ?? {}) },
  }
}

export interface RuleSetDocument {
  readonly version: string
  readonly description?: string
  /** Who made this version (a person or a change ticket), for the audit trail. */
  readonly author?: string
  /** When this version was made, epoch milliseconds. */
  readonly createdAtMs?: number
  /** The version this one replaces; must differ from `version`. */
  readonly previousVersion?: string
  /** `sha256:<hex>` of the content (see ruleSetContentHash); when present it must match. */
  readonly contentHash?: string
  readonly detectors: Readonly<Record<string, DetectorRule>>
  readonly overrides?: readonly RuleSetOverride[]
  /** How signals combine into an outcome; absent = DEFAULT_DECISION_POLICY. */
  readonly decision?: DecisionPolicyChange
}

const ruleFields = {
  enabled: { type: 'boolean' },
  severity: { enum: SEVERITIES },
  action: { enum: ACTIONS },
  params: { type: 'object' },
} as const

const VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:+-]*$'

const documentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'detectors'],
  properties: {
    version: { type: 'string', minLength: 1, maxLength: 64, pattern: VERSION_PATTERN },
    description: { type: 'string' },
    author: { type: 'string', minLength: 1, maxLength: 200 },
    createdAtMs: { type: 'integer', minimum: 0 },
    previousVersion: { type: 'string', minLength: 1, maxLength: 64, pattern: VERSION_PATTERN },
    contentHash: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    decision: decisionPolicySchema,
    detectors: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: false, required: ['enabled', 'severity', 'action', 'params'], properties: ruleFields },
    },
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match', 'detectors'],
        properties: {
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            // Matched exactly against the player's profile: upper-case codes as the operator sends them (MT, UK, CW).
            properties: { jurisdiction: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,31}$' }, tier: { enum: TIERS } },
          },
          detectors: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, properties: ruleFields } },
          decision: decisionPolicySchema,
        },
      },
    },
  },
} as const

/** A rule set resolved for one detector and one (jurisdiction, tier). */
export interface ResolvedRule extends DetectorRule {
  readonly detectorId: string
}

type Rules = ReadonlyMap<string, ResolvedRule>

/** Rules for one jurisdiction: by tier named in some override, and for every other tier. */
interface JurisdictionRow {
  readonly byTier: ReadonlyMap<string, Rules>
  readonly otherTier: Rules
  readonly policyByTier: ReadonlyMap<string, DecisionPolicy>
  readonly otherTierPolicy: DecisionPolicy
}

/** JSON with object keys sorted at every level (arrays keep their order: override order matters). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * The hash that identifies a rule set's content: sha256 over the canonical JSON (keys sorted) of
 * `detectors`, `overrides` (absent = []) and `decision` (when present). Version, description and audit fields are not
 * content: fixing a typo in the description needs no new version, changing a threshold does.
 *
 * Example: ruleSetContentHash(JSON.parse(fs.readFileSync('rules.json', 'utf8'))) -> 'sha256:9f2c…'
 */
export function ruleSetContentHash(document: Pick<RuleSetDocument, 'detectors' | 'overrides' | 'decision'>): string {
  // `decision` joins the hash only when present, so documents written before it keep their hash.
  const content = canonicalJson({ detectors: document.detectors, overrides: document.overrides ?? [], decision: document.decision })
  return `sha256:${createHash('sha256').update(content).digest('hex')}`
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const entry of Object.values(value)) deepFreeze(entry)
  }
  return value
}

const describeMatch = (match: RuleSetOverride['match']): string =>
  [match.jurisdiction === undefined ? null : `jurisdiction ${match.jurisdiction}`, match.tier === undefined ? null : `tier ${match.tier}`].filter((part) => part !== null).join(', ')

/** 1 = jurisdiction only, 2 = tier only, 3 = both: the order overrides apply in. */
const specificity = (match: RuleSetOverride['match']): number => (match.jurisdiction !== undefined ? 1 : 0) + (match.tier !== undefined ? 2 : 0)

export class RuleSet {
  readonly version: string
  /** `sha256:<hex>` of the content; the same version always has the same hash. */
  readonly contentHash: string
  private readonly rows: ReadonlyMap<string, JurisdictionRow>
  private readonly otherRow: JurisdictionRow

  private constructor(
    readonly document: RuleSetDocument,
    contentHash: string,
    rows: ReadonlyMap<string, JurisdictionRow>,
    otherRow: JurisdictionRow,
  ) {
    this.version = document.version
    this.contentHash = contentHash
    this.rows = rows
    this.otherRow = otherRow
  }

  /**
   * Validates a rule set against its schema and the registered detectors, and resolves every
   * (jurisdiction, tier) combination the document can produce — each jurisdiction and tier an
   * override names, plus "any other" for both — so a bad override fails at load, naming the
   * jurisdiction and tier, and not on the first VIP player in Malta. The input is not modified.
   */
  static parse(raw: unknown, registry: DetectorRegistry, source = 'rule set'): RuleSet {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })
    const validateDocument = ajv.compile(documentSchema)
    const copy = structuredClone(raw)
    if (!validateDocument(copy)) {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: ${ajv.errorsText(validateDocument.errors, { dataVar: 'ruleSet' })}`, { source })
    }
    const document = deepFreeze(copy as RuleSetDocument)
    if (document.previousVersion === document.version) {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: previousVersion equals version '${document.version}'; a new rule set needs a new version`, { source })
    }
    const contentHash = ruleSetContentHash(document)
    if (document.contentHash !== undefined && document.contentHash !== contentHash) {
      throw new RiskError(
        'RISK_ERR_RULE_SET_INVALID',
        `${source}: version '${document.version}' records contentHash ${document.contentHash} but its content hashes to ${contentHash}; the rules changed without a new version: give it a new version and set contentHash to the new hash`,
        { source, version: document.version },
      )
    }

    const overrides = document.overrides ?? []
    const validators = new Map<string, ValidateFunction>()
    const mentioned = new Set([...Object.keys(document.detectors), ...overrides.flatMap((override) => Object.keys(override.detectors))])
    for (const detectorId of mentioned) {
      const detector = registry.get(detectorId)
      if (detector === undefined) throw new RiskError('RISK_ERR_DETECTOR_UNKNOWN', `${source}: detector '${detectorId}' is not registered (known: ${registry.all().map((known) => known.id).join(', ')})`, { source, detectorId })
      if (document.detectors[detectorId] === undefined) throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: detector '${detectorId}' has overrides but no default rule in "detectors"`, { source, detectorId })
      validators.set(detectorId, ajv.compile(detector.params))
    }

    // Stable sort: file order within one rank.
    const ranked = overrides.map((override, index) => ({ override, index })).sort((a, b) => specificity(a.override.match) - specificity(b.override.match))
    const resolve = (jurisdiction: string | null, tier: string | null): Rules => {
      const applying = ranked.filter(({ override: { match } }) =>
        (match.jurisdiction === undefined || match.jurisdiction === jurisdiction) && (match.tier === undefined || match.tier === tier))
      const rules = new Map<string, ResolvedRule>()
      for (const [detectorId, defaults] of Object.entries(document.detectors)) {
        let merged: DetectorRule = defaults
        const appliedBy: string[] = []
        for (const { override, index } of applying) {
          const change = override.detectors[detectorId]
          if (change === undefined) continue
          merged = { ...merged, ...change, params: { ...merged.params, ...(change.params ?? {}) } }
          appliedBy.push(`overrides[${index}] (${describeMatch(override.match)})`)
        }
        // A copy: ajv fills in the params schema's defaults.
        const params = structuredClone(merged.params) as Record<string, unknown>
        const validate = validators.get(detectorId) as ValidateFunction
        if (!validate(params)) {
          const where = `jurisdiction ${jurisdiction ?? '(any other)'}, tier ${tier ?? '(any other)'}`
          const after = appliedBy.length === 0 ? 'the default rule' : `the default rule after ${appliedBy.join(', ')}`
          throw new RiskError(
            'RISK_ERR_RULE_SET_INVALID',
            `${source}: ${detectorId} params for ${where} (${after}) are invalid: ${ajv.errorsText(validate.errors, { dataVar: 'params' })}`,
            { source, detectorId, jurisdiction: jurisdiction ?? null, tier: tier ?? null },
          )
        }
        rules.set(detectorId, Object.freeze({ enabled: merged.enabled, severity: merged.severity, action: merged.action, params: deepFreeze(params), detectorId }))
      }
      return rules
    }

    const resolvePolicy = (jurisdiction: string | null, tier: string | null): DecisionPolicy => {
      // The default hard stops apply to the detectors a registry has; ones a rule set names must exist.
      const defaults = { ...DEFAULT_DECISION_POLICY, hardStops: DEFAULT_DECISION_POLICY.hardStops.filter((detectorId) => registry.get(detectorId) !== undefined) }
      let policy = applyPolicyChange(defaults, document.decision)
      for (const { override } of ranked) {
        const { match } = override
        if ((match.jurisdiction === undefined || match.jurisdiction === jurisdiction) && (match.tier === undefined || match.tier === tier)) policy = applyPolicyChange(policy, override.decision)
      }
      const where = `jurisdiction ${jurisdiction ?? '(any other)'}, tier ${tier ?? '(any other)'}`
      if (policy.reviewAt > policy.declineAt) throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: decision policy for ${where}: reviewAt ${policy.reviewAt} is above declineAt ${policy.declineAt}`, { source })
      for (const detectorId of policy.hardStops) {
        if (registry.get(detectorId) === undefined) throw new RiskError('RISK_ERR_DETECTOR_UNKNOWN', `${source}: decision policy for ${where} names hard stop '${detectorId}', which is not a registered detector`, { source, detectorId })
      }
      return deepFreeze(structuredClone(policy))
    }

    const jurisdictions = [...new Set(overrides.flatMap((override) => (override.match.jurisdiction === undefined ? [] : [override.match.jurisdiction])))]
    const tiers = [...new Set(overrides.flatMap((override) => (override.match.tier === undefined ? [] : [override.match.tier])))]
    const row = (jurisdiction: string | null): JurisdictionRow => ({
      byTier: new Map(tiers.map((tier) => [tier, resolve(jurisdiction, tier)])),
      otherTier: resolve(jurisdiction, null),
      policyByTier: new Map(tiers.map((tier) => [tier, resolvePolicy(jurisdiction, tier)])),
      otherTierPolicy: resolvePolicy(jurisdiction, null),
    })
    return new RuleSet(document, contentHash, new Map(jurisdictions.map((jurisdiction) => [jurisdiction, row(jurisdiction)])), row(null))
  }

  static load(filePath: string, registry: DetectorRegistry): RuleSet {
    let raw: unknown
    try {
      raw = JSON.parse(fs.readFileSync(filePath, 'utf8'))
    } catch (error) {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `cannot read rule set ${filePath}: ${(error as Error).message}`, { source: filePath }, { cause: error })
    }
    return RuleSet.parse(raw, registry, filePath)
  }

  /**
   * The rules in force for a player of this jurisdiction and tier, by detector id. Every
   * combination was resolved and validated by `parse`, so this is a lookup that cannot fail
   * (the third parameter is kept for callers of the earlier signature and is not used).
   */
  rulesFor(jurisdiction: string, tier: string, _source?: string): ReadonlyMap<string, ResolvedRule> {
    const row = this.rows.get(jurisdiction) ?? this.otherRow
    return row.byTier.get(tier) ?? row.otherTier
  }

  /** The decision policy in force for a player of this jurisdiction and tier (resolved at parse, like the rules). */
  policyFor(jurisdiction: string, tier: string): DecisionPolicy {
    const row = this.rows.get(jurisdiction) ?? this.otherRow
    return row.policyByTier.get(tier) ?? row.otherTierPolicy
  }
}

/**
 * The rule set in force, swappable while events flow. A partition task reads `current` once
 * per batch, so one batch never mixes two versions.
 *
 * It remembers the content hash of every version it has held: activating a version it already
 * knows with other content throws RISK_ERR_RULE_SET_INVALID (the version would no longer say
 * what produced a decision); activating the active version with the same content again is a
 * no-op that returns the active rule set.
 *
 * Example:
 *   const holder = new RuleSetHolder(RuleSet.load(path, registry))
 *   const previous = holder.activate(RuleSet.load(path, registry))   // after the file changed
 */
export class RuleSetHolder {
  private readonly hashes = new Map<string, string>()

  constructor(private active: RuleSet) {
    this.hashes.set(active.version, active.contentHash)
  }

  get current(): RuleSet {
    return this.active
  }

  /** Makes `next` the rule set in force and returns the one it replaces. */
  activate(next: RuleSet): RuleSet {
    const known = this.hashes.get(next.version)
    if (known !== undefined && known !== next.contentHash) {
      throw new RiskError(
        'RISK_ERR_RULE_SET_INVALID',
        `rule set version '${next.version}' was already loaded with other content (${known}, now ${next.contentHash}); a changed rule set needs a new version`,
        { version: next.version },
      )
    }
    const previous = this.active
    if (known !== undefined && next.version === previous.version) return previous
    this.hashes.set(next.version, next.contentHash)
    this.active = next
    return previous
  }
}
