/**
 * Where the rule sets live for the rules admins' routes (issue 8): the folder of every version
 * ever proposed (`<homeDir>/rule-sets/<version>.json`) and the active file the engines watch
 * (PITBOSS_RULE_SET, docs/rule-sets.md).
 *
 * - A version names one content for ever: a version file is created with `link(2)` from a
 *   synced temp file, which fails if the name exists, so two proposals racing for one version
 *   cannot both win and nothing is ever overwritten. Proposing an existing version again with the
 *   same content is a no-op; with other content it is refused (409), as the engine would refuse
 *   it later (RuleSetHolder).
 * - Activating copies a version's bytes over the active file atomically (temp in the same
 *   folder, fsync, rename, fsync of the folder): the engine, polling the file, reads the old
 *   rule set or the new one, never half of one.
 * - Every document is validated with `RuleSet.parse` against the detector registry, on propose
 *   and again on activate (a detector may have been removed since the proposal).
 *
 * Example:
 *   const ruleSets = openRuleSetFiles({ versionsDir: `${homeDir}/rule-sets`, activePath: config.rules.ruleSetPath,
 *     registry: new DetectorRegistry(), clock: systemClock })
 *   await ruleSets.propose(document, 'bob')                  // { created: true, summary: { version, contentHash: 'sha256:…', … } }
 *   await ruleSets.activate('2026-12-01.1', 'carol')          // { changed: true, before: {…}, after: {…} }
 *   await ruleSets.diff('2026-11-26.3', '2026-12-01.1')       // { detectors: [{ detectorId, change, fields }], overrides, decision }
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Clock } from '../core/clock.js'
import { isRiskError, RiskError } from '../core/errors.js'
import type { DetectorRegistry } from '../detectors/index.js'
import {
  DEFAULT_DECISION_POLICY, RuleSet, ruleSetContentHash,
  type DecisionPolicyChange, type DetectorRule, type RuleSetDocument, type RuleSetOverride,
} from '../detectors/rule-set.js'

/** What the listing shows of one stored version. */
export interface RuleSetVersionSummary {
  readonly version: string
  readonly contentHash: string
  /** Who made it: the document's `author`, or the proposer when the document named none. */
  readonly author: string | null
  readonly createdAtMs: number | null
  readonly previousVersion: string | null
  readonly description: string | null
}

/** The rule set in the active file, as read from it. */
export interface ActiveRuleSet {
  readonly version: string
  readonly contentHash: string
  /** Whether this version is in the versions folder (false for a file put there by hand, e.g. the shipped default). */
  readonly stored: boolean
}

export interface RuleSetListing {
  /** null when the active file does not exist or is not a readable rule set. */
  readonly active: ActiveRuleSet | null
  /** Oldest first (createdAtMs, then version). */
  readonly versions: readonly RuleSetVersionSummary[]
}

export interface ProposeResult {
  /** false when the same version with the same content was already stored (nothing written). */
  readonly created: boolean
  readonly summary: RuleSetVersionSummary
  readonly document: RuleSetDocument
}

export interface ActivateResult {
  /** false when the active file already held this version (nothing written). */
  readonly changed: boolean
  readonly before: ActiveRuleSet | null
  readonly after: ActiveRuleSet
}

/** One field of a rule or policy that differs; `null` stands for "absent". */
export interface FieldChange {
  /** `enabled`, `severity`, `action`, `params.maxCount`; for a policy `reviewAt`, `severityWeights.high`, `coolingOff.holdMs`. */
  readonly field: string
  readonly from: unknown
  readonly to: unknown
}

export interface DetectorRuleChange {
  readonly detectorId: string
  readonly change: 'added' | 'removed' | 'changed'
  readonly fields: readonly FieldChange[]
}

export interface OverrideChange {
  readonly match: RuleSetOverride['match']
  /** Which of the overrides with this same `match` (0 = the first in the file). */
  readonly occurrence: number
  readonly change: 'added' | 'removed' | 'changed'
  readonly detectors: readonly DetectorRuleChange[]
  /** The override's own `decision` section, field by field. */
  readonly decision: readonly FieldChange[]
}

