/**
 * Typologies over shared identifiers: multi-account farms, referral rings, bonus-abuse farms.
 * Each takes one component and returns alerts with the players, identifiers and link edges.
 */
import type { ComponentView } from '../graph-reader.js'
import { identifierName } from '../graph-reader.js'
import type { GraphParams } from '../params.js'
import type { ClusterAlert, EvidenceEdge, IdentifierType, SharedIdentifier } from '../types.js'
import { makeAlert } from './alert.js'

interface IdentifierRef { readonly identifierType: IdentifierType; readonly identifier: string }
const refKey = (ref: IdentifierRef): string => identifierName(ref.identifierType, ref.identifier)

/** Identifiers of the given types held by the component's players (referral-code owners excluded), sorted. */
function identifiersInComponent(view: ComponentView, types: readonly IdentifierType[]): IdentifierRef[] {
  const wanted = new Set(types)
  const found = new Map<string, IdentifierRef>()
  for (const playerId of view.playerIds) {
    for (const held of view.reader.identifiersOf(playerId)) {
      if (!wanted.has(held.identifierType)) continue
      found.set(refKey(held), { identifierType: held.identifierType, identifier: held.identifier })
    }
  }
  return [...found.entries()].sort(([left], [right]) => (left < right ? -1 : 1)).map(([, ref]) => ref)
}

const linkEdge = (playerId: string, ref: IdentifierRef): EvidenceEdge => ({ kind: 'link', from: playerId, to: refKey(ref), reference: ref.identifierType })

/**
 * Multi-account farm: `farm.minAccounts` (k) or more accounts on one device, card or wallet.
 * Identifiers shared by exactly the same accounts are reported in one alert.
 * Example: p1, p2, p3 on device fp:1 with k = 3 -> one alert naming the three and the device.
 */
export function detectMultiAccountFarms(view: ComponentView, params: GraphParams): ClusterAlert[] {
  const groups = new Map<string, { players: string[]; identifiers: SharedIdentifier[] }>()
  for (const ref of identifiersInComponent(view, params.farm.identifierTypes)) {
    const players = view.reader.playersOf(ref.identifierType, ref.identifier).filter((linked) => !linked.owner).map((linked) => linked.playerId)
    if (players.length < params.farm.minAccounts) continue
    const groupKey = players.join('\u0000')
    const group = groups.get(groupKey) ?? { players, identifiers: [] }
    group.identifiers.push({ ...ref, playerCount: players.length })
    groups.set(groupKey, group)
  }
  const alerts: ClusterAlert[] = []
  for (const { players, identifiers } of groups.values()) {
    const edges = identifiers.flatMap((ref) => players.map((playerId) => linkEdge(playerId, ref)))
    const named = identifiers.map((ref) => refKey(ref)).join(', ')
    alerts.push(makeAlert('multi_account_farm', view.clusterId, players, identifiers, edges,
      `${players.length} accounts share ${named} (threshold ${params.farm.minAccounts})`))
    if (alerts.length >= params.maxAlertsPerTypology) break
  }
  return alerts
}

/**
 * Referral ring: a referrer and its referees that also share a strong identifier (device, card,
 * wallet, email, phone) with the referrer or with each other — the same person referring
 * themselves — at least `referral.minAccounts` of them; or any cycle of referrals (A referred B,
 * B referred A), which no honest sign-up order produces.
 */
