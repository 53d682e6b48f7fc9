/**
 * The regulator's read-only API (issue 8, item 2), for `regulator_read` and the MLRO
 * (`compliance_officer`):
 *
 * | route | what | formats |
 * | GET /regulator/reports/:period?date=YYYY-MM-DD | decisions by outcome (count, sum), alerts by detector, cases opened and closed by resolution, STRs exported, dead letters by reason; daily, weekly (ISO), monthly, UTC | json, csv, xml |
 * | GET /regulator/logs/:type?fromMs&toMs&playerId&limit&offset | decisions, alerts, dead-letters, withdrawal-events, oldest first, paged | json, csv, xml |
 * | GET /regulator/player/:playerId | KYC record, latest decisions, cases | json, xml |
 * | GET /regulator/audit?entity&id | the API audit log's entries for one entity, with before/after diffs | json, xml |
 *
 * Every real read is audited (reports and logs once per request with the filter as detail).
 * `/sandbox/regulator/...` answers the same routes and formats from a fixed synthetic dataset
 * (the week of 2025-01-13; player `sbx-player-2`, case `CASE-SBX-0001`) so a regulator can check
 * its parsers without seeing real data; it is not audited.
 *
 * Example:
 *   GET /regulator/reports/monthly?date=2025-01-15&format=csv
 *   -> period,from,to,section,key,currency,count,amount_minor
 *      monthly,2025-01-01T00:00:00.000Z,2025-02-01T00:00:00.000Z,decisions,APPROVE,EUR,1204,98812300
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Clock } from '../../core/clock.js'
import type { GovernanceDependencies } from '../app.js'
import type { AuditLog } from '../audit.js'
import { recordAuditChange } from '../audit.js'
import {
  liveRegulatorSource, OUTPUT_FORMATS, REPORT_CSV_COLUMNS, REPORT_PERIODS, reportRows, SANDBOX_DATE, sandboxRegulatorSource, toCsv, toXml,
  type OutputFormat, type RegulatorSource, type ReportPeriod,
} from '../regulator-reports.js'
import type { RouteAuditDeclaration } from '../route-config.js'
import { API_ROLES } from '../roles.js'
import { REGULATOR_LOG_TYPES, StrQueries, type RegulatorLogType } from '../str-queries.js'
import { sharedStrDraftStore } from '../str-store.js'

const READERS = [API_ROLES.regulatorRead, API_ROLES.complianceOfficer]
const MAX_TIME_MS = 4_102_444_800_000
const DEFAULT_PAGE = 100
const MAX_PAGE = 1000

export interface RegulatorRouteOptions {
  /** The default report date (today, UTC). */
  readonly clock: Clock
  /** The API audit log whose entries /regulator/audit shows; absent = no history. */
  readonly audit?: AuditLog
  /**
   * Seconds one real period report took (query and rendering), kind `regulator_<period>`;
   * the sandbox's are not measured. Example: `(kind, seconds) => histogram.observe({ kind }, seconds)`.
   */
  readonly observeReport?: (kind: string, seconds: number) => void
}

const formatQuery = (formats: readonly OutputFormat[]) => ({ type: 'string', enum: formats, default: 'json' }) as const
const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
} as const

const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', xml: 'application/xml; charset=utf-8' }

function send(reply: FastifyReply, format: OutputFormat, fileStem: string, json: unknown, render: { csv?: () => string; xml: () => string }): FastifyReply | unknown {
  if (format === 'json') return json
  const body = format === 'csv' && render.csv !== undefined ? render.csv() : render.xml()
  return reply.type(CONTENT_TYPES[format]).header('content-disposition', `attachment; filename="${fileStem}.${format}"`).send(body)
}