/**
 * What changed between two versions. `decision` compares the effective base policy (the
 * document's `decision` over DEFAULT_DECISION_POLICY), so a field made explicit at its default
 * value is no change; an override's `decision` is compared as written.
 */
export interface RuleSetDiff {
  readonly from: RuleSetVersionSummary
  readonly to: RuleSetVersionSummary
  /** Same content hash: nothing that decides differs. */
  readonly identical: boolean
  readonly detectors: readonly DetectorRuleChange[]
  readonly overrides: readonly OverrideChange[]
  readonly decision: readonly FieldChange[]
}

/**
 * The rule sets the rules admins' routes work on. Errors: an unknown version is
 * RISK_ERR_NOT_FOUND (404), an invalid
 * document RISK_ERR_RULE_SET_INVALID / RISK_ERR_DETECTOR_UNKNOWN (422), a version that already
 * names other content RISK_ERR_RULE_SET_CONFLICT (409).
 */
export interface RuleSetFiles {
  /** The file the engines watch (PITBOSS_RULE_SET). */
  readonly activePath: string
  /** One `<version>.json` per proposed version. */
  readonly versionsDir: string
  list(): Promise<RuleSetListing>
  /** The stored document of `version`. */
  read(version: string): Promise<RuleSetDocument>
  /**
   * Validates and stores a new version. Fills in `contentHash`, and when absent `author` (the
   * proposer), `createdAtMs` (now) and `previousVersion` (the active version).
   */
  propose(document: unknown, proposer: string): Promise<ProposeResult>
  /** Copies a stored version over the active file, atomically. */
  activate(version: string, actor: string): Promise<ActivateResult>
  diff(fromVersion: string, toVersion: string): Promise<RuleSetDiff>
}

export interface RuleSetFilesOptions {
  readonly versionsDir: string
  readonly activePath: string
  readonly registry: DetectorRegistry
  readonly clock: Clock
}

/** The rule-set version pattern (detectors/rule-set.ts), checked before a version becomes a file name. */
export const RULE_SET_VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$'
const VERSION = new RegExp(RULE_SET_VERSION_PATTERN)
/** `GET /rule-sets/diff` would shadow a version of that name. */
const RESERVED_VERSIONS: readonly string[] = ['diff']

const notFound = (version: string, directory: string): RiskError =>
  new RiskError('RISK_ERR_NOT_FOUND', `no rule set version '${version}' in ${directory}; GET /rule-sets lists the stored versions`, { version })

/**
 * RuleSet.parse, with a detector the registry lacks reported as RISK_ERR_RULE_SET_INVALID: the
 * API maps that code to 422, while RISK_ERR_DETECTOR_UNKNOWN has no HTTP status yet
 * (api/http-errors.ts) and would read as a server fault.
 */
function parseRuleSet(raw: unknown, registry: DetectorRegistry, source: string): RuleSet {
  try {
    return RuleSet.parse(raw, registry, source)
  } catch (error) {
    if (isRiskError(error, 'RISK_ERR_DETECTOR_UNKNOWN')) throw new RiskError('RISK_ERR_RULE_SET_INVALID', error.message.replace(/^RISK_ERR_DETECTOR_UNKNOWN: /, ''), error.context, { cause: error })
    throw error
  }
}

