/**
 * A player's history and the alert list (issue 8, item 2), read from ClickHouse (api/read-model.ts):
 *
 *   GET /players/:playerId/decisions?limit&before     decisions newest first; `before` (epoch ms,
 *                                                     exclusive) pages: pass the answer's `nextBefore`
 *   GET /players/:playerId/timeline?fromMs&toMs&limit events, decisions, alerts and withdrawal
 *                                                     transitions merged by event time, newest first,
 *                                                     each `{ atMs, kind, id, summary, data }`
 *   GET /alerts?playerId&detectorId&limit             alerts newest first (officers)
 *
 * Reads of player data are audited (action player.read with what was read as detail).
 *
 * Example:
 *   GET /players/p-1/timeline?limit=2
 *   -> { "playerId": "p-1", "entries": [
 *        { "atMs": 1715691000750, "kind": "transition", "id": "wd-881:3", "summary": "withdrawal wd-881 RISK_SCORING -> AWAITING_REVIEW (DECISION)", "data": {...} },
 *        { "atMs": 1715691000750, "kind": "decision", "id": "wd-881:1", "summary": "REVIEW withdrawal wd-881 (revision 1) 495.00 EUR: RULE_HIT", "data": {...} }] }
 */
import type { FastifyInstance } from 'fastify'
import { RiskError } from '../../core/errors.js'
import { recordAuditChange } from '../audit.js'
import type { ReadModel } from '../read-model.js'
import { API_ROLES } from '../roles.js'
import { documented, OFFICER_ROLES } from './cases.js'

const ID = { type: 'string', minLength: 1, maxLength: 256 } as const
const EPOCH_MS = { type: 'integer', minimum: 0, maximum: 4_294_967_295_000 } as const
const PLAYER_PARAMS = { type: 'object', required: ['playerId'], additionalProperties: false, properties: { playerId: ID } } as const
const LIMIT = { type: 'integer', minimum: 1, maximum: 1000, default: 100 } as const

interface PlayerParams { playerId: string }

export function registerPlayerRoutes(app: FastifyInstance, readModel: ReadModel): void {
  const playerReaders = [...OFFICER_ROLES, API_ROLES.regulatorRead]

  app.get<{ Params: PlayerParams; Querystring: { limit: number; before?: number } }>('/players/:playerId/decisions', {
    config: { roles: playerReaders, audit: { action: 'player.read', entity: 'player', idParam: 'playerId' } },
    schema: documented({
      summary: "The player's decisions, newest first",
      tags: ['players'],
      params: PLAYER_PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: LIMIT, before: { ...EPOCH_MS, description: 'only decisions with an event time before this (epoch ms): the previous answer\'s nextBefore' } } },
    }),
  }, async (request) => {
    const { playerId } = request.params
    const { limit, before } = request.query
    const decisions = await readModel.playerDecisions(playerId, { limit, ...(before === undefined ? {} : { beforeMs: before }) })
    recordAuditChange(request, { detail: { read: 'decisions', query: request.query, count: decisions.length } })
    const last = decisions[decisions.length - 1]
    return { playerId, decisions, nextBefore: decisions.length === limit && last !== undefined ? last.eventTimeMs : null }
  })

  app.get<{ Params: PlayerParams; Querystring: { fromMs?: number; toMs?: number; limit: number } }>('/players/:playerId/timeline', {
    config: { roles: playerReaders, audit: { action: 'player.read', entity: 'player', idParam: 'playerId' } },
    schema: documented({
      summary: "The player's events, decisions, alerts and withdrawal transitions merged by event time, newest first",
      tags: ['players'],
      params: PLAYER_PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { fromMs: { ...EPOCH_MS, description: 'inclusive' }, toMs: { ...EPOCH_MS, description: 'exclusive' }, limit: LIMIT } },
    }),
  }, async (request) => {
    const { playerId } = request.params
    const { fromMs, toMs, limit } = request.query
    if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw new RiskError('RISK_ERR_REQUEST_INVALID', `fromMs (${fromMs}) must be before toMs (${toMs})`, { field: 'querystring.fromMs' })
    const entries = await readModel.playerTimeline(playerId, { limit, ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }) })
    recordAuditChange(request, { detail: { read: 'timeline', query: request.query, count: entries.length } })
    return { playerId, entries }
  })

  app.get<{ Querystring: { playerId?: string; detectorId?: string; limit: number } }>('/alerts', {
    config: { roles: OFFICER_ROLES, audit: { action: 'alert.list', entity: 'alert' } },
    schema: documented({
      summary: 'Alerts newest first, by player and/or detector',
      tags: ['alerts'],
      querystring: { type: 'object', additionalProperties: false, properties: { playerId: ID, detectorId: ID, limit: LIMIT } },
    }),
  }, async (request) => {
    const { playerId, detectorId, limit } = request.query
    const alerts = await readModel.alerts({ limit, ...(playerId === undefined ? {} : { playerId }), ...(detectorId === undefined ? {} : { detectorId }) })
    // The list shows player data: record whose, beside the filter.
    recordAuditChange(request, { detail: { filter: request.query, count: alerts.length, playerIds: [...new Set(alerts.map((alert) => alert.playerId))] } })
    return { alerts }
  })
}
