/**
 * Rule sets: detector parameters, severities and actions as versioned data, with overrides per
 * jurisdiction and per player tier. A rule set is JSON, validated when loaded (its own shape
 * and each detector's params against that detector's JSON schema); every decision and signal
 * records the version it used.
 *
 * Resolution for a player: `detectors` (the defaults), then each override whose `match` fits,
 * in file order — jurisdiction-only overrides first, tier-only next, both last is the
 * convention the shipped rule sets follow. An override replaces enabled/severity/action and
 * merges params key by key.
 *
 * Example:
 *   { "version": "2026-11-26.1",
 *     "detectors": { "withdrawal_velocity": { "enabled": true, "severity": "medium",
 *        "action": "hold_for_review", "params": { "maxCount": 3, "windowMs": 86400000 } } },
 *     "overrides": [ { "match": { "jurisdiction": "UK" },
 *        "detectors": { "withdrawal_velocity": { "params": { "maxCount": 2 } } } } ] }
 */
import fs from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { RiskError } from '../core/errors.js'
import type { DetectorRegistry } from './index.js'

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

/** What a hit asks the payout flow to do. Outcome mapping is in pipelines/decide.ts. */
export const ACTIONS = ['block_payout', 'hold_for_review', 'continue_with_lower_limits', 'step_up_kyc', 'step_up_mfa', 'rg_intervention', 'alert_only'] as const
export type Action = (typeof ACTIONS)[number]

export interface DetectorRule {
  readonly enabled: boolean
  readonly severity: Severity
  readonly action: Action
  readonly params: Readonly<Record<string, unknown>>
}

export interface RuleSetDocument {
  readonly version: string
  readonly description?: string
  readonly detectors: Readonly<Record<string, DetectorRule>>
  readonly overrides?: ReadonlyArray<{
    readonly match: { readonly jurisdiction?: string; readonly tier?: string }
    readonly detectors: Readonly<Record<string, Partial<DetectorRule>>>
  }>
}

const ruleFields = {
  enabled: { type: 'boolean' },
  severity: { enum: SEVERITIES },
  action: { enum: ACTIONS },
  params: { type: 'object' },
} as const

const documentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'detectors'],
  properties: {
    version: { type: 'string', minLength: 1, maxLength: 64 },
    description: { type: 'string' },
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
          match: { type: 'object', additionalProperties: false, minProperties: 1, properties: { jurisdiction: { type: 'string' }, tier: { type: 'string' } } },
          detectors: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, properties: ruleFields } },
        },
      },
    },
  },
} as const

/** A rule set resolved for one detector and one (jurisdiction, tier). */
export interface ResolvedRule extends DetectorRule {
  readonly detectorId: string
}

export class RuleSet {
  readonly version: string
  private readonly cache = new Map<string, ReadonlyMap<string, ResolvedRule>>()

  private constructor(
    readonly document: RuleSetDocument,
    private readonly validators: ReadonlyMap<string, ValidateFunction>,
  ) {
    this.version = document.version
  }

  /**
   * Validates a rule set against its schema and the registered detectors. Every (default +
   * override) combination that the document can produce is validated here, so a bad override
   * fails at load and not on the first VIP player in Malta.
   */
  static parse(raw: unknown, registry: DetectorRegistry, source = 'rule set'): RuleSet {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })
    const validateDocument = ajv.compile(documentSchema)
    if (!validateDocument(raw)) {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: ${ajv.errorsText(validateDocument.errors)}`, { source })
    }
    const document = raw as unknown as RuleSetDocument
    const validators = new Map<string, ValidateFunction>()
    const mentioned = new Set([...Object.keys(document.detectors), ...(document.overrides ?? []).flatMap((override) => Object.keys(override.detectors))])
    for (const detectorId of mentioned) {
      const detector = registry.get(detectorId)
      if (detector === undefined) throw new RiskError('RISK_ERR_DETECTOR_UNKNOWN', `${source}: detector '${detectorId}' is not registered`, { source, detectorId })
      if (document.detectors[detectorId] === undefined) throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: detector '${detectorId}' has overrides but no default rule`, { source, detectorId })
      validators.set(detectorId, ajv.compile(detector.params))
    }
    const ruleSet = new RuleSet(document, validators)
    const matches = [{}, ...(document.overrides ?? []).map((override) => override.match)]
    for (const match of matches) {
      for (const other of matches) ruleSet.rulesFor({ ...match, ...other }.jurisdiction ?? '*', { ...match, ...other }.tier ?? '*', source)
    }
    return ruleSet
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

  /** The rules in force for a player of this jurisdiction and tier, by detector id. */
  rulesFor(jurisdiction: string, tier: string, source = 'rule set'): ReadonlyMap<string, ResolvedRule> {
    const cacheKey = `${jurisdiction}\u0000${tier}`
    const cached = this.cache.get(cacheKey)
    if (cached !== undefined) return cached
    const rules = new Map<string, ResolvedRule>()
    for (const [detectorId, rule] of Object.entries(this.document.detectors)) {
      let merged: DetectorRule = rule
      for (const override of this.document.overrides ?? []) {
        const fits = (override.match.jurisdiction === undefined || override.match.jurisdiction === jurisdiction) && (override.match.tier === undefined || override.match.tier === tier)
        const change = override.detectors[detectorId]
        if (!fits || change === undefined) continue
        merged = { ...merged, ...change, params: { ...merged.params, ...(change.params ?? {}) } }
      }
      const params = structuredClone(merged.params) as Record<string, unknown>
      const validate = this.validators.get(detectorId) as ValidateFunction
      if (!validate(params)) {
        throw new RiskError('RISK_ERR_RULE_SET_INVALID', `${source}: ${detectorId} params for jurisdiction ${jurisdiction}, tier ${tier}: ${new Ajv().errorsText(validate.errors, { dataVar: 'params' })}`, { source, detectorId })
      }
      rules.set(detectorId, Object.freeze({ ...merged, params: Object.freeze(params), detectorId }))
    }
    this.cache.set(cacheKey, rules)
    return rules
  }
}

/**
 * The rule set in force, swappable while events flow. A partition task reads `current` once
 * per batch, so one batch never mixes two versions.
 */
export class RuleSetHolder {
  constructor(private active: RuleSet) {}
  get current(): RuleSet {
    return this.active
  }
  activate(next: RuleSet): RuleSet {
    const previous = this.active
    this.active = next
    return previous
  }
}
