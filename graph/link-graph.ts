/**
 * The link graph (issue 5): players and identifiers as nodes of a graphology graph, undirected
 * link edges player–identifier, directed transfer edges player→player weighted by money;
 * connected components kept incrementally with union-find; Louvain communities, risk
 * propagation and typologies recomputed for changed components when the worker calls
 * `recompute()`. No wall clock: expiry and stream time come from event times.
 *
 * Example:
 *   const graph = new LinkGraph({ farm: { minAccounts: 3 } })
 *   for (const playerId of ['p1', 'p2', 'p3']) graph.addLink({ playerId, identifierType: 'device', identifier: 'fp:1', eventTimeMs: 1_000 })
 *   graph.setPlayerFlags('p1', { sanctioned: true })
 *   const { changedPlayerIds, alerts } = graph.recompute()   // alerts: one multi_account_farm
 *   graph.clusterOf('p3') // { clusterId: 'cmp:p1', size: 3, risk: 0.8..., typologies: ['multi_account_farm'], ... }
 *   const restored = LinkGraph.restore(graph.snapshot())      // same clusters
 *
 * Removals and expiry: union-find cannot split, so `expire()` (called by `recompute()`) drops
 * links, transfers and bets older than their TTL relative to stream time (the highest event
 * time seen), marks the touched components for rebuild, and `recompute()` re-forms those
 * components from the remaining edges before recomputing them. `removePlayer()` (erasure) does
 * the same for one player.
 */
import graphologyModule from 'graphology'
import type { AbstractGraph } from 'graphology-types'
import { RiskError } from '../core/errors.js'
import { louvainCommunities } from './communities.js'
import type { BetRecord, ComponentView, GraphReader, PlayerIdentifier, RoundBets, TransferEdge, TransferRecord } from './graph-reader.js'
import { resolveGraphParams, type GraphParams, type GraphParamsInput } from './params.js'
import { buildProjection } from './projection.js'
import { personalizedPageRank } from './risk-propagation.js'
import { hashString } from '../core/seeded-random.js'
import { decodeSnapshot, encodeSnapshot, type SnapshotContents } from './snapshot.js'
import { runTypologies } from './typologies/index.js'
import { IDENTIFIER_TYPES, type BetEvent, type ClusterAlert, type ClusterSummary, type IdentifierType, type LinkEvent, type PlayerFlags, type SharedIdentifier, type TransferEvent, type TypologyId } from './types.js'
import { UnionFind } from './union-find.js'

interface PlayerNode { kind: 'player'; index: number; playerId: string; flags: PlayerFlags }
interface IdentifierNode { kind: 'identifier'; index: number; identifierType: IdentifierType; identifier: string }
type NodeAttributes = PlayerNode | IdentifierNode
interface LinkEdgeAttributes { kind: 'link'; identifierType: IdentifierType; owner: boolean; firstSeenMs: number; lastSeenMs: number }
interface TransferEdgeAttributes { kind: 'transfer'; totalAmountMinor: number; transfers: TransferRecord[] }
type EdgeAttributes = LinkEdgeAttributes | TransferEdgeAttributes

interface PlayerComputed {
  clusterId: string
  communityId: string | null
  communitySize: number
  risk: number
  typologies: TypologyId[]
  computedAtMs: number
}

/** What one recompute changed; the worker publishes `clusterOf` for each changed player and the alerts. */
export interface RecomputeResult {
  readonly componentsRecomputed: number
  /** Sorted; includes players whose component split, merged or was re-scored, and erased players. */
  readonly changedPlayerIds: readonly string[]
  /** Alerts of the recomputed components (the full current set for them, ids are stable). */
  readonly alerts: readonly ClusterAlert[]
  readonly expired: { readonly links: number; readonly transfers: number; readonly bets: number; readonly identifiers: number }
  /** Cycle searches cut short by `cycle.maxExpansionsPerStart`. */
  readonly truncatedCycleSearches: number
}

export interface GraphCounts { readonly players: number; readonly identifiers: number; readonly links: number; readonly transferEdges: number; readonly transfers: number; readonly rounds: number }

// graphology's typings are read as CommonJS under NodeNext; at run time the ESM build's default is the class.
type GraphClass = typeof graphologyModule.default
const Graph = ((graphologyModule as unknown as { default?: GraphClass }).default ?? graphologyModule) as GraphClass