function summaryOf(document: RuleSetDocument, contentHash: string): RuleSetVersionSummary {
  return {
    version: document.version,
    contentHash,
    author: document.author ?? null,
    createdAtMs: document.createdAtMs ?? null,
    previousVersion: document.previousVersion ?? null,
    description: document.description ?? null,
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

/** fsync of a folder, so a rename or link in it survives a crash. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.promises.open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes `text` to a new temp file beside `target` and syncs it; returns the temp path. */
async function writeSyncedTemp(target: string, text: string): Promise<string> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomUUID()}.tmp`)
  const handle = await fs.promises.open(temp, 'wx', 0o644)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  return temp
}

class FileRuleSetStore implements RuleSetFiles {
  readonly activePath: string
  readonly versionsDir: string
  /** Activations in this process one at a time, so `before` is the file each one replaced. */
  private activations: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: RuleSetFilesOptions) {
    this.activePath = path.resolve(options.activePath)
    this.versionsDir = path.resolve(options.versionsDir)
    fs.mkdirSync(this.versionsDir, { recursive: true })
  }

  async list(): Promise<RuleSetListing> {
    const names = (await fs.promises.readdir(this.versionsDir)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort()
    const versions: RuleSetVersionSummary[] = []
    for (const name of names) {
      const stored = await this.readStored(name.slice(0, -'.json'.length)).catch(() => null)
      // A file someone put there by hand that does not parse is left out, not fatal to the listing.
      if (stored !== null) versions.push(summaryOf(stored, ruleSetContentHash(stored)))
    }
    versions.sort((left, right) => (left.createdAtMs ?? 0) - (right.createdAtMs ?? 0) || (left.version < right.version ? -1 : left.version > right.version ? 1 : 0))
    return { active: await this.readActive(new Set(versions.map((summary) => summary.version))), versions }
  }

  async read(version: string): Promise<RuleSetDocument> {
    return this.readStored(version)
  }

  async propose(raw: unknown, proposer: string): Promise<ProposeResult> {
    // Validate what was sent first: errors then name the caller's document, not our additions.
    const sent = parseRuleSet(raw, this.options.registry, 'proposed rule set')
    if (RESERVED_VERSIONS.includes(sent.version)) throw new RiskError('RISK_ERR_RULE_SET_INVALID', `rule set version '${sent.version}' is reserved (it is a route name); choose another version`, { version: sent.version })
    const active = await this.readActive(new Set())
    if (active !== null && active.version === sent.version && active.contentHash !== sent.contentHash) {
      throw new RiskError('RISK_ERR_RULE_SET_CONFLICT', `rule set version '${sent.version}' is the active one with other content (${active.contentHash}); a changed rule set needs a new version`, { version: sent.version })
    }
    const completed: RuleSetDocument = {
      ...sent.document,
      author: sent.document.author ?? proposer,
      createdAtMs: sent.document.createdAtMs ?? this.options.clock.nowMs(),
      ...(sent.document.previousVersion === undefined && active !== null && active.version !== sent.version ? { previousVersion: active.version } : {}),
      contentHash: sent.contentHash,
    }
    const document = parseRuleSet(completed, this.options.registry, 'proposed rule set').document
    const target = this.versionPath(document.version)
    const temp = await writeSyncedTemp(target, `${JSON.stringify(document, null, 2)}\n`)
    try {
      await fs.promises.link(temp, target)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const existing = await this.readStored(document.version)
      const existingHash = ruleSetContentHash(existing)
      if (existingHash !== sent.contentHash) {
        throw new RiskError('RISK_ERR_RULE_SET_CONFLICT', `rule set version '${document.version}' already exists with other content (${existingHash}); a changed rule set needs a new version`, { version: document.version })
      }
      return { created: false, summary: summaryOf(existing, existingHash), document: existing }
    } finally {
      await fs.promises.rm(temp, { force: true })
    }
    await syncDirectory(this.versionsDir)
    return { created: true, summary: summaryOf(document, sent.contentHash), document }
  }

  activate(version: string, actor: string): Promise<ActivateResult> {
    const work = async (): Promise<ActivateResult> => {
      const text = await this.readStoredText(version)
      // Checked again: the registry may have lost a detector since the proposal.
      const next = parseRuleSet(await this.readStored(version), this.options.registry, `rule set version '${version}'`)
      const before = await this.readActive(new Set([version]))
      const after: ActiveRuleSet = { version: next.version, contentHash: next.contentHash, stored: true }
      if (before !== null && before.version === next.version) {
        if (before.contentHash === next.contentHash) return { changed: false, before, after: before }
        throw new RiskError('RISK_ERR_RULE_SET_CONFLICT', `the active file ${this.activePath} holds version '${version}' with other content (${before.contentHash}); the engine would refuse the stored one, so fix the active file by activating another version`, { version, actor })
      }
      await fs.promises.mkdir(path.dirname(this.activePath), { recursive: true })
      const temp = await writeSyncedTemp(this.activePath, text)
      try {
        await fs.promises.rename(temp, this.activePath)
      } catch (error) {
        await fs.promises.rm(temp, { force: true })
        throw error
      }
      await syncDirectory(path.dirname(this.activePath))
      return { changed: true, before, after }
    }
    const result = this.activations.then(work, work)
    this.activations = result.catch(() => undefined)
    return result
  }

  async diff(fromVersion: string, toVersion: string): Promise<RuleSetDiff> {
    const [from, to] = await Promise.all([this.readStored(fromVersion), this.readStored(toVersion)])
    return diffRuleSets(from, to)
  }

  private versionPath(version: string): string {
    if (!VERSION.test(version)) throw notFound(version, this.versionsDir)
    return path.join(this.versionsDir, `${version}.json`)
  }

  private async readStoredText(version: string): Promise<string> {
    try {
      return await fs.promises.readFile(this.versionPath(version), 'utf8')
    } catch (error) {
      if (isMissing(error)) throw notFound(version, this.versionsDir)
      throw error
    }
  }

  private async readStored(version: string): Promise<RuleSetDocument> {
    const text = await this.readStoredText(version)
    let document: RuleSetDocument
    try {
      document = JSON.parse(text) as RuleSetDocument
    } catch (error) {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `stored rule set ${this.versionPath(version)} is not JSON: ${(error as Error).message}`, { version }, { cause: error })
    }
    if (typeof document !== 'object' || document === null || document.version !== version || typeof document.detectors !== 'object') {
      throw new RiskError('RISK_ERR_RULE_SET_INVALID', `stored rule set ${this.versionPath(version)} does not hold version '${version}'; restore it from a backup`, { version })
    }
    return document
  }

  /** The active file's version and content hash, read leniently (it may predate this store). */
  private async readActive(storedVersions: ReadonlySet<string>): Promise<ActiveRuleSet | null> {
    let document: Partial<RuleSetDocument>
    try {
      document = JSON.parse(await fs.promises.readFile(this.activePath, 'utf8')) as Partial<RuleSetDocument>
    } catch {
      return null
    }
    if (typeof document?.version !== 'string' || typeof document.detectors !== 'object' || document.detectors === null) return null
    const stored = storedVersions.has(document.version) || (VERSION.test(document.version) && fs.existsSync(path.join(this.versionsDir, `${document.version}.json`)))
    return { version: document.version, contentHash: ruleSetContentHash(document as RuleSetDocument), stored }
  }
}

/** Opens (creating the versions folder) the file-backed rule-set store. */
export function openRuleSetFiles(options: RuleSetFilesOptions): RuleSetFiles {
  return new FileRuleSetStore(options)
}

const sameValue = (left: unknown, right: unknown): boolean => JSON.stringify(canonical(left)) === JSON.stringify(canonical(right))

/** Keys sorted at every depth, so `{a,b}` and `{b,a}` compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as Record<string, unknown>).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
  }
  return value
}

/** Top-level fields of two flat-ish records; nested objects under `nested` are compared key by key. */
function fieldChanges(from: Readonly<Record<string, unknown>> | undefined, to: Readonly<Record<string, unknown>> | undefined, nested: readonly string[]): FieldChange[] {
  const left = from ?? {}
  const right = to ?? {}
  const changes: FieldChange[] = []
  for (const key of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
    const before = left[key]
    const after = right[key]
    if (nested.includes(key) && (before === undefined || typeof before === 'object') && (after === undefined || typeof after === 'object') && !Array.isArray(before) && !Array.isArray(after)) {
      for (const change of fieldChanges(before as Record<string, unknown> | undefined, after as Record<string, unknown> | undefined, [])) changes.push({ ...change, field: `${key}.${change.field}` })
    } else if (!sameValue(before, after)) {
      changes.push({ field: key, from: before ?? null, to: after ?? null })
    }
  }
  return changes
}

function ruleChanges(from: Readonly<Record<string, Partial<DetectorRule>>>, to: Readonly<Record<string, Partial<DetectorRule>>>): DetectorRuleChange[] {
  const changes: DetectorRuleChange[] = []
  for (const detectorId of [...new Set([...Object.keys(from), ...Object.keys(to)])].sort()) {
    const fields = fieldChanges(from[detectorId], to[detectorId], ['params'])
    if (fields.length === 0) continue
    changes.push({ detectorId, change: from[detectorId] === undefined ? 'added' : to[detectorId] === undefined ? 'removed' : 'changed', fields })
  }
  return changes
}

const POLICY_NESTED = ['severityWeights', 'coolingOff'] as const

const matchKey = (match: RuleSetOverride['match']): string => `jurisdiction=${match.jurisdiction ?? '*'},tier=${match.tier ?? '*'}`

/** Overrides keyed by their match and how many overrides with the same match came before. */
function keyedOverrides(overrides: readonly RuleSetOverride[]): Map<string, { override: RuleSetOverride; occurrence: number }> {
  const seen = new Map<string, number>()
  const keyed = new Map<string, { override: RuleSetOverride; occurrence: number }>()
  for (const override of overrides) {
    const base = matchKey(override.match)
    const occurrence = seen.get(base) ?? 0
    seen.set(base, occurrence + 1)
    keyed.set(`${base}#${occurrence}`, { override, occurrence })
  }
  return keyed
}

