/**
 * The case policy: incident windows, SLA per priority, amount bands, the MLRO roles and the
 * checklists, as validated data with defaults. Everything here is a number or a list a
 * compliance officer may want to change per operator and licence; nothing is a literal in the
 * case service.
 *
 * Priority = the higher of (the highest alert severity) and (the band of the largest amount).
 * Example with the defaults: a MEDIUM alert with amountMinor 1_500_000 (15,000.00) -> HIGH;
 * a LOW alert without an amount -> LOW. SLA: CRITICAL 4 h, HIGH 24 h, MEDIUM 72 h, LOW 7 d,
 * counted from the event time of the case's first alert.
 *
 * Example:
 *   const policy = casePolicy({ incidentWindowMs: { byDetector: { withdrawal_velocity: 7 * DAY_MS } } })
 *   incidentWindowOf(policy, 'withdrawal_velocity')   // 604800000
 *   priorityOf(policy, 'MEDIUM', 1_500_000)            // 'HIGH'
 */
import { readFileSync } from 'node:fs'
import { RiskError } from '../core/errors.js'
import { CASE_PRIORITIES, type AlertSeverity, type CasePriority } from './types.js'

const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS

export interface ChecklistItem {
  /** Unique within its detector's list, kebab-case. */
  readonly id: string
  readonly text: string
}

/** Checklist items per detector id, and the list for detectors without one. */
export interface ChecklistCatalog {
  readonly version: string
  readonly defaultItems: readonly ChecklistItem[]
  readonly byDetector: Readonly<Record<string, readonly ChecklistItem[]>>
}

export interface AmountBand {
  /** Amounts at or above this (minor units of the reporting currency)... */
  readonly minAmountMinor: number
  /** ...give the case at least this priority. */
  readonly priority: CasePriority
}

export interface CasePolicy {
  /** How long after an incident's first alert (event time) alerts of the same typology still join it. */
  readonly incidentWindowMs: { readonly default: number; readonly byDetector: Readonly<Record<string, number>> }
  readonly slaMs: Readonly<Record<CasePriority, number>>
  readonly amountBands: readonly AmountBand[]
  /** Roles that may take and close escalated cases and file STRs (the MLRO's). */
  readonly mlroRoles: readonly string[]
  readonly checklists: ChecklistCatalog
}

export interface CasePolicyOverrides {
  readonly incidentWindowMs?: { readonly default?: number; readonly byDetector?: Readonly<Record<string, number>> }
  readonly slaMs?: Partial<Record<CasePriority, number>>
  readonly amountBands?: readonly AmountBand[]
  readonly mlroRoles?: readonly string[]
  readonly checklists?: ChecklistCatalog
}

/** The shipped checklists (cases/checklists.json). */
export const DEFAULT_CHECKLISTS_FILE = new URL('./checklists.json', import.meta.url)

function invalid(message: string): RiskError {
  return new RiskError('RISK_ERR_CONFIG_INVALID', message, { component: 'cases' })
}