const playerKey = (playerId: string): string => `p:${playerId}`
const identifierKey = (identifierType: IdentifierType, identifier: string): string => `i:${identifierType}:${identifier}`
const identifierTypes = new Set<string>(IDENTIFIER_TYPES)
const roundKeyOf = (tableId: string, roundId: string): string => `${tableId}\u0000${roundId}`

function requireText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RiskError('RISK_ERR_INVALID_FIELD', `${field} must be a non-empty string`, { field })
  }
}
function requireTime(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RiskError('RISK_ERR_INVALID_FIELD', `${field} must be a non-negative integer of milliseconds`, { field })
  }
}
function requireAmount(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RiskError('RISK_ERR_INVALID_FIELD', `${field} must be a non-negative integer of minor units`, { field })
  }
}

export class LinkGraph implements GraphReader {
  readonly params: GraphParams
  private readonly graph: AbstractGraph<NodeAttributes, EdgeAttributes> = new Graph<NodeAttributes, EdgeAttributes>({ type: 'mixed', multi: false, allowSelfLoops: false })
  private components = new UnionFind()
  /** Node key by union-find index; null once the node is removed. */
  private keyOfIndex: Array<string | null> = []
  private readonly rounds = new Map<string, { tableId: string; roundId: string; bets: BetRecord[] }>()
  private readonly roundsByPlayer = new Map<string, Set<string>>()
  private readonly dirty = new Set<number>()
  private readonly needsRebuild = new Set<number>()
  /** Erased since the last recompute: reported as changed (their summaries are to be deleted). */
  private readonly removedPlayers = new Set<string>()
  private readonly computed = new Map<string, PlayerComputed>()
  private readonly alertsByCluster = new Map<string, ClusterAlert[]>()
  private streamTime = 0
  /** Transfer lists per player while a recompute runs (typologies ask for the same ones often). */
  private transferCache: Map<string, TransferEdge[]> | null = null

  constructor(params: GraphParamsInput = {}) {
    this.params = resolveGraphParams(params)
  }

  /** Highest event time seen: the clock expiry runs on. */
  get streamTimeMs(): number { return this.streamTime }

  counts(): GraphCounts {
    let players = 0, identifiers = 0, links = 0, transferEdges = 0, transfers = 0
    this.graph.forEachNode((_key, attributes) => { if (attributes.kind === 'player') players++; else identifiers++ })
    this.graph.forEachEdge((_key, attributes) => {
      if (attributes.kind === 'link') links++
      else { transferEdges++; transfers += attributes.transfers.length }
    })
    return { players, identifiers, links, transferEdges, transfers, rounds: this.rounds.size }
  }

  // ---- input ----------------------------------------------------------------------------

