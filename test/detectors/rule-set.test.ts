import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isRiskError, type ErrorCode } from '../../core/errors.js'
import { defineDetector } from '../../detectors/detector.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet, RuleSetHolder, ruleSetContentHash, type RuleSetDocument } from '../../detectors/rule-set.js'
import { DEFAULT_RULE_SET_PATH } from '../support/pipeline.js'

const DAY_MS = 86_400_000

/** A detector whose params `a` and `b` exclude each other: each override alone is valid, both together are not. */
const pairRule = defineDetector({
  id: 'pair_rule',
  version: 1,
  description: 'test-only: params a and b are mutually exclusive',
  accepts: ['deposit'] as const,
  params: { type: 'object', additionalProperties: false, properties: { a: { type: 'integer' }, b: { type: 'integer' } }, not: { required: ['a', 'b'] } },
  init: () => ({}),
  step: (state) => ({ state, observation: null }),
})

/** A test-only count rule: its schema is this file's, so the test does not follow a shipped detector's params. */
const countRule = defineDetector({
  id: 'count_rule',
  version: 1,
  description: 'test-only: a count limit in a window',
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxCount', 'windowMs'],
    properties: {
      maxCount: { type: 'integer', minimum: 0 },
      maxAmountMinor: { type: ['integer', 'null'], minimum: 0, default: null },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
    },
  },
  init: () => ({}),
  step: (state) => ({ state, observation: null }),
})

const registry = new DetectorRegistry([countRule, pairRule])

const countRuleDefaults = (params: Record<string, unknown> = {}) => ({ enabled: true, severity: 'medium', action: 'hold_for_review', params: { maxCount: 3, windowMs: DAY_MS, ...params } })

function document(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 'v1', detectors: { count_rule: countRuleDefaults() }, ...fields }
}

/** The error `parse` throws for this document (fails the test if it does not throw). */
function parseError(raw: unknown, source = 'rules.json'): { code: ErrorCode; message: string; context: Record<string, unknown> } {
  try {
    RuleSet.parse(raw, registry, source)
  } catch (error) {
    if (!isRiskError(error)) throw error
    return { code: error.code, message: error.message, context: { ...error.context } }
  }
  throw new Error('expected RuleSet.parse to refuse the document')
}

const maxCountFor = (ruleSet: RuleSet, jurisdiction: string, tier: string, detectorId = 'count_rule'): unknown => ruleSet.rulesFor(jurisdiction, tier).get(detectorId)?.params.maxCount

