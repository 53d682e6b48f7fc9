/**
 * The audit log's hash chain. Every case event carries the SHA-256 of the event before it in
 * the store (all cases, one chain) and its own hash:
 *
 *   hash = sha256_hex(previousHash + '\n' + canonicalJson(event without its hash))
 *
 * so changing, removing or re-ordering any stored event breaks the link at that event, and
 * every later hash too. The first event's previousHash is GENESIS_HASH (64 zeros). Canonical
 * JSON sorts object keys, so anyone can recompute a hash from a published `risk.case-events.v1`
 * record, in any language.
 *
 * Example:
 *   const first = sealEvent({ ...draft, previousHash: GENESIS_HASH })   // adds `hash`
 *   await verifyChain(events)   // { ok: true, checkedEvents: 1, lastSequence: 1, ... }
 */
import { createHash } from 'node:crypto'
import type { CaseEvent } from '../schemas/generated/types.js'

export const GENESIS_HASH = '0'.repeat(64)

/** JSON with object keys sorted at every level; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`
  const entries = Object.keys(value).sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
  return `{${entries.join(',')}}`
}

export function eventHash(event: Omit<CaseEvent, 'hash'>): string {
  const { hash: _ignored, ...body } = event as CaseEvent
  return createHash('sha256').update(`${event.previousHash}\n${canonicalJson(body)}`).digest('hex')
}

export function sealEvent(event: Omit<CaseEvent, 'hash'>): CaseEvent {
  return { ...event, hash: eventHash(event) }
}

export interface BrokenLink {
  readonly sequence: number
  readonly eventId: string
  readonly reason: string
}

export interface AuditVerification {
  readonly ok: boolean
  readonly checkedEvents: number
  /** Sequence and hash of the last event read (0 and GENESIS_HASH for an empty log). */
  readonly lastSequence: number
  readonly lastHash: string
  /** The first event that does not check out; null when the chain is whole. */
  readonly firstBroken: BrokenLink | null
}

/**
 * Walks events in stored order and reports the first broken link: a gap or repeat in the
 * sequence, a previousHash that is not the hash before it, or a hash that does not match the
 * event's content. `expectedHead`, when given, is where the log says it ends (catches a
 * truncated tail).
 */
export async function verifyChain(events: AsyncIterable<CaseEvent>, expectedHead?: { sequence: number; hash: string }): Promise<AuditVerification> {
  let previousHash = GENESIS_HASH
  let previousSequence = 0
  let checked = 0
  const broken = (sequence: number, eventId: string, reason: string): AuditVerification => ({
    ok: false, checkedEvents: checked, lastSequence: previousSequence, lastHash: previousHash, firstBroken: { sequence, eventId, reason },
  })
  for await (const event of events) {
    if (event.sequence !== previousSequence + 1) return broken(event.sequence, event.eventId, `sequence ${event.sequence} follows ${previousSequence} (an event is missing or repeated)`)
    if (event.previousHash !== previousHash) return broken(event.sequence, event.eventId, `previousHash ${event.previousHash.slice(0, 12)}… is not the hash of event ${previousSequence} (${previousHash.slice(0, 12)}…)`)
    const recomputed = eventHash(event)
    if (recomputed !== event.hash) return broken(event.sequence, event.eventId, `the event's content does not match its hash (recomputed ${recomputed.slice(0, 12)}…, stored ${event.hash.slice(0, 12)}…): it was changed after it was written`)
    previousHash = event.hash
    previousSequence = event.sequence
    checked += 1
  }
  if (expectedHead !== undefined && (expectedHead.sequence !== previousSequence || expectedHead.hash !== previousHash)) {
    return broken(previousSequence + 1, '', `the log ends at event ${previousSequence} but its head record names event ${expectedHead.sequence}: events were removed from the end`)
  }
  return { ok: true, checkedEvents: checked, lastSequence: previousSequence, lastHash: previousHash, firstBroken: null }
}
