/**
 * What the regulator's API answers (issue 8, item 2), apart from HTTP: the reporting periods,
 * the period report, the audit history with diffs, the CSV and XML renderings, and the two
 * sources the routes read — the live one (ClickHouse, the case service, the STR store, the API
 * audit log) and the sandbox one (a fixed synthetic dataset for the regulator's format checks).
 *
 * Periods are UTC: daily is the calendar day of `date`, weekly its ISO week (Monday 00:00 to the
 * next Monday), monthly its calendar month; `[fromMs, toMs)`. Counts follow event time
 * (decisions, alerts), a case's first alert (opened) and its closing time (closed), the export
 * time of STRs and the source record's timestamp of dead letters.
 *
 * Example:
 *   const { fromMs, toMs } = periodRange('weekly', '2025-01-15')   // 2025-01-13T00:00Z .. 2025-01-20T00:00Z
 *   const report = await source.periodReport('weekly', '2025-01-15')
 *   toCsv(reportRows(report))  // period,from,to,section,key,currency,count,amount_minor\r\n weekly,...
 */
import fs from 'node:fs'
import type { CaseService } from '../cases/case-service.js'
import type { Case } from '../cases/types.js'
import { RiskError } from '../core/errors.js'
import { element, leaf, serializeXml, type XmlNode } from '../sinks/str/xml.js'
import type { AuditEntry } from './audit.js'
import type { LogPage, LogPageRequest, LogRow, PlayerRecord, RegulatorLogType, StrQueries } from './str-queries.js'
import type { StrDraftStore } from './str-store.js'

export const REPORT_PERIODS = ['daily', 'weekly', 'monthly'] as const
export type ReportPeriod = (typeof REPORT_PERIODS)[number]
export const OUTPUT_FORMATS = ['json', 'csv', 'xml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const DAY_MS = 24 * 60 * 60 * 1000

/** The UTC range `[fromMs, toMs)` of the period holding `date` (YYYY-MM-DD). */
export function periodRange(period: ReportPeriod, date: string): { fromMs: number; toMs: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const dayMs = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN
  if (!match || !Number.isFinite(dayMs) || new Date(dayMs).toISOString().slice(0, 10) !== date) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `date must be a calendar date YYYY-MM-DD, got '${date}'`, { field: 'querystring.date' })
  }
  const day = new Date(dayMs)
  switch (period) {
    case 'daily':
      return { fromMs: dayMs, toMs: dayMs + DAY_MS }
    case 'weekly': {
      // ISO weeks start on Monday; getUTCDay() is 0 for Sunday.
      const fromMs = dayMs - ((day.getUTCDay() + 6) % 7) * DAY_MS
      return { fromMs, toMs: fromMs + 7 * DAY_MS }
    }
    case 'monthly':
      return { fromMs: Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1), toMs: Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1) }
  }
}

/** The period report. Money sums are decimal strings of minor units (Int64 sums may pass 2^53). */
export interface RegulatorReport {
  readonly period: ReportPeriod
  readonly date: string
  readonly from: string
  readonly to: string
  readonly fromMs: number
  readonly toMs: number
  readonly decisions: ReadonlyArray<{ readonly outcome: string; readonly currency: string; readonly count: number; readonly amountMinor: string }>
  readonly alerts: ReadonlyArray<{ readonly detectorId: string; readonly count: number }>
  readonly cases: { readonly opened: number; readonly closed: ReadonlyArray<{ readonly resolution: string; readonly count: number }> }
  readonly strs: { readonly exported: number; readonly reports: ReadonlyArray<{ readonly draftId: string; readonly caseId: string; readonly fileName: string; readonly sha256: string; readonly exportedAtMs: number }> }
  readonly deadLetters: ReadonlyArray<{ readonly reason: string; readonly count: number }>
}

export interface RegulatorPlayerView {
  readonly playerId: string
  readonly kyc: PlayerRecord | null
  readonly decisions: readonly LogRow[]
  readonly cases: ReadonlyArray<Pick<Case, 'caseId' | 'status' | 'priority' | 'typologies' | 'openedAtMs' | 'closedAtMs' | 'resolution' | 'alertCount'>>
}

/** One changed leaf between an entry's `before` and `after`: `path` like `draft.narrative` or `checklist[2].tickedBy`. */
export interface AuditDiff {
  readonly path: string
  readonly before: unknown
  readonly after: unknown
}