describe('RuleSet.parse: the document schema', () => {
  it.each([
    ['no version', { detectors: {} }, /must have required property 'version'/],
    ['an empty version', document({ version: '' }), /version must NOT have fewer than 1 characters/],
    ['a version with spaces', document({ version: 'my version' }), /version must match pattern/],
    ['no detectors', { version: 'v1' }, /must have required property 'detectors'/],
    ['an unknown top-level field', document({ owner: 'x' }), /must NOT have additional properties/],
    ['an unknown severity', document({ detectors: { count_rule: { ...countRuleDefaults(), severity: 'severe' } } }), /severity must be equal to one of the allowed values/],
    ['an unknown action', document({ detectors: { count_rule: { ...countRuleDefaults(), action: 'freeze' } } }), /action must be equal to one of the allowed values/],
    ['a rule without params', document({ detectors: { count_rule: { enabled: true, severity: 'low', action: 'alert_only' } } }), /must have required property 'params'/],
    ['enabled as a string', document({ detectors: { count_rule: { ...countRuleDefaults(), enabled: 'yes' } } }), /enabled must be boolean/],
    ['an override matching nothing', document({ overrides: [{ match: {}, detectors: {} }] }), /match must NOT have fewer than 1 properties/],
    ['an override matching on country', document({ overrides: [{ match: { country: 'MT' }, detectors: {} }] }), /match must NOT have additional properties/],
    ['a tier that does not exist', document({ overrides: [{ match: { tier: 'vip' }, detectors: {} }] }), /tier must be equal to one of the allowed values/],
    ['a lower-case jurisdiction', document({ overrides: [{ match: { jurisdiction: 'uk' }, detectors: {} }] }), /jurisdiction must match pattern/],
    ['an unknown field in an override rule', document({ overrides: [{ match: { tier: 'VIP' }, detectors: { count_rule: { limit: 2 } } }] }), /must NOT have additional properties/],
    ['a negative createdAtMs', document({ createdAtMs: -1 }), /createdAtMs must be >= 0/],
    ['a fractional createdAtMs', document({ createdAtMs: 1.5 }), /createdAtMs must be integer/],
    ['an empty author', document({ author: '' }), /author must NOT have fewer than 1 characters/],
    ['a malformed contentHash', document({ contentHash: 'md5:abc' }), /contentHash must match pattern/],
  ])('refuses %s', (_name, raw, message) => {
    const error = parseError(raw)
    expect(error.code).toBe('RISK_ERR_RULE_SET_INVALID')
    expect(error.message).toMatch(/^RISK_ERR_RULE_SET_INVALID: rules\.json: /)
    expect(error.message).toMatch(message)
  })

  it('refuses a detector that is not registered, in the defaults or only in an override', () => {
    const inDefaults = parseError(document({ detectors: { count_rule: countRuleDefaults(), deposit_magic: countRuleDefaults() } }))
    expect(inDefaults).toMatchObject({ code: 'RISK_ERR_DETECTOR_UNKNOWN', context: { detectorId: 'deposit_magic' } })
    expect(inDefaults.message).toMatch(/detector 'deposit_magic' is not registered \(known: count_rule, pair_rule\)/)
    const inOverride = parseError(document({ overrides: [{ match: { jurisdiction: 'UK' }, detectors: { deposit_magic: { enabled: false } } }] }))
    expect(inOverride).toMatchObject({ code: 'RISK_ERR_DETECTOR_UNKNOWN', context: { detectorId: 'deposit_magic' } })
  })

  it('refuses an override for a registered detector that has no default rule', () => {
    const error = parseError(document({ overrides: [{ match: { tier: 'VIP' }, detectors: { pair_rule: { params: { a: 1 } } } }] }))
    expect(error).toMatchObject({ code: 'RISK_ERR_RULE_SET_INVALID', context: { detectorId: 'pair_rule' } })
    expect(error.message).toMatch(/'pair_rule' has overrides but no default rule/)
  })

  it('refuses bad default params, for any jurisdiction and tier', () => {
    const error = parseError(document({ detectors: { count_rule: countRuleDefaults({ maxCount: 2.5 }) } }))
    expect(error.message).toMatch(/count_rule params for jurisdiction \(any other\), tier \(any other\) \(the default rule\) are invalid: params\/maxCount must be integer/)
  })

  it('names the jurisdiction, the tier and the overrides behind bad params in an override', () => {
    const byJurisdiction = parseError(document({ overrides: [{ match: { jurisdiction: 'UK' }, detectors: { count_rule: { params: { maxCount: -1 } } } }] }))
    expect(byJurisdiction.message).toMatch(/params for jurisdiction UK, tier \(any other\) \(the default rule after overrides\[0\] \(jurisdiction UK\)\) are invalid: params\/maxCount must be >= 0/)
    expect(byJurisdiction.context).toMatchObject({ detectorId: 'count_rule', jurisdiction: 'UK', tier: null })

    const byTier = parseError(document({ overrides: [{ match: { jurisdiction: 'MT' }, detectors: {} }, { match: { tier: 'VIP' }, detectors: { count_rule: { params: { windowMs: 0 } } } }] }))
    expect(byTier.message).toMatch(/params for jurisdiction MT, tier VIP \(the default rule after overrides\[1\] \(tier VIP\)\)/)

    const unknownParam = parseError(document({ overrides: [{ match: { jurisdiction: 'CW', tier: 'NEW' }, detectors: { count_rule: { params: { maxCnt: 1 } } } }] }))
    expect(unknownParam.message).toMatch(/jurisdiction CW, tier NEW .* params must NOT have additional properties/)
  })

  it('refuses a combination that only breaks when a jurisdiction and a tier override meet', () => {
    const pair = { enabled: true, severity: 'low', action: 'alert_only', params: {} }
    const overrides = [{ match: { jurisdiction: 'UK' }, detectors: { pair_rule: { params: { a: 1 } } } }, { match: { tier: 'VIP' }, detectors: { pair_rule: { params: { b: 1 } } } }]
    const error = parseError(document({ detectors: { count_rule: countRuleDefaults(), pair_rule: pair }, overrides }))
    expect(error.message).toMatch(/pair_rule params for jurisdiction UK, tier VIP \(the default rule after overrides\[0\] \(jurisdiction UK\), overrides\[1\] \(tier VIP\)\) are invalid/)
    // each alone is fine
    expect(() => RuleSet.parse(document({ detectors: { count_rule: countRuleDefaults(), pair_rule: pair }, overrides: [overrides[0]] }), registry)).not.toThrow()
    expect(() => RuleSet.parse(document({ detectors: { count_rule: countRuleDefaults(), pair_rule: pair }, overrides: [overrides[1]] }), registry)).not.toThrow()
  })
})