export function detectReferralRings(view: ComponentView, params: GraphParams): ClusterAlert[] {
  const alerts: ClusterAlert[] = []
  const strong = new Set(params.referral.strongIdentifierTypes)
  const referrerOf = new Map<string, string>()
  for (const ref of identifiersInComponent(view, ['referrer'])) {
    const linked = view.reader.playersOf('referrer', ref.identifier)
    const owner = linked.find((entry) => entry.owner)?.playerId ?? ref.identifier
    const referees = linked.filter((entry) => !entry.owner).map((entry) => entry.playerId)
    for (const referee of referees) if (!referrerOf.has(referee)) referrerOf.set(referee, owner)
    // Which members of {owner} + referees share a strong identifier with another member.
    const members = new Set([owner, ...referees])
    const ring = new Set<string>()
    const shared = new Map<string, SharedIdentifier>()
    const edges: EvidenceEdge[] = referees.map((referee) => ({ kind: 'referral', from: owner, to: referee, reference: ref.identifier }))
    for (const member of [...members].sort()) {
      for (const held of view.reader.identifiersOf(member)) {
        if (!strong.has(held.identifierType)) continue
        const holders = view.reader.playersOf(held.identifierType, held.identifier).filter((entry) => members.has(entry.playerId))
        if (holders.length < 2) continue
        ring.add(member)
        shared.set(refKey(held), { identifierType: held.identifierType, identifier: held.identifier, playerCount: holders.length })
        edges.push(linkEdge(member, held))
      }
    }
    if (ring.size >= params.referral.minAccounts) {
      alerts.push(makeAlert('referral_ring', view.clusterId, ring, [...shared.values()], edges,
        `${ring.size} accounts in referrer ${ref.identifier}'s referrals share ${[...shared.keys()].join(', ')} (threshold ${params.referral.minAccounts})`))
    }
  }
  // Referral cycles: follow each player's referrer chain.
  const reported = new Set<string>()
  for (const start of [...referrerOf.keys()].sort()) {
    const chain = [start]
    let current = referrerOf.get(start)
    while (current !== undefined && !chain.includes(current) && chain.length <= view.playerIds.length) {
      chain.push(current)
      current = referrerOf.get(current)
    }
    if (current !== start) continue
    const cycleKey = [...chain].sort().join('\u0000')
    if (reported.has(cycleKey)) continue
    reported.add(cycleKey)
    const edges: EvidenceEdge[] = chain.map((referee) => ({ kind: 'referral', from: referrerOf.get(referee) as string, to: referee, reference: referrerOf.get(referee) as string }))
    alerts.push(makeAlert('referral_ring', view.clusterId, chain, [], edges, `referral cycle of ${chain.length} accounts: ${chain.join(' <- ')}`))
  }
  return alerts.slice(0, params.maxAlertsPerTypology)
}

/**
 * Bonus-abuse farm: at least `bonusFarm.minAccounts` bonus claimers joined to each other through
 * identifiers of `bonusFarm.linkTypes` (an IP block alone is a shared office or a carrier NAT,
 * not a farm, so it is not a default link type).
 */
export function detectBonusAbuseFarms(view: ComponentView, params: GraphParams): ClusterAlert[] {
  const claimers = view.playerIds.filter((playerId) => view.reader.flagsOf(playerId).bonusClaimed === true)
  if (claimers.length < params.bonusFarm.minAccounts) return []
  const claimerSet = new Set(claimers)
  const parent = new Map(claimers.map((playerId) => [playerId, playerId]))
  const find = (playerId: string): string => {
    let current = playerId
    while (parent.get(current) !== current) current = parent.get(current) as string
    return current
  }
  const linking: Array<{ ref: IdentifierRef; holders: string[] }> = []
  for (const ref of identifiersInComponent(view, params.bonusFarm.linkTypes)) {
    // Referral codes link through their owner too: a referrer farming its own referees.
    const holders = view.reader.playersOf(ref.identifierType, ref.identifier).map((entry) => entry.playerId).filter((playerId) => claimerSet.has(playerId))
    if (holders.length < 2) continue
    linking.push({ ref, holders })
    for (const holder of holders.slice(1)) {
      const left = find(holders[0] as string)
      const right = find(holder)
      if (left !== right) parent.set(left < right ? right : left, left < right ? left : right)
    }
  }
  const groups = new Map<string, string[]>()
  for (const claimer of claimers) {
    const root = find(claimer)
    groups.set(root, [...(groups.get(root) ?? []), claimer])
  }
  const alerts: ClusterAlert[] = []
  for (const [root, members] of groups) {
    if (members.length < params.bonusFarm.minAccounts) continue
    const used = linking.filter(({ holders }) => find(holders[0] as string) === root)
    const shared = used.map(({ ref, holders }) => ({ ...ref, playerCount: holders.length }))
    const edges = used.flatMap(({ ref, holders }) => holders.map((holder) => linkEdge(holder, ref)))
    alerts.push(makeAlert('bonus_abuse_farm', view.clusterId, members, shared, edges,
      `${members.length} bonus claimers linked by ${shared.map((ref) => refKey(ref)).join(', ')} (threshold ${params.bonusFarm.minAccounts})`))
  }
  return alerts.slice(0, params.maxAlertsPerTypology)
}