export interface AuditHistoryEntry {
  readonly sequence: number
  readonly recordedAt: string
  readonly action: string
  readonly actor: AuditEntry['actor']
  readonly request: AuditEntry['request'] | null
  readonly detail: unknown
  readonly before: unknown
  readonly after: unknown
  readonly diff: readonly AuditDiff[]
  readonly hash: string
}

export interface AuditHistoryPage {
  readonly entity: string
  readonly id: string
  readonly entries: readonly AuditHistoryEntry[]
  readonly nextOffset: number | null
}

/** Where the regulator's routes read from; `live` and `sandbox` answer the same shapes. */
export interface RegulatorSource {
  periodReport(period: ReportPeriod, date: string): Promise<RegulatorReport>
  logPage(type: RegulatorLogType, request: LogPageRequest): Promise<LogPage>
  /** RISK_ERR_NOT_FOUND (404) when nothing is known of the player. */
  player(playerId: string): Promise<RegulatorPlayerView>
  auditHistory(entity: string, id: string, page: { readonly limit: number; readonly offset: number }): Promise<AuditHistoryPage>
}

/**
 * The leaves that differ between two JSON values, depth first, keys in sorted order.
 * Example: diffValues({ a: 1, b: [1, 2] }, { a: 2, b: [1] }) -> [{ path: 'a', before: 1, after: 2 }, { path: 'b[1]', before: 2, after: undefined }]
 */
export function diffValues(before: unknown, after: unknown, path = ''): AuditDiff[] {
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)
  if (Array.isArray(before) && Array.isArray(after)) {
    const diffs: AuditDiff[] = []
    for (let index = 0; index < Math.max(before.length, after.length); index += 1) diffs.push(...diffValues(before[index], after[index], `${path}[${index}]`))
    return diffs
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((key) => diffValues(before[key], after[key], path === '' ? key : `${path}.${key}`))
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: path === '' ? '(whole)' : path, before, after }]
}

function historyEntry(entry: AuditEntry): AuditHistoryEntry {
  return {
    sequence: entry.sequence, recordedAt: entry.recordedAt, action: entry.action, actor: entry.actor, request: entry.request ?? null,
    detail: entry.detail ?? null, before: entry.before ?? null, after: entry.after ?? null,
    diff: entry.before === undefined && entry.after === undefined ? [] : diffValues(entry.before, entry.after), hash: entry.hash,
  }
}

/** The audit entries of one entity, oldest first, read from the log file up to `endByte` (what is synced). */
export async function readAuditHistory(filePath: string, endByte: number, entity: string, id: string, page: { readonly limit: number; readonly offset: number }): Promise<AuditHistoryPage> {
  const handle = await fs.promises.open(filePath, 'r')
  let text: string
  try {
    const buffer = Buffer.alloc(endByte)
    let read = 0
    while (read < endByte) {
      const { bytesRead } = await handle.read(buffer, read, endByte - read, read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    text = buffer.subarray(0, read).toString('utf8')
  } finally {
    await handle.close()
  }
  const matching: AuditHistoryEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const entry = JSON.parse(line) as AuditEntry
    if (entry.entity?.type === entity && entry.entity.id === id) matching.push(historyEntry(entry))
  }
  const entries = matching.slice(page.offset, page.offset + page.limit)
  return { entity, id, entries, nextOffset: page.offset + page.limit < matching.length ? page.offset + page.limit : null }
}

// ---------------------------------------------------------------------------------------------
// Renderings

type Cell = string | number | boolean | null | undefined | readonly unknown[]

/**
 * RFC 4180 CSV: CRLF line ends, a field quoted (quotes doubled) when it holds a comma, quote, CR
 * or LF. Arrays join with '|'. A text cell starting with = + - @ or a tab gets a leading
 * apostrophe so a spreadsheet shows it instead of running it as a formula (OWASP CSV injection).
 */
export function toCsv(rows: ReadonlyArray<Readonly<Record<string, Cell>>>, columns?: readonly string[]): string {
  const header = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))]
  const cell = (value: Cell): string => {
    if (value === null || value === undefined) return ''
    let text = Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join('|') : String(value)
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  return [header.map(cell), ...rows.map((row) => header.map((column) => cell(row[column])))].map((line) => line.join(',')).join('\r\n') + '\r\n'
}

// XML 1.0 cannot carry these at all, even escaped: shown as U+FFFD rather than failing the whole file.
// eslint-disable-next-line no-control-regex
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

