/**
 * `GET /clusters/:clusterId` (issue 8, item 2): a cluster of linked accounts as a graph the
 * console draws with sigma.js over graphology: players (with risk, typologies and community)
 * and the identifiers they share (device, card, wallet, IP block...), joined by player–identifier
 * edges. Read from `player_clusters` (each player's latest record), audited as cluster.read.
 *
 * Example:
 *   GET /clusters/cmp:p-1
 *   -> { "clusterId": "cmp:p-1", "size": 2, "asOfMs": 1715691000750, "truncated": false,
 *        "nodes": [{ "id": "player:p-1", "kind": "player", "label": "p-1", "risk": 0.42, "typologies": ["MULTI_ACCOUNT_FARM"], "communityId": null },
 *                  { "id": "player:p-2", ... }, { "id": "identifier:device:fp-9", "kind": "identifier", "label": "fp-9", "identifierType": "device" }],
 *        "edges": [{ "source": "player:p-1", "target": "identifier:device:fp-9", "kind": "device" }, ...] }
 *   // graph.import-style: nodes.forEach((n) => graph.addNode(n.id, n)); edges.forEach((e) => graph.addEdge(e.source, e.target, e))
 */
import type { FastifyInstance } from 'fastify'
import { RiskError } from '../../core/errors.js'
import { recordAuditChange } from '../audit.js'
import type { ReadModel } from '../read-model.js'
import { documented, OFFICER_ROLES } from './cases.js'

export function registerClusterRoutes(app: FastifyInstance, readModel: ReadModel): void {
  app.get<{ Params: { clusterId: string } }>('/clusters/:clusterId', {
    config: { roles: OFFICER_ROLES, audit: { action: 'cluster.read', entity: 'cluster', idParam: 'clusterId' } },
    schema: documented({
      summary: 'A cluster of linked accounts as nodes (players, identifiers) and edges, for sigma.js/graphology',
      tags: ['clusters'],
      params: { type: 'object', required: ['clusterId'], additionalProperties: false, properties: { clusterId: { type: 'string', minLength: 1, maxLength: 256, examples: ['cmp:p-1'] } } },
    }),
  }, async (request) => {
    const graph = await readModel.cluster(request.params.clusterId)
    if (graph === null) throw new RiskError('RISK_ERR_NOT_FOUND', `no player is in cluster ${request.params.clusterId} now (clusters merge and split: open it again from the player's latest decision or case)`, { clusterId: request.params.clusterId })
    // The graph shows player data: record whose.
    recordAuditChange(request, { detail: { playerIds: graph.nodes.filter((node) => node.kind === 'player').map((node) => node.label) } })
    return graph
  })
}