describe('RuleSet.rulesFor: resolution order', () => {
  // Deliberately listed most specific first: the order in the file does not decide, specificity does.
  const layered = document({
    overrides: [
      { match: { jurisdiction: 'UK', tier: 'VIP' }, detectors: { count_rule: { params: { maxCount: 9 } } } },
      { match: { tier: 'VIP' }, detectors: { count_rule: { severity: 'low', params: { maxCount: 6, maxAmountMinor: 1_000_000 } } } },
      { match: { jurisdiction: 'UK' }, detectors: { count_rule: { severity: 'high', action: 'block_payout', params: { maxCount: 2 } } } },
      { match: { tier: 'NEW' }, detectors: { count_rule: { enabled: false } } },
      { match: { tier: 'NEW' }, detectors: { count_rule: { enabled: true, params: { maxCount: 1 } } } },
    ],
  })
  const ruleSet = RuleSet.parse(layered, registry)

  it.each([
    ['MT', 'VERIFIED', 3, 'medium', 'defaults'],
    ['UK', 'VERIFIED', 2, 'high', 'defaults -> jurisdiction'],
    ['MT', 'VIP', 6, 'low', 'defaults -> tier'],
    ['UK', 'VIP', 9, 'low', 'defaults -> jurisdiction -> tier -> both'],
    ['UK', 'NEW', 1, 'high', 'jurisdiction, then the later of two tier overrides'],
  ])('%s %s -> maxCount %i, severity %s (%s)', (jurisdiction, tier, maxCount, severity) => {
    const rule = ruleSet.rulesFor(jurisdiction, tier).get('count_rule')
    expect(rule?.params.maxCount).toBe(maxCount)
    expect(rule?.severity).toBe(severity)
  })

  it('merges params key by key and replaces enabled/severity/action', () => {
    const rule = ruleSet.rulesFor('UK', 'VIP').get('count_rule')
    expect(rule).toEqual({
      detectorId: 'count_rule', enabled: true, severity: 'low', action: 'block_payout',
      params: { maxCount: 9, maxAmountMinor: 1_000_000, windowMs: DAY_MS },
    })
    expect(ruleSet.rulesFor('MT', 'NEW').get('count_rule')?.enabled).toBe(true)
    const disabled = RuleSet.parse(document({ overrides: [{ match: { tier: 'NEW' }, detectors: { count_rule: { enabled: false } } }] }), registry)
    expect(disabled.rulesFor('MT', 'NEW').get('count_rule')?.enabled).toBe(false)
  })

  it('fills params defaults from the detector schema, and a jurisdiction or tier no override names gets the defaults', () => {
    expect(ruleSet.rulesFor('CW', 'VERIFIED').get('count_rule')?.params).toEqual({ maxCount: 3, maxAmountMinor: null, windowMs: DAY_MS })
    expect(maxCountFor(ruleSet, 'UNKNOWN', 'SOMETHING')).toBe(3)
    expect(maxCountFor(ruleSet, 'UK', 'SOMETHING')).toBe(2)
  })

  it('neither mutates the input nor lets a caller mutate the rules', () => {
    const raw = structuredClone(layered)
    const parsed = RuleSet.parse(raw, registry)
    expect(raw).toEqual(layered)
    const rule = parsed.rulesFor('UK', 'VIP').get('count_rule')
    expect(Object.isFrozen(rule?.params)).toBe(true)
    expect(Object.isFrozen(parsed.document.detectors)).toBe(true)
  })
})