const SINGULAR: Readonly<Record<string, string>> = {
  decisions: 'decision', alerts: 'alert', dead_letters: 'dead_letter', closed: 'resolution_count', reports: 'report', items: 'item',
  entries: 'entry', diff: 'change', reasons: 'reason', actions: 'action', roles: 'role', evidence_event_ids: 'event_id', typologies: 'typology', cases: 'case',
}

/** camelCase or any key -> an XML element name in snake_case ('amountMinor' -> 'amount_minor', '1x' -> '_1x'). */
export function xmlName(key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9_.-]/g, '_')
  return /^[a-z_]/.test(snake) && !/^xml/.test(snake) ? snake : `_${snake}`
}

/** A JSON value as an element: objects by key, arrays as repeated singular children, null as an empty element. */
export function jsonToXmlNode(name: string, value: unknown): XmlNode {
  if (value === null || value === undefined) return element(name)
  if (Array.isArray(value)) return element(name, ...value.map((item) => jsonToXmlNode(SINGULAR[name] ?? 'item', item)))
  if (typeof value === 'object') return element(name, ...Object.entries(value as Record<string, unknown>).map(([key, inner]) => jsonToXmlNode(xmlName(key), inner)))
  return leaf(name, String(value).replace(XML_FORBIDDEN, '\uFFFD')) as XmlNode
}

/** A whole document; the root's children are the value's keys. */
export function toXml(rootName: string, value: unknown): string {
  return serializeXml(jsonToXmlNode(rootName, value))
}

/** The report flattened for CSV: one row per count. */
export function reportRows(report: RegulatorReport): Array<Record<string, Cell>> {
  const base = { period: report.period, from: report.from, to: report.to }
  const row = (section: string, key: string | null, count: number, currency: string | null = null, amountMinor: string | null = null): Record<string, Cell> =>
    ({ ...base, section, key, currency, count, amount_minor: amountMinor })
  return [
    ...report.decisions.map((entry) => row('decisions', entry.outcome, entry.count, entry.currency, entry.amountMinor)),
    ...report.alerts.map((entry) => row('alerts', entry.detectorId, entry.count)),
    row('cases_opened', null, report.cases.opened),
    ...report.cases.closed.map((entry) => row('cases_closed', entry.resolution, entry.count)),
    row('strs_exported', null, report.strs.exported),
    ...report.deadLetters.map((entry) => row('dead_letters', entry.reason, entry.count)),
  ]
}

export const REPORT_CSV_COLUMNS = ['period', 'from', 'to', 'section', 'key', 'currency', 'count', 'amount_minor'] as const

// ---------------------------------------------------------------------------------------------
// The live source

export interface LiveRegulatorSourceOptions {
  readonly queries: StrQueries
  readonly cases: CaseService
  readonly store: StrDraftStore
  /** The API audit log file and how much of it is complete (AuditLog.path, AuditLog.syncedBytes). */
  readonly audit: { readonly path: string; readonly syncedBytes: number } | null
}

const CASE_PAGE = 1000

async function allCases(cases: CaseService, filter: { readonly playerId?: string } = {}): Promise<Case[]> {
  const all: Case[] = []
  for (let afterCaseId: string | undefined; ;) {
    const page = await cases.list({ ...filter, limit: CASE_PAGE, ...(afterCaseId === undefined ? {} : { afterCaseId }) })
    all.push(...page)
    if (page.length < CASE_PAGE) return all
    afterCaseId = page[page.length - 1]?.caseId
  }
}

const countBy = (values: readonly string[]): Array<{ key: string; count: number }> =>
  [...values.reduce((counts, value) => counts.set(value, (counts.get(value) ?? 0) + 1), new Map<string, number>())]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([key, count]) => ({ key, count }))

