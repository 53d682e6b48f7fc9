/**
 * The link graph's snapshot format: UTF-8 JSON lines, one record per line, so a 1M-node graph
 * never becomes one giant string. Storage-agnostic (the worker will put the Buffer in RocksDB
 * and replay `risk.links.v1` from the offset stored beside it).
 *
 *   {"format":"pitboss.link-graph","version":1,"paramsFingerprint":"9c1e...","streamTimeMs":1700000000000}
 *   ["n",{"kind":"player","playerId":"p1","flags":{"sanctioned":true}}]      one per union-find index,
 *   ["n",{"kind":"identifier","identifierType":"device","identifier":"fp:1"}]  in index order;
 *   ["n",null]                                                               a removed node
 *   ["l",0,1,"device",false,1000,5000]          link: from index, to index, type, owner, first/last seen
 *   ["t",0,2,[["t7",5000,1000]]]                transfer edge: from, to, [transferId, amountMinor, eventTimeMs]
 *   ["r","bac-3","r-118",[["b9","p1","banker",2000,-2000,1000]]]   a table round's bets
 *   ["u","<base64 Int32Array>"]                 union-find parents
 *   ["d",[3,7]] ["x",[9]] ["e",["p4"]]           indices pending recompute / rebuild, players erased since
 *   ["c","p1",{...computed}]                    last computed cluster state of a player
 *   ["a","cmp:p1",[...alerts]]                  current alerts of a cluster
 *
 * Edges are written in graph insertion order and restored in that order, so neighbour order
 * (and with it every iteration in the graph) is the same after a restore.
 */
import { RiskError } from '../core/errors.js'
import type { BetRecord, TransferRecord } from './graph-reader.js'
import type { ClusterAlert, IdentifierType, PlayerFlags, TypologyId } from './types.js'

export const SNAPSHOT_FORMAT = 'pitboss.link-graph'
export const SNAPSHOT_VERSION = 1

export interface SnapshotContents {
  paramsFingerprint: string
  streamTimeMs: number
  nodes: Array<{ kind: 'player'; playerId: string; flags: PlayerFlags } | { kind: 'identifier'; identifierType: IdentifierType; identifier: string } | null>
  edges: Array<
    | { kind: 'link'; from: number; to: number; identifierType: IdentifierType; owner: boolean; firstSeenMs: number; lastSeenMs: number }
    | { kind: 'transfer'; from: number; to: number; transfers: readonly TransferRecord[] }
  >
  rounds: Array<{ tableId: string; roundId: string; bets: readonly BetRecord[] }>
  unionFindParent: Int32Array
  dirty: number[]
  needsRebuild: number[]
  removedPlayers: string[]
  computed: Array<{ playerId: string; clusterId: string; communityId: string | null; communitySize: number; risk: number; typologies: TypologyId[]; computedAtMs: number }>
  alerts: Array<{ clusterId: string; alerts: ClusterAlert[] }>
}

export function encodeSnapshot(contents: SnapshotContents): Buffer {
  const lines: string[] = [JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, paramsFingerprint: contents.paramsFingerprint, streamTimeMs: contents.streamTimeMs })]
  for (const node of contents.nodes) lines.push(JSON.stringify(['n', node]))
  for (const edge of contents.edges) {
    lines.push(JSON.stringify(edge.kind === 'link'
      ? ['l', edge.from, edge.to, edge.identifierType, edge.owner, edge.firstSeenMs, edge.lastSeenMs]
      : ['t', edge.from, edge.to, edge.transfers.map((transfer) => [transfer.transferId, transfer.amountMinor, transfer.eventTimeMs])]))
  }
  for (const round of contents.rounds) {
    lines.push(JSON.stringify(['r', round.tableId, round.roundId, round.bets.map((bet) => [bet.betId, bet.playerId, bet.side, bet.amountMinor, bet.resultMinor, bet.eventTimeMs])]))
  }
  const parent = contents.unionFindParent
  lines.push(JSON.stringify(['u', Buffer.from(parent.buffer, parent.byteOffset, parent.byteLength).toString('base64')]))
  lines.push(JSON.stringify(['d', contents.dirty]))
  lines.push(JSON.stringify(['x', contents.needsRebuild]))
  lines.push(JSON.stringify(['e', contents.removedPlayers]))
  for (const { playerId, ...state } of contents.computed) lines.push(JSON.stringify(['c', playerId, state]))
  for (const { clusterId, alerts } of contents.alerts) lines.push(JSON.stringify(['a', clusterId, alerts]))
  // Join in chunks: one string per ~64k lines keeps each under V8's string limit at any scale.
  const chunks: Buffer[] = []
  for (let start = 0; start < lines.length; start += 65_536) chunks.push(Buffer.from(`${lines.slice(start, start + 65_536).join('\n')}\n`, 'utf8'))
  return Buffer.concat(chunks)
}