  /** Links a player to an identifier; idempotent (a repeat only moves lastSeen forward). */
  addLink(event: LinkEvent): void {
    requireText(event.playerId, 'playerId')
    requireText(event.identifier, 'identifier')
    requireTime(event.eventTimeMs, 'eventTimeMs')
    if (!identifierTypes.has(event.identifierType)) {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `identifierType must be one of ${IDENTIFIER_TYPES.join(', ')}, got ${String(event.identifierType)}`, { field: 'identifierType' })
    }
    this.observe(event.eventTimeMs)
    const player = this.ensurePlayer(event.playerId)
    const identifierNode = this.ensureIdentifier(event.identifierType, event.identifier)
    this.touchLink(player, identifierNode, event.identifierType, false, event.eventTimeMs)
    if (event.identifierType === 'referrer' && event.identifier !== event.playerId) {
      // The referral code belongs to the referrer: link its owner too, so referrer and referees are one component.
      this.touchLink(this.ensurePlayer(event.identifier), identifierNode, 'referrer', true, event.eventTimeMs)
    }
  }

  /** Adds a transfer; a transferId already on the edge is ignored (replay after restore). */
  addTransfer(event: TransferEvent): void {
    requireText(event.transferId, 'transferId')
    requireText(event.fromPlayerId, 'fromPlayerId')
    requireText(event.toPlayerId, 'toPlayerId')
    requireAmount(event.amountMinor, 'amountMinor')
    requireTime(event.eventTimeMs, 'eventTimeMs')
    this.observe(event.eventTimeMs)
    const from = this.ensurePlayer(event.fromPlayerId)
    const to = this.ensurePlayer(event.toPlayerId)
    if (from === to) return // a self-transfer links nothing and moves no money between accounts
    const existing = this.graph.directedEdge(from, to)
    const record: TransferRecord = { transferId: event.transferId, amountMinor: event.amountMinor, eventTimeMs: event.eventTimeMs }
    if (existing === undefined) {
      this.graph.addDirectedEdge(from, to, { kind: 'transfer', totalAmountMinor: event.amountMinor, transfers: [record] })
    } else {
      const attributes = this.graph.getEdgeAttributes(existing) as TransferEdgeAttributes
      if (attributes.transfers.some((transfer) => transfer.transferId === event.transferId)) return
      attributes.totalAmountMinor += event.amountMinor
      insertByTime(attributes.transfers, record)
    }
    this.join(from, to)
  }

  /** Records a settled bet at a live table; a betId already in the round is ignored. */
  addBet(event: BetEvent): void {
    requireText(event.betId, 'betId')
    requireText(event.playerId, 'playerId')
    requireText(event.tableId, 'tableId')
    requireText(event.roundId, 'roundId')
    requireText(event.side, 'side')
    requireAmount(event.amountMinor, 'amountMinor')
    requireTime(event.eventTimeMs, 'eventTimeMs')
    if (!Number.isSafeInteger(event.resultMinor)) throw new RiskError('RISK_ERR_INVALID_FIELD', 'resultMinor must be an integer of minor units', { field: 'resultMinor' })
    this.observe(event.eventTimeMs)
    const player = this.ensurePlayer(event.playerId)
    const key = roundKeyOf(event.tableId, event.roundId)
    const round = this.rounds.get(key) ?? { tableId: event.tableId, roundId: event.roundId, bets: [] }
    if (round.bets.some((bet) => bet.betId === event.betId)) return
    round.bets.push({ betId: event.betId, playerId: event.playerId, side: event.side, amountMinor: event.amountMinor, resultMinor: event.resultMinor, eventTimeMs: event.eventTimeMs })
    this.rounds.set(key, round)
    const playerRounds = this.roundsByPlayer.get(event.playerId) ?? new Set<string>()
    playerRounds.add(key)
    this.roundsByPlayer.set(event.playerId, playerRounds)
    this.dirty.add(this.indexOf(player))
  }

  /** Merges flags (flagged, sanctioned, chargedBack, bonusClaimed) into the player. */
  setPlayerFlags(playerId: string, flags: PlayerFlags): void {
    requireText(playerId, 'playerId')
    const key = this.ensurePlayer(playerId)
    const attributes = this.graph.getNodeAttributes(key) as PlayerNode
    attributes.flags = { ...attributes.flags, ...flags }
    this.dirty.add(attributes.index)
  }

  /** Erases a player (e.g. a data-erasure request): its node, links, transfers and bets go. */
  removePlayer(playerId: string): void {
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) return
    const index = this.indexOf(key)
    this.graph.forEachNeighbor(key, (neighbour) => this.needsRebuild.add(this.indexOf(neighbour)))
    this.needsRebuild.add(index)
    for (const roundKey of this.roundsByPlayer.get(playerId) ?? []) {
      const round = this.rounds.get(roundKey)
      if (round === undefined) continue
      round.bets = round.bets.filter((bet) => bet.playerId !== playerId)
      if (round.bets.length === 0) this.rounds.delete(roundKey)
    }
    this.roundsByPlayer.delete(playerId)
    this.graph.dropNode(key)
    this.keyOfIndex[index] = null
    this.removedPlayers.add(playerId)
    this.dropOrphanIdentifiers()
  }

  // ---- expiry and recompute ---------------------------------------------------------------

  /**
   * Drops links, transfers and bets older than their TTL before `nowMs` (default: stream time)
   * and marks their components for rebuild. Called by recompute(); O(edges + rounds).
   */
  expire(nowMs: number = this.streamTime): { links: number; transfers: number; bets: number; identifiers: number } {
    const linkCutoff = nowMs - this.params.linkTtlMs
    const transferCutoff = nowMs - this.params.transferTtlMs
    const betCutoff = nowMs - this.params.betTtlMs
    let links = 0, transfers = 0, bets = 0
    const dropped: string[] = []
    this.graph.forEachEdge((edge, attributes, source, target) => {
      if (attributes.kind === 'link') {
        if (attributes.lastSeenMs >= linkCutoff) return
        links++
        dropped.push(edge)
      } else {
        const kept = attributes.transfers.filter((transfer) => transfer.eventTimeMs >= transferCutoff)
        if (kept.length === attributes.transfers.length) return
        transfers += attributes.transfers.length - kept.length
        attributes.transfers = kept
        attributes.totalAmountMinor = kept.reduce((sum, transfer) => sum + transfer.amountMinor, 0)
        if (kept.length > 0) { this.dirty.add(this.indexOf(source)); return }
        dropped.push(edge)
      }
      this.needsRebuild.add(this.indexOf(source))
      this.needsRebuild.add(this.indexOf(target))
    })
    for (const edge of dropped) this.graph.dropEdge(edge)
    for (const [roundKey, round] of this.rounds) {
      const kept = round.bets.filter((bet) => bet.eventTimeMs >= betCutoff)
      if (kept.length === round.bets.length) continue
      bets += round.bets.length - kept.length
      for (const bet of round.bets) {
        if (bet.eventTimeMs >= betCutoff) continue
        this.roundsByPlayer.get(bet.playerId)?.delete(roundKey)
        if (this.graph.hasNode(playerKey(bet.playerId))) this.dirty.add(this.indexOf(playerKey(bet.playerId)))
      }
      if (kept.length === 0) this.rounds.delete(roundKey)
      else round.bets = kept
    }
    const identifiers = this.dropOrphanIdentifiers()
    return { links, transfers, bets, identifiers }
  }

  /**
   * Expires old evidence, rebuilds components that lost edges, then for every changed component
   * recomputes Louvain communities (seeded), risk (personalized PageRank) and typologies.
   * Deterministic for the same params and input, whatever order the input arrived in.
   */
  recompute(): RecomputeResult {
    const expired = this.expire()
    const roots = new Set<number>()
    // Rebuild components that lost edges or nodes: union-find cannot split.
    const rebuildRoots = new Set<number>()
    for (const index of this.needsRebuild) rebuildRoots.add(this.components.find(index))
    const changedPlayers = new Set<string>()
    for (const root of rebuildRoots) {
      const members = [...this.components.membersOf(root)]
      for (const member of members) {
        const key = this.keyOfIndex[member]
        if (key === null || key === undefined) continue
        if (key.startsWith('p:')) changedPlayers.add(key.slice(2))
      }
      for (const newRoot of this.components.rebuild(members, (index) => this.playerIdOfIndex(index), (index) => this.keyOfIndex[index] != null,
        (index, visit) => this.graph.forEachNeighbor(this.keyOfIndex[index] as string, (neighbour) => visit(this.indexOf(neighbour))))) {
        roots.add(newRoot)
      }
    }
    for (const index of this.dirty) if (this.keyOfIndex[index] != null) roots.add(this.components.find(index))
    this.needsRebuild.clear()
    this.dirty.clear()

    // Players that left (erased) lose their computed state.
    for (const playerId of this.removedPlayers) {
      changedPlayers.add(playerId)
      if (!this.graph.hasNode(playerKey(playerId))) this.forgetPlayer(playerId)
    }
    this.removedPlayers.clear()

    const ordered = [...roots].map((root) => ({ root, clusterId: this.clusterIdOf(root) })).sort((left, right) => (left.clusterId < right.clusterId ? -1 : 1))
    // Alerts filed under the previous ids of these players' components go first: a merged or
    // split component is filed again under its new id below.
    for (const { root } of ordered) {
      for (const playerId of this.playersOfRoot(root)) {
        const previous = this.computed.get(playerId)
        if (previous !== undefined) this.alertsByCluster.delete(previous.clusterId)
      }
    }
    const alerts: ClusterAlert[] = []
    const stats = { truncatedStarts: 0 }
    this.transferCache = new Map()
    try {
      for (const { root, clusterId } of ordered) {
        const result = this.recomputeComponent(root, clusterId, stats)
        for (const playerId of result.playerIds) changedPlayers.add(playerId)
        alerts.push(...result.alerts)
      }
    } finally {
      this.transferCache = null
    }
    return {
      componentsRecomputed: ordered.length,
      changedPlayerIds: [...changedPlayers].sort(),
      alerts,
      expired,
      truncatedCycleSearches: stats.truncatedStarts,
    }
  }

  // ---- output ---------------------------------------------------------------------------

  /** The summary to publish for a player, or null for an unknown player. */
  clusterOf(playerId: string): ClusterSummary | null {
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) return null
    const index = this.indexOf(key)
    const clusterId = this.clusterIdOf(index)
    const computed = this.computed.get(playerId)
    const stale = computed === undefined || computed.clusterId !== clusterId || this.isPending(index)
    return {
      playerId,
      clusterId,
      size: this.components.playerCountOf(index),
      communityId: computed?.communityId ?? null,
      communitySize: computed?.communitySize ?? 0,
      sharedIdentifiers: this.sharedIdentifiersOf(playerId),
      risk: computed?.risk ?? 0,
      typologies: computed?.typologies ?? [],
      stale,
      computedAtMs: computed?.computedAtMs ?? null,
    }
  }

  /** Current alerts of the cluster (as of the last recompute that covered it). */
  alertsOf(clusterId: string): readonly ClusterAlert[] {
    return this.alertsByCluster.get(clusterId) ?? []
  }

  /** Every current alert, by cluster id then alert order. */
  allAlerts(): ClusterAlert[] {
    return [...this.alertsByCluster.keys()].sort().flatMap((clusterId) => this.alertsByCluster.get(clusterId) as ClusterAlert[])
  }

  /** Players of a component, sorted. */
  membersOf(clusterIdOrPlayerId: string): string[] {
    const playerId = clusterIdOrPlayerId.startsWith('cmp:') ? clusterIdOrPlayerId.slice(4) : clusterIdOrPlayerId
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) return []
    return this.playersOfRoot(this.components.find(this.indexOf(key)))
  }

  // ---- GraphReader (for typologies) -----------------------------------------------------

  identifiersOf(playerId: string): readonly PlayerIdentifier[] {
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) return []
    const found: PlayerIdentifier[] = []
    this.graph.forEachUndirectedEdge(key, (_edge, attributes, source, target) => {
      const other = this.graph.getNodeAttributes(source === key ? target : source) as IdentifierNode
      const link = attributes as LinkEdgeAttributes
      found.push({ identifierType: other.identifierType, identifier: other.identifier, owner: link.owner, lastSeenMs: link.lastSeenMs })
    })
    return found.sort((left, right) => compareText(`${left.identifierType}:${left.identifier}`, `${right.identifierType}:${right.identifier}`))
  }

  playersOf(identifierType: IdentifierType, identifier: string): ReadonlyArray<{ playerId: string; owner: boolean }> {
    const key = identifierKey(identifierType, identifier)
    if (!this.graph.hasNode(key)) return []
    const found: Array<{ playerId: string; owner: boolean }> = []
    this.graph.forEachUndirectedEdge(key, (_edge, attributes, source, target) => {
      const other = this.graph.getNodeAttributes(source === key ? target : source) as PlayerNode
      found.push({ playerId: other.playerId, owner: (attributes as LinkEdgeAttributes).owner })
    })
    return found.sort((left, right) => compareText(left.playerId, right.playerId))
  }

  transfersOut(playerId: string): readonly TransferEdge[] { return this.transferEdges(playerId, 'out') }
  transfersIn(playerId: string): readonly TransferEdge[] { return this.transferEdges(playerId, 'in') }

  flagsOf(playerId: string): PlayerFlags {
    const key = playerKey(playerId)
    return this.graph.hasNode(key) ? (this.graph.getNodeAttributes(key) as PlayerNode).flags : {}
  }

  roundsOf(playerId: string): readonly RoundBets[] {
    const keys = [...(this.roundsByPlayer.get(playerId) ?? [])].sort()
    return keys.map((key) => this.rounds.get(key)).filter((round): round is RoundBets & { bets: BetRecord[] } => round !== undefined)
  }

  // ---- persistence ----------------------------------------------------------------------

  /** The whole state as JSON lines (see snapshot.ts); store it anywhere (RocksDB later). */
  snapshot(): Buffer {
    const nodes: SnapshotContents['nodes'] = this.keyOfIndex.map((key) => {
      if (key === null || !this.graph.hasNode(key)) return null
      const attributes = this.graph.getNodeAttributes(key)
      return attributes.kind === 'player'
        ? { kind: 'player', playerId: attributes.playerId, flags: attributes.flags }
        : { kind: 'identifier', identifierType: attributes.identifierType, identifier: attributes.identifier }
    })
    const edges: SnapshotContents['edges'] = []
    this.graph.forEachEdge((_edge, attributes, source, target) => {
      const from = this.indexOf(source)
      const to = this.indexOf(target)
      if (attributes.kind === 'link') edges.push({ kind: 'link', from, to, identifierType: attributes.identifierType, owner: attributes.owner, firstSeenMs: attributes.firstSeenMs, lastSeenMs: attributes.lastSeenMs })
      else edges.push({ kind: 'transfer', from, to, transfers: attributes.transfers })
    })
    return encodeSnapshot({
      paramsFingerprint: this.paramsFingerprint(),
      streamTimeMs: this.streamTime,
      nodes,
      edges,
      rounds: [...this.rounds.values()],
      unionFindParent: this.components.exportState().parent,
      dirty: [...this.dirty],
      needsRebuild: [...this.needsRebuild],
      removedPlayers: [...this.removedPlayers],
      computed: [...this.computed.entries()].map(([playerId, state]) => ({ playerId, ...state })),
      alerts: [...this.alertsByCluster.entries()].map(([clusterId, alerts]) => ({ clusterId, alerts })),
    })
  }

  /**
   * Rebuilds a graph from snapshot(). With other params than the snapshot's, every component is
   * marked changed so the next recompute applies the new thresholds.
   */
  static restore(buffer: Buffer, params: GraphParamsInput = {}): LinkGraph {
    const contents = decodeSnapshot(buffer)
    const restored = new LinkGraph(params)
    restored.streamTime = contents.streamTimeMs
    contents.nodes.forEach((node, index) => {
      if (node === null) { restored.keyOfIndex[index] = null; return }
      const key = node.kind === 'player' ? playerKey(node.playerId) : identifierKey(node.identifierType, node.identifier)
      restored.keyOfIndex[index] = key
      restored.graph.addNode(key, node.kind === 'player'
        ? { kind: 'player', index, playerId: node.playerId, flags: node.flags }
        : { kind: 'identifier', index, identifierType: node.identifierType, identifier: node.identifier })
    })
    const keyAt = (index: number): string => {
      const key = restored.keyOfIndex[index]
      if (key == null) throw new RiskError('RISK_ERR_STATE_CORRUPT', `graph snapshot names removed node ${index} in an edge; take a new snapshot`, { index })
      return key
    }
    for (const edge of contents.edges) {
      if (edge.kind === 'link') restored.graph.addUndirectedEdge(keyAt(edge.from), keyAt(edge.to), { kind: 'link', identifierType: edge.identifierType, owner: edge.owner, firstSeenMs: edge.firstSeenMs, lastSeenMs: edge.lastSeenMs })
      else restored.graph.addDirectedEdge(keyAt(edge.from), keyAt(edge.to), { kind: 'transfer', transfers: [...edge.transfers], totalAmountMinor: edge.transfers.reduce((sum, transfer) => sum + transfer.amountMinor, 0) })
    }
    for (const round of contents.rounds) {
      const key = roundKeyOf(round.tableId, round.roundId)
      restored.rounds.set(key, { tableId: round.tableId, roundId: round.roundId, bets: [...round.bets] })
      for (const bet of round.bets) {
        const playerRounds = restored.roundsByPlayer.get(bet.playerId) ?? new Set<string>()
        playerRounds.add(key)
        restored.roundsByPlayer.set(bet.playerId, playerRounds)
      }
    }
    restored.components = UnionFind.restore(contents.unionFindParent, (index) => restored.playerIdOfIndex(index))
    for (const index of contents.dirty) restored.dirty.add(index)
    for (const index of contents.needsRebuild) restored.needsRebuild.add(index)
    for (const playerId of contents.removedPlayers) restored.removedPlayers.add(playerId)
    for (const { playerId, ...state } of contents.computed) restored.computed.set(playerId, state)
    for (const { clusterId, alerts } of contents.alerts) restored.alertsByCluster.set(clusterId, alerts)
    if (contents.paramsFingerprint !== restored.paramsFingerprint()) {
      restored.keyOfIndex.forEach((key, index) => { if (key != null) restored.dirty.add(index) })
    }
    return restored
  }

  // ---- internals ------------------------------------------------------------------------

  private observe(eventTimeMs: number): void {
    if (eventTimeMs > this.streamTime) this.streamTime = eventTimeMs
  }

  private ensurePlayer(playerId: string): string {
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) {
      const index = this.components.add(playerId)
      this.keyOfIndex[index] = key
      this.graph.addNode(key, { kind: 'player', index, playerId, flags: {} })
      this.dirty.add(index)
    }
    return key
  }

  private ensureIdentifier(identifierType: IdentifierType, identifier: string): string {
    const key = identifierKey(identifierType, identifier)
    if (!this.graph.hasNode(key)) {
      const index = this.components.add(null)
      this.keyOfIndex[index] = key
      this.graph.addNode(key, { kind: 'identifier', index, identifierType, identifier })
    }
    return key
  }

  private touchLink(player: string, identifierNode: string, identifierType: IdentifierType, owner: boolean, eventTimeMs: number): void {
    const existing = this.graph.undirectedEdge(player, identifierNode)
    if (existing !== undefined) {
      const attributes = this.graph.getEdgeAttributes(existing) as LinkEdgeAttributes
      if (eventTimeMs > attributes.lastSeenMs) attributes.lastSeenMs = eventTimeMs
      if (eventTimeMs < attributes.firstSeenMs) attributes.firstSeenMs = eventTimeMs
      return
    }
    this.graph.addUndirectedEdge(player, identifierNode, { kind: 'link', identifierType, owner, firstSeenMs: eventTimeMs, lastSeenMs: eventTimeMs })
    this.join(player, identifierNode)
  }

  private join(left: string, right: string): void {
    const leftIndex = this.indexOf(left)
    const root = this.components.union(leftIndex, this.indexOf(right))
    // Both sides' results are now out of date; one member is enough to find the root later.
    this.dirty.add(root === -1 ? leftIndex : root)
  }

  private indexOf(key: string): number {
    return (this.graph.getNodeAttributes(key) as NodeAttributes).index
  }

  private playerIdOfIndex(index: number): string | null {
    const key = this.keyOfIndex[index]
    return key != null && key.startsWith('p:') ? key.slice(2) : null
  }

  private clusterIdOf(index: number): string {
    const smallest = this.components.smallestPlayerOf(index)
    return smallest === null ? `cmp:${this.keyOfIndex[this.components.find(index)] ?? index}` : `cmp:${smallest}`
  }

  private isPending(index: number): boolean {
    const root = this.components.find(index)
    for (const pending of this.dirty) if (this.components.find(pending) === root) return true
    for (const pending of this.needsRebuild) if (this.components.find(pending) === root) return true
    return false
  }

  private playersOfRoot(root: number): string[] {
    const players: string[] = []
    for (const member of this.components.membersOf(root)) {
      const playerId = this.playerIdOfIndex(member)
      if (playerId !== null) players.push(playerId)
    }
    return players.sort(compareText)
  }

  private dropOrphanIdentifiers(): number {
    let dropped = 0
    const orphans: string[] = []
    this.graph.forEachNode((key, attributes) => { if (attributes.kind === 'identifier' && this.graph.degree(key) === 0) orphans.push(key) })
    for (const key of orphans) {
      const index = this.indexOf(key)
      this.graph.dropNode(key)
      this.keyOfIndex[index] = null
      this.needsRebuild.add(index)
      dropped++
    }
    return dropped
  }

  private forgetPlayer(playerId: string): void {
    const previous = this.computed.get(playerId)
    if (previous !== undefined) this.alertsByCluster.delete(previous.clusterId)
    this.computed.delete(playerId)
  }

  private sharedIdentifiersOf(playerId: string): SharedIdentifier[] {
    const shared: SharedIdentifier[] = []
    for (const held of this.identifiersOf(playerId)) {
      const playerCount = this.graph.undirectedDegree(identifierKey(held.identifierType, held.identifier))
      if (playerCount >= 2) shared.push({ identifierType: held.identifierType, identifier: held.identifier, playerCount })
    }
    return shared
  }

  private transferEdges(playerId: string, direction: 'in' | 'out'): TransferEdge[] {
    const cacheKey = `${direction}:${playerId}`
    const cached = this.transferCache?.get(cacheKey)
    if (cached !== undefined) return cached
    const key = playerKey(playerId)
    if (!this.graph.hasNode(key)) return []
    const edges: TransferEdge[] = []
    const visit = (_edge: string, attributes: EdgeAttributes, source: string, target: string): void => {
      const other = direction === 'out' ? target : source
      edges.push({ counterpartyId: other.slice(2), transfers: (attributes as TransferEdgeAttributes).transfers })
    }
    if (direction === 'out') this.graph.forEachOutEdge(key, visit)
    else this.graph.forEachInEdge(key, visit)
    edges.sort((left, right) => compareText(left.counterpartyId, right.counterpartyId))
    this.transferCache?.set(cacheKey, edges)
    return edges
  }

  private paramsFingerprint(): string {
    return hashString(JSON.stringify(this.params)).toString(16)
  }

  private recomputeComponent(root: number, clusterId: string, stats: { truncatedStarts: number }): { playerIds: string[]; alerts: ClusterAlert[] } {
    const memberKeys: string[] = []
    for (const member of this.components.membersOf(root)) {
      const key = this.keyOfIndex[member]
      if (key != null) memberKeys.push(key)
    }
    const projection = buildProjection(memberKeys, (visit) => {
      for (const key of memberKeys) {
        this.graph.forEachOutboundEdge(key, (_edge, attributes, source, target) => {
          if (source !== key) return // undirected edges show up from both ends: take each once
          const weight = attributes.kind === 'link' ? this.params.linkWeights[attributes.identifierType]
            // Money weighs by its logarithm so one large transfer does not swallow a community.
            : 1 + Math.log10(1 + attributes.totalAmountMinor / 100)
          visit(source, target, weight)
        })
      }
    })
    const keys = projection.keys
    const communities = louvainCommunities(projection, { seed: this.params.seed, resolution: this.params.louvain.resolution, componentId: clusterId })
    const seeds = new Float64Array(keys.length)
    const riskParams = this.params.risk
    keys.forEach((key, position) => {
      if (!key.startsWith('p:')) return
      const flags = (this.graph.getNodeAttributes(key) as PlayerNode).flags
      seeds[position] = Math.max(flags.sanctioned === true ? riskParams.sanctionedWeight : 0, flags.flagged === true ? riskParams.flaggedWeight : 0,
        flags.chargedBack === true ? riskParams.chargedBackWeight : 0)
    })
    const risk = personalizedPageRank(projection, seeds, riskParams)

    // Community names and sizes count players only.
    const communityName = new Map<number, string>()
    const communitySize = new Map<number, number>()
    const playerIds: string[] = []
    keys.forEach((key, position) => {
      if (!key.startsWith('p:')) return
      const playerId = key.slice(2)
      playerIds.push(playerId)
      const community = communities[position] as number
      communitySize.set(community, (communitySize.get(community) ?? 0) + 1)
      if (!communityName.has(community)) communityName.set(community, `com:${playerId}`) // keys are sorted: first is smallest
    })

    const view: ComponentView = { clusterId, playerIds, reader: this }
    const alerts = runTypologies(view, this.params, stats)
    const typologiesByPlayer = new Map<string, Set<TypologyId>>()
    for (const alert of alerts) {
      for (const playerId of alert.playerIds) {
        const set = typologiesByPlayer.get(playerId) ?? new Set<TypologyId>()
        set.add(alert.typology)
        typologiesByPlayer.set(playerId, set)
      }
    }
    if (alerts.length > 0) this.alertsByCluster.set(clusterId, alerts)
    keys.forEach((key, position) => {
      if (!key.startsWith('p:')) return
      const playerId = key.slice(2)
      const community = communities[position] as number
      this.computed.set(playerId, {
        clusterId,
        communityId: communityName.get(community) ?? null,
        communitySize: communitySize.get(community) ?? 0,
        risk: risk[position] as number,
        typologies: [...(typologiesByPlayer.get(playerId) ?? [])].sort(),
        computedAtMs: this.streamTime,
      })
    })
    return { playerIds, alerts }
  }
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}

function insertByTime(transfers: TransferRecord[], record: TransferRecord): void {
  let position = transfers.length
  while (position > 0 && (transfers[position - 1] as TransferRecord).eventTimeMs > record.eventTimeMs) position--
  transfers.splice(position, 0, record)
}