/** Reads and validates a checklist file: `{ version, default: [{ id, text }], detectors: { <detectorId>: [...] } }`. */
export function loadChecklists(file: string | URL = DEFAULT_CHECKLISTS_FILE): ChecklistCatalog {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read the case checklists ${String(file)}: ${(error as Error).message}`, { file: String(file) }, { cause: error })
  }
  const root = json as { version?: unknown; default?: unknown; detectors?: unknown }
  if (typeof root.version !== 'string' || root.version === '') throw invalid(`${String(file)}: 'version' must be a non-empty string`)
  const items = (value: unknown, where: string): ChecklistItem[] => {
    if (!Array.isArray(value) || value.length === 0) throw invalid(`${String(file)}: ${where} must be a non-empty list of { id, text }`)
    const seen = new Set<string>()
    return value.map((item: { id?: unknown; text?: unknown }, index) => {
      if (typeof item?.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(item.id)) throw invalid(`${String(file)}: ${where}[${index}].id must be kebab-case`)
      if (typeof item.text !== 'string' || item.text.trim() === '') throw invalid(`${String(file)}: ${where}[${index}].text must be a non-empty string`)
      if (seen.has(item.id)) throw invalid(`${String(file)}: ${where} repeats item id '${item.id}'`)
      seen.add(item.id)
      return Object.freeze({ id: item.id, text: item.text })
    })
  }
  if (root.detectors === null || typeof root.detectors !== 'object' || Array.isArray(root.detectors)) throw invalid(`${String(file)}: 'detectors' must be an object of detector id -> items`)
  const byDetector: Record<string, readonly ChecklistItem[]> = {}
  for (const [detectorId, list] of Object.entries(root.detectors)) byDetector[detectorId] = Object.freeze(items(list, `detectors.${detectorId}`))
  return Object.freeze({ version: root.version, defaultItems: Object.freeze(items(root.default, 'default')), byDetector: Object.freeze(byDetector) })
}

let shippedChecklists: ChecklistCatalog | null = null

export const DEFAULT_INCIDENT_WINDOW_MS = 24 * HOUR_MS

/** Builds a validated, frozen policy from the defaults and the overrides. */
export function casePolicy(overrides: CasePolicyOverrides = {}): CasePolicy {
  shippedChecklists ??= loadChecklists()
  const policy: CasePolicy = {
    incidentWindowMs: {
      default: overrides.incidentWindowMs?.default ?? DEFAULT_INCIDENT_WINDOW_MS, // 24 h from the incident's first alert
      byDetector: { ...overrides.incidentWindowMs?.byDetector },
    },
    slaMs: {
      CRITICAL: 4 * HOUR_MS,
      HIGH: 24 * HOUR_MS,
      MEDIUM: 72 * HOUR_MS,
      LOW: 7 * DAY_MS,
      ...overrides.slaMs,
    },
    // Defaults: 2,000.00 is a common reporting threshold (see deposit_structuring), 10,000.00 the EDD one.
    amountBands: overrides.amountBands ?? [
      { minAmountMinor: 200_000, priority: 'MEDIUM' },
      { minAmountMinor: 1_000_000, priority: 'HIGH' },
      { minAmountMinor: 5_000_000, priority: 'CRITICAL' },
    ],
    mlroRoles: overrides.mlroRoles ?? ['compliance_officer'],
    checklists: overrides.checklists ?? shippedChecklists,
  }
  const positive = (value: number, name: string): void => {
    if (!Number.isSafeInteger(value) || value <= 0) throw invalid(`case policy: ${name} must be a positive integer of milliseconds, got ${value}`)
  }
  positive(policy.incidentWindowMs.default, 'incidentWindowMs.default')
  for (const [detectorId, windowMs] of Object.entries(policy.incidentWindowMs.byDetector)) positive(windowMs, `incidentWindowMs.byDetector.${detectorId}`)
  for (const priority of CASE_PRIORITIES) positive(policy.slaMs[priority], `slaMs.${priority}`)
  for (const band of policy.amountBands) {
    if (!Number.isSafeInteger(band.minAmountMinor) || band.minAmountMinor < 0) throw invalid(`case policy: amountBands minAmountMinor must be a non-negative integer, got ${band.minAmountMinor}`)
    if (!CASE_PRIORITIES.includes(band.priority)) throw invalid(`case policy: amountBands priority must be one of ${CASE_PRIORITIES.join(', ')}, got ${String(band.priority)}`)
  }
  if (policy.mlroRoles.length === 0) throw invalid('case policy: mlroRoles must name at least one role')
  return deepFreeze(policy)
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value as object)) deepFreeze(inner)
  }
  return value
}

export function incidentWindowOf(policy: CasePolicy, detectorId: string): number {
  return policy.incidentWindowMs.byDetector[detectorId] ?? policy.incidentWindowMs.default
}

export function priorityRank(priority: CasePriority | AlertSeverity): number {
  return CASE_PRIORITIES.indexOf(priority)
}

export function higherPriority(left: CasePriority, right: CasePriority): CasePriority {
  return priorityRank(left) >= priorityRank(right) ? left : right
}

/** The priority one alert asks for: its severity, raised to the band of its amount. */
export function priorityOf(policy: CasePolicy, severity: AlertSeverity, amountMinor: number | null): CasePriority {
  let priority: CasePriority = severity
  if (amountMinor !== null) {
    for (const band of policy.amountBands) if (amountMinor >= band.minAmountMinor) priority = higherPriority(priority, band.priority)
  }
  return priority
}

export function checklistItemsOf(policy: CasePolicy, detectorId: string): readonly ChecklistItem[] {
  return policy.checklists.byDetector[detectorId] ?? policy.checklists.defaultItems
}