const corrupt = (message: string, line: number): RiskError =>
  new RiskError('RISK_ERR_STATE_CORRUPT', `graph snapshot line ${line}: ${message}; rebuild the graph by replaying risk.links.v1`, { line })

export function decodeSnapshot(buffer: Buffer): SnapshotContents {
  const contents: SnapshotContents = { paramsFingerprint: '', streamTimeMs: 0, nodes: [], edges: [], rounds: [], unionFindParent: new Int32Array(0), dirty: [], needsRebuild: [], removedPlayers: [], computed: [], alerts: [] }
  let lineNumber = 0
  let start = 0
  let sawHeader = false
  let sawParents = false
  while (start < buffer.length) {
    let end = buffer.indexOf(10, start)
    if (end === -1) end = buffer.length
    const text = buffer.toString('utf8', start, end)
    start = end + 1
    lineNumber++
    if (text.length === 0) continue
    let record: unknown
    try { record = JSON.parse(text) } catch (error) { throw Object.assign(corrupt('not JSON', lineNumber), { cause: error }) }
    if (!sawHeader) {
      const header = record as { format?: unknown; version?: unknown; paramsFingerprint?: unknown; streamTimeMs?: unknown }
      if (header.format !== SNAPSHOT_FORMAT || header.version !== SNAPSHOT_VERSION) throw corrupt(`expected ${SNAPSHOT_FORMAT} version ${SNAPSHOT_VERSION}`, lineNumber)
      contents.paramsFingerprint = String(header.paramsFingerprint)
      contents.streamTimeMs = Number(header.streamTimeMs)
      sawHeader = true
      continue
    }
    if (!Array.isArray(record)) throw corrupt('expected a record array', lineNumber)
    const [tag, ...fields] = record as [string, ...unknown[]]
    switch (tag) {
      case 'n': contents.nodes.push(fields[0] as SnapshotContents['nodes'][number]); break
      case 'l': {
        const [from, to, identifierType, owner, firstSeenMs, lastSeenMs] = fields as [number, number, IdentifierType, boolean, number, number]
        contents.edges.push({ kind: 'link', from, to, identifierType, owner, firstSeenMs, lastSeenMs })
        break
      }
      case 't': {
        const [from, to, transfers] = fields as [number, number, Array<[string, number, number]>]
        contents.edges.push({ kind: 'transfer', from, to, transfers: transfers.map(([transferId, amountMinor, eventTimeMs]) => ({ transferId, amountMinor, eventTimeMs })) })
        break
      }
      case 'r': {
        const [tableId, roundId, bets] = fields as [string, string, Array<[string, string, string, number, number, number]>]
        contents.rounds.push({ tableId, roundId, bets: bets.map(([betId, playerId, side, amountMinor, resultMinor, eventTimeMs]) => ({ betId, playerId, side, amountMinor, resultMinor, eventTimeMs })) })
        break
      }
      case 'u': {
        const bytes = Buffer.from(fields[0] as string, 'base64')
        const parent = new Int32Array(bytes.length / 4)
        Buffer.from(parent.buffer).set(bytes)
        contents.unionFindParent = parent
        sawParents = true
        break
      }
      case 'd': contents.dirty = fields[0] as number[]; break
      case 'x': contents.needsRebuild = fields[0] as number[]; break
      case 'e': contents.removedPlayers = fields[0] as string[]; break
      case 'c': contents.computed.push({ playerId: fields[0] as string, ...(fields[1] as Omit<SnapshotContents['computed'][number], 'playerId'>) }); break
      case 'a': contents.alerts.push({ clusterId: fields[0] as string, alerts: fields[1] as ClusterAlert[] }); break
      default: throw corrupt(`unknown record tag ${JSON.stringify(tag)}`, lineNumber)
    }
  }
  if (!sawHeader) throw corrupt('empty snapshot', 0)
  if (!sawParents || contents.unionFindParent.length !== contents.nodes.length) throw corrupt('union-find parents missing or not one per node', lineNumber)
  return contents
}