describe('rule-set versions and audit fields', () => {
  it('keeps the audit fields and refuses a previousVersion equal to the version', () => {
    const ruleSet = RuleSet.parse(document({ version: '2026-12-01.1', author: 'ana@compliance', createdAtMs: 1_796_083_200_000, previousVersion: '2026-11-26.1' }), registry)
    expect(ruleSet.document).toMatchObject({ author: 'ana@compliance', createdAtMs: 1_796_083_200_000, previousVersion: '2026-11-26.1' })
    expect(parseError(document({ version: 'v2', previousVersion: 'v2' })).message).toMatch(/previousVersion equals version 'v2'; a new rule set needs a new version/)
  })

  it('hashes the content only: version, description and audit fields and key order do not change it; rules and override order do', () => {
    const base = document({ overrides: [{ match: { jurisdiction: 'UK' }, detectors: {} }, { match: { tier: 'VIP' }, detectors: {} }] }) as unknown as RuleSetDocument
    const hash = ruleSetContentHash(base)
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(ruleSetContentHash({ ...base, version: 'v9', description: 'typo fixed', author: 'x', createdAtMs: 1 } as RuleSetDocument)).toBe(hash)
    const reordered = { overrides: base.overrides, detectors: { count_rule: { params: { windowMs: DAY_MS, maxCount: 3 }, action: 'hold_for_review', severity: 'medium', enabled: true } } } as unknown as RuleSetDocument
    expect(ruleSetContentHash(reordered)).toBe(hash)
    expect(ruleSetContentHash({ ...base, detectors: { count_rule: countRuleDefaults({ maxCount: 4 }) } } as unknown as RuleSetDocument)).not.toBe(hash)
    expect(ruleSetContentHash({ ...base, overrides: [...(base.overrides ?? [])].reverse() })).not.toBe(hash)
    expect(ruleSetContentHash({ detectors: base.detectors })).toBe(ruleSetContentHash({ detectors: base.detectors, overrides: [] }))
    expect(RuleSet.parse(base, registry).contentHash).toBe(hash)
  })

  it('accepts a recorded contentHash that matches and refuses content changed under the same recorded hash', () => {
    const original = document({ version: 'v1' })
    const contentHash = ruleSetContentHash(original as unknown as RuleSetDocument)
    expect(RuleSet.parse({ ...original, contentHash }, registry).contentHash).toBe(contentHash)
    const edited = { ...original, contentHash, detectors: { count_rule: countRuleDefaults({ maxCount: 1 }) } }
    const error = parseError(edited)
    expect(error).toMatchObject({ code: 'RISK_ERR_RULE_SET_INVALID', context: { version: 'v1' } })
    expect(error.message).toMatch(/version 'v1' records contentHash sha256:\w+ but its content hashes to sha256:\w+; the rules changed without a new version/)
  })
})