const effectivePolicy = (change: DecisionPolicyChange | undefined): Record<string, unknown> => ({
  ...DEFAULT_DECISION_POLICY,
  ...(change ?? {}),
  severityWeights: { ...DEFAULT_DECISION_POLICY.severityWeights, ...(change?.severityWeights ?? {}) },
  coolingOff: { ...DEFAULT_DECISION_POLICY.coolingOff, ...(change?.coolingOff ?? {}) },
})

/**
 * A structured diff of two rule-set documents: per detector (default rules), per override
 * (matched by `match` and occurrence) and for the decision policy.
 *
 * Example: diffRuleSets(v1, v2).detectors
 *   -> [{ detectorId: 'withdrawal_velocity', change: 'changed', fields: [{ field: 'params.maxCount', from: 3, to: 2 }] }]
 */
export function diffRuleSets(from: RuleSetDocument, to: RuleSetDocument): RuleSetDiff {
  const fromHash = ruleSetContentHash(from)
  const toHash = ruleSetContentHash(to)
  const fromOverrides = keyedOverrides(from.overrides ?? [])
  const toOverrides = keyedOverrides(to.overrides ?? [])
  const overrides: OverrideChange[] = []
  for (const key of [...new Set([...fromOverrides.keys(), ...toOverrides.keys()])]) {
    const before = fromOverrides.get(key)
    const after = toOverrides.get(key)
    const detectors = ruleChanges(before?.override.detectors ?? {}, after?.override.detectors ?? {})
    const decision = fieldChanges(before?.override.decision as Record<string, unknown> | undefined, after?.override.decision as Record<string, unknown> | undefined, POLICY_NESTED)
    if (before !== undefined && after !== undefined && detectors.length === 0 && decision.length === 0) continue
    const present = (after ?? before) as { override: RuleSetOverride; occurrence: number }
    overrides.push({ match: present.override.match, occurrence: present.occurrence, change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed', detectors, decision })
  }
  return {
    from: summaryOf(from, fromHash),
    to: summaryOf(to, toHash),
    identical: fromHash === toHash,
    detectors: ruleChanges(from.detectors, to.detectors),
    overrides,
    decision: fieldChanges(effectivePolicy(from.decision), effectivePolicy(to.decision), POLICY_NESTED),
  }
}