/** One set of routes under `prefix`, reading `source`; `audited` = real data (recorded in the audit log). */
function registerReaderRoutes(app: FastifyInstance, prefix: string, source: RegulatorSource, defaultDate: () => string, audited: boolean, timing?: { clock: Clock; observeReport: (kind: string, seconds: number) => void }): void {
  const audit = (declaration: RouteAuditDeclaration): { audit?: RouteAuditDeclaration } => (audited ? { audit: declaration } : {})
  const tags = [audited ? 'regulator' : 'regulator sandbox']

  app.get(`${prefix}/reports/:period`, {
    config: { roles: READERS, ...audit({ action: 'regulator_report.read', entity: 'regulator_report', idParam: 'period' }) },
    schema: {
      summary: 'Period report: decisions, alerts, cases, STRs, dead letters', tags,
      params: { type: 'object', required: ['period'], additionalProperties: false, properties: { period: { type: 'string', enum: REPORT_PERIODS } } },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { date: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A day of the period (UTC); default today' }, format: formatQuery(OUTPUT_FORMATS) },
      },
    },
  }, async (request, reply) => {
    const { period } = request.params as { period: ReportPeriod }
    const query = request.query as { date?: string; format: OutputFormat }
    const date = query.date ?? defaultDate()
    const startedMs = timing?.clock.monotonicMs() ?? 0
    const report = await source.periodReport(period, date)
    if (audited) recordAuditChange(request, { detail: { date, format: query.format } })
    const sent = send(reply, query.format, `pitboss-${period}-${date}`, report, {
      csv: () => toCsv(reportRows(report), REPORT_CSV_COLUMNS),
      xml: () => toXml('regulator_report', report),
    })
    timing?.observeReport(`regulator_${period}`, (timing.clock.monotonicMs() - startedMs) / 1000)
    return sent
  })

  app.get(`${prefix}/logs/:type`, {
    config: { roles: READERS, ...audit({ action: 'regulator_log.read', entity: 'regulator_log', idParam: 'type' }) },
    schema: {
      summary: 'A log, oldest first, paged: decisions, alerts, dead letters, withdrawal events', tags,
      params: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', enum: REGULATOR_LOG_TYPES } } },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          fromMs: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS }, toMs: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS },
          playerId: { type: 'string', minLength: 1, maxLength: 256 }, ...pageQuery, format: formatQuery(OUTPUT_FORMATS),
        },
      },
    },
  }, async (request, reply) => {
    const { type } = request.params as { type: RegulatorLogType }
    const query = request.query as { fromMs?: number; toMs?: number; playerId?: string; limit: number; offset: number; format: OutputFormat }
    const filter = { ...(query.fromMs === undefined ? {} : { fromMs: query.fromMs }), ...(query.toMs === undefined ? {} : { toMs: query.toMs }), ...(query.playerId === undefined ? {} : { playerId: query.playerId }) }
    const page = await source.logPage(type, { ...filter, limit: query.limit, offset: query.offset })
    if (audited) recordAuditChange(request, { detail: { ...filter, limit: query.limit, offset: query.offset, rows: page.items.length } })
    const body = { type, ...filter, limit: query.limit, offset: query.offset, nextOffset: page.nextOffset, items: page.items }
    return send(reply, query.format, `pitboss-${type}-${query.offset}`, body, { csv: () => toCsv(page.items), xml: () => toXml('regulator_log', body) })
  })

  app.get(`${prefix}/player/:playerId`, {
    config: { roles: READERS, ...audit({ action: 'player.read', entity: 'player', idParam: 'playerId' }) },
    schema: {
      summary: 'A player\'s KYC record, latest decisions and cases', tags,
      params: { type: 'object', required: ['playerId'], additionalProperties: false, properties: { playerId: { type: 'string', minLength: 1, maxLength: 256 } } },
      querystring: { type: 'object', additionalProperties: false, properties: { format: formatQuery(['json', 'xml']) } },
    },
  }, async (request, reply) => {
    const { playerId } = request.params as { playerId: string }
    const { format } = request.query as { format: OutputFormat }
    const view = await source.player(playerId)
    return send(reply, format, `pitboss-player-${playerId.replace(/[^A-Za-z0-9_-]/g, '_')}`, view, { xml: () => toXml('regulator_player', view) })
  })

  app.get(`${prefix}/audit`, {
    config: { roles: READERS, ...audit({ action: 'audit.read', entity: 'audit_history' }) },
    schema: {
      summary: 'The audit history of one entity, with before/after diffs', tags,
      querystring: {
        type: 'object', required: ['entity', 'id'], additionalProperties: false,
        properties: {
          entity: { type: 'string', minLength: 1, maxLength: 100, description: 'case, player, str_draft, rule_set, ...' },
          id: { type: 'string', minLength: 1, maxLength: 256 },
          ...pageQuery, format: formatQuery(['json', 'xml']),
        },
      },
    },
  }, async (request, reply) => {
    const query = request.query as { entity: string; id: string; limit: number; offset: number; format: OutputFormat }
    const history = await source.auditHistory(query.entity, query.id, { limit: query.limit, offset: query.offset })
    if (audited) recordAuditChange(request, { entityId: `${query.entity}:${query.id}`, detail: { entity: query.entity, id: query.id, entries: history.entries.length } })
    return send(reply, query.format, `pitboss-audit-${query.entity}`, history, { xml: () => toXml('audit_history', history) })
  })
}

export function registerRegulatorRoutes(app: FastifyInstance, governance: GovernanceDependencies, options: RegulatorRouteOptions): void {
  const settings = governance.str
  const queries = new StrQueries(settings.clickhouse, settings.topicPrefix)
  let live: RegulatorSource | null = null
  // The store opens on first use (registration is synchronous); the audit file's synced length is read per request.
  const source: RegulatorSource = {
    periodReport: async (period, date) => (await liveSource()).periodReport(period, date),
    logPage: async (type, request) => (await liveSource()).logPage(type, request),
    player: async (playerId) => (await liveSource()).player(playerId),
    auditHistory: async (entity, id, page) => (await liveSource()).auditHistory(entity, id, page),
  }
  async function liveSource(): Promise<RegulatorSource> {
    live ??= liveRegulatorSource({
      queries, cases: governance.cases, store: await sharedStrDraftStore(settings.draftsDir),
      audit: options.audit === undefined ? null : { path: options.audit.path, get syncedBytes() { return options.audit?.syncedBytes ?? 0 } },
    })
    return live
  }
  const timing = options.observeReport === undefined ? undefined : { clock: options.clock, observeReport: options.observeReport }
  registerReaderRoutes(app, '/regulator', source, () => new Date(options.clock.nowMs()).toISOString().slice(0, 10), true, timing)
  registerReaderRoutes(app, '/sandbox/regulator', sandboxRegulatorSource(), () => SANDBOX_DATE, false)
}