describe('RuleSetHolder', () => {
  const v1 = RuleSet.parse(document({ version: 'v1' }), registry)
  const v2 = RuleSet.parse(document({ version: 'v2', detectors: { count_rule: countRuleDefaults({ maxCount: 1 }) } }), registry)

  it('activates a new version and returns the one it replaces', () => {
    const holder = new RuleSetHolder(v1)
    expect(holder.activate(v2)).toBe(v1)
    expect(holder.current).toBe(v2)
    // rolling back to v1 with v1's content is allowed
    expect(holder.activate(RuleSet.parse(document({ version: 'v1' }), registry))).toBe(v2)
    expect(holder.current.version).toBe('v1')
  })

  it('treats the active version with the same content as a no-op', () => {
    const holder = new RuleSetHolder(v1)
    const again = RuleSet.parse(document({ version: 'v1', description: 'reloaded' }), registry)
    expect(holder.activate(again)).toBe(v1)
    expect(holder.current).toBe(v1)
  })

  it('refuses a version it has held with other content, and the active rule set stays', () => {
    const holder = new RuleSetHolder(v1)
    const changedV1 = RuleSet.parse(document({ version: 'v1', detectors: { count_rule: countRuleDefaults({ maxCount: 5 }) } }), registry)
    expect(() => holder.activate(changedV1)).toThrow(/RISK_ERR_RULE_SET_INVALID: rule set version 'v1' was already loaded with other content/)
    expect(holder.current).toBe(v1)
    holder.activate(v2)
    expect(() => holder.activate(changedV1)).toThrow(/already loaded with other content/)
    expect(holder.current).toBe(v2)
  })
})

describe('docs/rule-sets.md', () => {
  it('resolves its worked example as its table says', () => {
    const docs = fs.readFileSync(new URL('../../docs/rule-sets.md', import.meta.url), 'utf8')
    const example = /```json\n([\s\S]*?)```/.exec(docs)?.[1]
    const ruleSet = RuleSet.parse(JSON.parse(example ?? 'null'), new DetectorRegistry())
    const row = (jurisdiction: string, tier: string) => {
      const rule = ruleSet.rulesFor(jurisdiction, tier).get('withdrawal_velocity')
      return [rule?.params.maxCount, rule?.severity, rule?.action]
    }
    expect(row('MT', 'VERIFIED')).toEqual([3, 'medium', 'hold_for_review'])
    expect(row('UK', 'VERIFIED')).toEqual([2, 'high', 'hold_for_review'])
    expect(row('MT', 'VIP')).toEqual([6, 'low', 'hold_for_review'])
    expect(row('UK', 'VIP')).toEqual([4, 'low', 'hold_for_review'])
    expect(row('UK', 'NEW')).toEqual([2, 'high', 'block_payout'])
    expect(row('CW', 'VERIFIED')).toEqual([3, 'medium', 'hold_for_review'])
  })
})

describe('RuleSet.load', () => {
  const folders: string[] = []
  afterEach(() => {
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true })
  })
  const write = (text: string): string => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-rule-set-'))
    folders.push(folder)
    const file = path.join(folder, 'rules.json')
    fs.writeFileSync(file, text)
    return file
  }

  it('names the file when it is missing, not JSON, or invalid', () => {
    expect(() => RuleSet.load('/nonexistent/pitboss/rules.json', registry)).toThrow(/RISK_ERR_RULE_SET_INVALID: cannot read rule set \/nonexistent\/pitboss\/rules\.json/)
    const notJson = write('{ "version": "v1", ')
    expect(() => RuleSet.load(notJson, registry)).toThrow(new RegExp(`cannot read rule set ${notJson}`))
    const invalid = write(JSON.stringify(document({ detectors: { count_rule: countRuleDefaults({ maxCount: 'three' }) } })))
    expect(() => RuleSet.load(invalid, registry)).toThrow(new RegExp(`${invalid}: count_rule params`))
  })

  it('loads the shipped default rule set with every registered detector', () => {
    const shipped = RuleSet.load(DEFAULT_RULE_SET_PATH, new DetectorRegistry())
    expect(shipped.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/)
    expect(maxCountFor(shipped, 'MT', 'VERIFIED', 'withdrawal_velocity')).toBe(3)
    expect(maxCountFor(shipped, 'UK', 'VERIFIED', 'withdrawal_velocity')).toBe(2)
  })
})