export function liveRegulatorSource(options: LiveRegulatorSourceOptions): RegulatorSource {
  return {
    async periodReport(period, date) {
      const { fromMs, toMs } = periodRange(period, date)
      const inPeriod = (timeMs: number | null): boolean => timeMs !== null && timeMs >= fromMs && timeMs < toMs
      const [counts, cases, drafts] = await Promise.all([options.queries.periodCounts(fromMs, toMs), allCases(options.cases), options.store.list()])
      const exports = drafts.flatMap((record) => record.exports.filter((entry) => inPeriod(entry.exportedAtMs))
        .map((entry) => ({ draftId: record.draft.draftId, caseId: record.draft.caseId, fileName: entry.fileName, sha256: entry.sha256, exportedAtMs: entry.exportedAtMs })))
        .sort((left, right) => left.exportedAtMs - right.exportedAtMs)
      return {
        period, date, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromMs, toMs,
        decisions: counts.decisions,
        alerts: counts.alerts,
        cases: {
          opened: cases.filter((record) => inPeriod(record.openedAtMs)).length,
          closed: countBy(cases.filter((record) => inPeriod(record.closedAtMs)).map((record) => record.resolution ?? 'UNKNOWN')).map(({ key, count }) => ({ resolution: key, count })),
        },
        strs: { exported: exports.length, reports: exports },
        deadLetters: counts.deadLetters,
      }
    },
    logPage: (type, request) => options.queries.logPage(type, request),
    async player(playerId) {
      const [kyc, decisions, cases] = await Promise.all([options.queries.playerRecord(playerId), options.queries.playerDecisions(playerId, 100), allCases(options.cases, { playerId })])
      if (kyc === null && decisions.length === 0 && cases.length === 0) {
        throw new RiskError('RISK_ERR_NOT_FOUND', `nothing is on record for player ${playerId}; check the id`, { playerId })
      }
      return {
        playerId, kyc, decisions,
        cases: cases.map((record) => ({ caseId: record.caseId, status: record.status, priority: record.priority, typologies: record.typologies, openedAtMs: record.openedAtMs, closedAtMs: record.closedAtMs, resolution: record.resolution, alertCount: record.alertCount })),
      }
    },
    async auditHistory(entity, id, page) {
      if (options.audit === null) return { entity, id, entries: [], nextOffset: null }
      return readAuditHistory(options.audit.path, options.audit.syncedBytes, entity, id, page)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The sandbox source: fixed synthetic data, no real player behind any of it

/** The sandbox's data sits in this week; its default date. */
export const SANDBOX_DATE = '2025-01-15'
const SANDBOX_DAY_MS = Date.UTC(2025, 0, 15)
const at = (hours: number, minutes = 0): number => SANDBOX_DAY_MS + hours * 3_600_000 + minutes * 60_000

// Values with commas, quotes, apostrophes, '<' and '&' on purpose: the format checks see the escaping.
const SANDBOX_DECISIONS: readonly LogRow[] = [
  { decision_id: 'wd-sbx-1:1', withdrawal_id: 'wd-sbx-1', revision: 1, player_id: 'sbx-player-1', outcome: 'APPROVE', reasons: [], actions: [], amount_minor: '25000', currency: 'EUR', jurisdiction: 'MT', tier: 'VERIFIED', event_time_ms: at(9), rule_set_version: 'sandbox.1', model_id: 'sandbox-model', model_version: '1', score: 0.12, cluster_id: '' },
  { decision_id: 'wd-sbx-2:1', withdrawal_id: 'wd-sbx-2', revision: 1, player_id: 'sbx-player-2', outcome: 'REVIEW', reasons: ['RULE_HIT (deposit_structuring): 4 deposits of 1950.00, 1990.00, 1980.00 & 1995.00 EUR < 2000.00 "threshold"'], actions: ['HOLD_FUNDS', 'OPEN_CASE'], amount_minor: '740000', currency: 'EUR', jurisdiction: 'MT', tier: 'NEW', event_time_ms: at(11, 30), rule_set_version: 'sandbox.1', model_id: 'sandbox-model', model_version: '1', score: 0.81, cluster_id: 'cl-sbx-1' },
  { decision_id: 'wd-sbx-2:2', withdrawal_id: 'wd-sbx-2', revision: 2, player_id: 'sbx-player-2', outcome: 'DECLINE', reasons: ["REVIEWER_VERDICT: officer's review, source of funds <not provided>"], actions: ['RELEASE_HOLD'], amount_minor: '740000', currency: 'EUR', jurisdiction: 'MT', tier: 'NEW', event_time_ms: at(15), rule_set_version: 'sandbox.1', model_id: 'sandbox-model', model_version: '1', score: 0.81, cluster_id: 'cl-sbx-1' },
  { decision_id: 'wd-sbx-3:1', withdrawal_id: 'wd-sbx-3', revision: 1, player_id: 'sbx-player-3', outcome: 'APPROVE', reasons: [], actions: [], amount_minor: '1500000', currency: 'JPY', jurisdiction: 'CW', tier: 'VIP', event_time_ms: at(24 + 10), rule_set_version: 'sandbox.1', model_id: 'sandbox-model', model_version: '1', score: null, cluster_id: '' },
]
const SANDBOX_ALERTS: readonly LogRow[] = [
  { alert_id: 'al-sbx-1', player_id: 'sbx-player-2', detector_id: 'deposit_structuring', detector_version: 1, severity: 'HIGH', action: 'review, then decide', event_time_ms: at(11, 29), value: 4, threshold: 3, window_start_ms: at(-13), window_end_ms: at(11, 29) + 1, evidence_event_ids: ['evt-sbx-1', 'evt-sbx-2'], rule_set_version: 'sandbox.1' },
  { alert_id: 'al-sbx-2', player_id: 'sbx-player-2', detector_id: 'withdrawal_velocity', detector_version: 1, severity: 'MEDIUM', action: 'review', event_time_ms: at(11, 30), value: 5, threshold: 3, window_start_ms: null, window_end_ms: null, evidence_event_ids: [], rule_set_version: 'sandbox.1' },
]
const SANDBOX_DEAD_LETTERS: readonly LogRow[] = [
  { dlq_id: 'casino.deposits.v1:3:1042', source_topic: 'casino.deposits.v1', source_partition: 3, source_offset: '1042', reason: 'RISK_ERR_DECODE_AVRO', message: 'the Avro body could not be decoded: field "amountMinor" <truncated>', event_time_ms: at(8, 15) },
]
const SANDBOX_WITHDRAWAL_EVENTS: readonly LogRow[] = [
  { transition_id: 'wd-sbx-2:1', withdrawal_id: 'wd-sbx-2', player_id: 'sbx-player-2', sequence: 1, from_state: 'NONE', to_state: 'PENDING', cause_type: 'WITHDRAWAL_REQUESTED', cause_id: 'evt-sbx-9', event_time_ms: at(11, 30), attempt: 0, detail: '' },
  { transition_id: 'wd-sbx-2:2', withdrawal_id: 'wd-sbx-2', player_id: 'sbx-player-2', sequence: 2, from_state: 'PENDING', to_state: 'AWAITING_REVIEW', cause_type: 'DECISION', cause_id: 'wd-sbx-2:1', event_time_ms: at(11, 30), attempt: 0, detail: 'held for review, funds on hold' },
  { transition_id: 'wd-sbx-2:3', withdrawal_id: 'wd-sbx-2', player_id: 'sbx-player-2', sequence: 3, from_state: 'AWAITING_REVIEW', to_state: 'DECLINED', cause_type: 'REVIEW', cause_id: 'wd-sbx-2:2', event_time_ms: at(15), attempt: 0, detail: "officer's verdict" },
]
const SANDBOX_LOGS: Readonly<Record<RegulatorLogType, readonly LogRow[]>> = {
  decisions: SANDBOX_DECISIONS, alerts: SANDBOX_ALERTS, 'dead-letters': SANDBOX_DEAD_LETTERS, 'withdrawal-events': SANDBOX_WITHDRAWAL_EVENTS,
}
const SANDBOX_PLAYER: PlayerRecord = {
  playerId: 'sbx-player-2', firstName: 'Zoë', lastName: "O'Neil-Smith", dateOfBirth: '1990-02-14', country: 'MT', jurisdiction: 'MT', tier: 'NEW',
  kycStatus: 'VERIFIED', kycLevel: 2, selfExcludedUntilMs: null, emailHash: 'sandbox-email-hash', phoneHash: null, referrerPlayerId: null,
  firstSeenMs: at(-24 * 30), lastChangedMs: at(-24), changes: 3,
}
const SANDBOX_CASES: RegulatorPlayerView['cases'] = [
  { caseId: 'CASE-SBX-0001', status: 'CLOSED', priority: 'HIGH', typologies: ['deposit_structuring', 'withdrawal_velocity'], openedAtMs: at(11, 29), closedAtMs: at(16), resolution: 'STR_FILED', alertCount: 2 },
]
const SANDBOX_AUDIT: readonly AuditEntry[] = [
  {
    sequence: 1, recordedAt: new Date(at(12)).toISOString(), action: 'case.claim', actor: { subject: 'sandbox-officer', roles: ['aml_officer'] },
    entity: { type: 'case', id: 'CASE-SBX-0001' }, before: { status: 'OPEN', assigneeId: null, version: 1 }, after: { status: 'IN_REVIEW', assigneeId: 'sandbox-officer', version: 2 },
    request: { method: 'POST', route: '/cases/:id/claim', requestId: 'req-sbx-1', ip: '192.0.2.10' }, previousHash: '0'.repeat(64), hash: 'a'.repeat(64),
  },
  {
    sequence: 2, recordedAt: new Date(at(16)).toISOString(), action: 'case.close', actor: { subject: 'sandbox-mlro', roles: ['compliance_officer'] },
    entity: { type: 'case', id: 'CASE-SBX-0001' }, before: { status: 'IN_REVIEW', resolution: null, version: 6 }, after: { status: 'CLOSED', resolution: 'STR_FILED', closeReason: 'structuring & "no source of funds" <confirmed>', version: 7 },
    request: { method: 'POST', route: '/cases/:id/close', requestId: 'req-sbx-2', ip: '192.0.2.11' }, previousHash: 'a'.repeat(64), hash: 'b'.repeat(64),
  },
]

/** Answers like the live source from the fixed dataset above (week of 2025-01-13). */
export function sandboxRegulatorSource(): RegulatorSource {
  const timeOf = (row: LogRow): number => Number(row.event_time_ms)
  return {
    async periodReport(period, date) {
      const { fromMs, toMs } = periodRange(period, date)
      const inPeriod = (timeMs: number | null): boolean => timeMs !== null && timeMs >= fromMs && timeMs < toMs
      const decisions = SANDBOX_DECISIONS.filter((row) => inPeriod(timeOf(row)))
      const sums = new Map<string, { outcome: string; currency: string; count: number; amountMinor: bigint }>()
      for (const row of decisions) {
        const key = `${String(row.outcome)}\u0000${String(row.currency)}`
        const current = sums.get(key) ?? { outcome: String(row.outcome), currency: String(row.currency), count: 0, amountMinor: 0n }
        sums.set(key, { ...current, count: current.count + 1, amountMinor: current.amountMinor + BigInt(String(row.amount_minor)) })
      }
      return {
        period, date, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromMs, toMs,
        decisions: [...sums.values()].sort((left, right) => (`${left.outcome} ${left.currency}` < `${right.outcome} ${right.currency}` ? -1 : 1)).map((entry) => ({ ...entry, amountMinor: entry.amountMinor.toString() })),
        alerts: countBy(SANDBOX_ALERTS.filter((row) => inPeriod(timeOf(row))).map((row) => String(row.detector_id))).map(({ key, count }) => ({ detectorId: key, count })),
        cases: {
          opened: SANDBOX_CASES.filter((record) => inPeriod(record.openedAtMs)).length,
          closed: countBy(SANDBOX_CASES.filter((record) => inPeriod(record.closedAtMs)).map((record) => record.resolution ?? 'UNKNOWN')).map(({ key, count }) => ({ resolution: key, count })),
        },
        strs: inPeriod(at(17)) ? { exported: 1, reports: [{ draftId: 'str-CASE-SBX-0001-1', caseId: 'CASE-SBX-0001', fileName: 'STR-str-CASE-SBX-0001-1.xml', sha256: 'c'.repeat(64), exportedAtMs: at(17) }] } : { exported: 0, reports: [] },
        deadLetters: countBy(SANDBOX_DEAD_LETTERS.filter((row) => inPeriod(timeOf(row))).map((row) => String(row.reason))).map(({ key, count }) => ({ reason: key, count })),
      }
    },
    async logPage(type, request) {
      const rows = SANDBOX_LOGS[type].filter((row) => (request.fromMs === undefined || timeOf(row) >= request.fromMs) && (request.toMs === undefined || timeOf(row) < request.toMs)
        && (request.playerId === undefined || row.player_id === request.playerId))
      const items = rows.slice(request.offset, request.offset + request.limit)
      return { items, nextOffset: request.offset + request.limit < rows.length ? request.offset + request.limit : null }
    },
    async player(playerId) {
      if (playerId !== SANDBOX_PLAYER.playerId) throw new RiskError('RISK_ERR_NOT_FOUND', `the sandbox knows only player ${SANDBOX_PLAYER.playerId}`, { playerId })
      return { playerId, kyc: SANDBOX_PLAYER, decisions: SANDBOX_DECISIONS.filter((row) => row.player_id === playerId).reverse(), cases: SANDBOX_CASES }
    },
    async auditHistory(entity, id, page) {
      const matching = SANDBOX_AUDIT.filter((entry) => entry.entity.type === entity && entry.entity.id === id).map(historyEntry)
      return { entity, id, entries: matching.slice(page.offset, page.offset + page.limit), nextOffset: page.offset + page.limit < matching.length ? page.offset + page.limit : null }
    },
  }
}
