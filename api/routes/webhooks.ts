/**
 * Inbound webhooks (issue 8, item 2): `POST /webhooks/kyc` (a KYC provider's callback) and
 * `POST /webhooks/regulator` (a regulator's request). The callers hold no bearer token, so the
 * routes are listed in PUBLIC_ROUTES (api/route-config.ts) and authenticate here instead:
 *
 * 1. `X-Pitboss-Timestamp: <unix seconds>` and `X-Pitboss-Signature: sha256=<hex>` are required
 *    (400 without them), the signature being HMAC-SHA256 over `timestamp + '.' + rawBody` with
 *    the source's shared secret (any of its secrets, for rotation), compared in constant time
 *    -> 401 RISK_ERR_UNAUTHENTICATED when it does not match;
 * 2. the timestamp within `toleranceMs` (default 5 min) of the server clock -> 401 otherwise;
 * 3. the body (validated by schema, 400) carries a `nonce`; a nonce seen before within the
 *    window is a replay -> 409 RISK_ERR_WEBHOOK_REPLAY. Nonces are
 *    kept in memory until their window closes and appended (fsync'ed) to `nonceFile` before the
 *    answer, so a restart does not reopen the window. The nonce is inside the signed body: a
 *    captured request cannot be replayed with a fresh one.
 *
 * Accepted calls are recorded in the audit log (actor `webhook:<source>`) and answered 202.
 * Producing the KYC status to Kafka (players.kyc) or opening a task for a regulator request is
 * not done here: the audit entry is the record until that wiring exists.
 *
 * Example (sender side):
 *   const body = JSON.stringify({ nonce: randomUUID(), playerId: 'p-17', status: 'VERIFIED' })
 *   const timestamp = Math.floor(Date.now() / 1000)
 *   fetch(`${api}/webhooks/kyc`, { method: 'POST', body, headers: { 'content-type': 'application/json',
 *     'x-pitboss-timestamp': String(timestamp), 'x-pitboss-signature': signWebhook(secret, timestamp, body) } })
 *   // -> 202 { accepted: true, source: 'kyc', nonce: '…' }
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Clock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import type { AuditLog } from '../audit.js'

export const WEBHOOK_SOURCES = ['kyc', 'regulator'] as const
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number]

export const WEBHOOK_SIGNATURE_HEADER = 'x-pitboss-signature'
export const WEBHOOK_TIMESTAMP_HEADER = 'x-pitboss-timestamp'
/** How far a webhook's timestamp may be from the server clock, either way. */
export const DEFAULT_WEBHOOK_TOLERANCE_MS = 5 * 60 * 1000
/** Webhook bodies are small JSON documents. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024
/** Same floor as the HS256 JWT secret: a short shared secret can be guessed offline from one signature. */
const MIN_SECRET_BYTES = 32

export interface WebhookDependencies {
  /**
   * Shared secrets per source (PITBOSS_API_WEBHOOK_KYC_SECRETS, PITBOSS_API_WEBHOOK_REGULATOR_SECRETS);
   * several = a rotation, any of them verifies. A source without a secret has no route (404).
   */
  readonly secrets: Readonly<Partial<Record<WebhookSource, readonly string[]>>>
  /** Where nonces are kept across restarts (PITBOSS_API_WEBHOOK_NONCE_FILE); one API process per file. */
  readonly nonceFile: string
  /** PITBOSS_API_WEBHOOK_TOLERANCE_MS, default 5 minutes. */
  readonly toleranceMs?: number
}

/**
 * The signature header value a sender puts on a body: `sha256=` + hex HMAC-SHA256 over
 * `timestamp + '.' + rawBody`. Example: `signWebhook(secret, 1767225600, '{"nonce":"…"}')`.
 */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex')}`
}

const fsyncFile = promisify(fs.fdatasync)
const writeFile = promisify(fs.write)

/**
 * Nonces seen within their window: in memory with expiry, and appended to a file (one JSON
 * line per nonce, fdatasync'ed) so a restart remembers them. At open, expired lines are
 * dropped by rewriting the file (temp + fsync + rename); a torn last line from a crash is
 * ignored (its request was never answered, so the sender retries).
 *
 * `reserve` is synchronous, so two concurrent copies of one request cannot both pass;
 * `commit` makes it durable; `release` forgets a nonce whose request failed, so a retry works.
 */
export class NonceLedger {
  private readonly live = new Map<string, number>()
  private writes: Promise<void> = Promise.resolve()
  private nextSweepMs = 0

  private constructor(readonly file: string, private descriptor: number, private readonly clock: Clock) {}

  static open(file: string, clock: Clock): NonceLedger {
    const resolved = path.resolve(file)
    fs.mkdirSync(path.dirname(resolved), { recursive: true })
    const nowMs = clock.nowMs()
    const kept = new Map<string, number>()
    let lines = 0
    if (fs.existsSync(resolved)) {
      for (const line of fs.readFileSync(resolved, 'utf8').split('\n')) {
        if (line === '') continue
        lines += 1
        try {
          const { key, expiresAtMs } = JSON.parse(line) as { key?: unknown; expiresAtMs?: unknown }
          if (typeof key === 'string' && typeof expiresAtMs === 'number' && expiresAtMs > nowMs) kept.set(key, Math.max(expiresAtMs, kept.get(key) ?? 0))
        } catch {
          // A torn line from a crash mid-write: that request was not answered.
        }
      }
    }
    if (lines !== kept.size) {
      const temp = `${resolved}.${process.pid}.tmp`
      const descriptor = fs.openSync(temp, 'w', 0o600)
      try {
        fs.writeSync(descriptor, [...kept].map(([key, expiresAtMs]) => `${JSON.stringify({ key, expiresAtMs })}\n`).join(''))
        fs.fsyncSync(descriptor)
      } finally {
        fs.closeSync(descriptor)
      }
      fs.renameSync(temp, resolved)
    }
    const ledger = new NonceLedger(resolved, fs.openSync(resolved, 'a', 0o600), clock)
    for (const [key, expiresAtMs] of kept) ledger.live.set(key, expiresAtMs)
    return ledger
  }

  /** False when `key` was seen and its window is still open. */
  reserve(key: string, expiresAtMs: number): boolean {
    const nowMs = this.clock.nowMs()
    this.sweep(nowMs)
    const known = this.live.get(key)
    if (known !== undefined && known > nowMs) return false
    this.live.set(key, expiresAtMs)
    return true
  }

  release(key: string): void {
    this.live.delete(key)
  }

  /** Appends the reserved nonce to the file and syncs it; resolves once durable. */
  commit(key: string): Promise<void> {
    const expiresAtMs = this.live.get(key)
    if (expiresAtMs === undefined) return Promise.reject(new RiskError('RISK_ERR_STATE_WRITE', `nonce ${key} was not reserved`))
    const line = Buffer.from(`${JSON.stringify({ key, expiresAtMs })}\n`, 'utf8')
    const write = this.writes.then(async () => {
      for (let offset = 0; offset < line.length;) offset += (await writeFile(this.descriptor, line, offset, line.length - offset)).bytesWritten
      await fsyncFile(this.descriptor)
    })
    this.writes = write.catch(() => undefined)
    return write
  }

  /** Nonces in memory (for tests and metrics). */
  get size(): number {
    return this.live.size
  }

  async close(): Promise<void> {
    await this.writes
    fs.closeSync(this.descriptor)
    this.descriptor = -1
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepMs) return
    this.nextSweepMs = nowMs + 60_000
    for (const [key, expiresAtMs] of this.live) if (expiresAtMs <= nowMs) this.live.delete(key)
  }
}

const unauthenticated = (message: string): RiskError => new RiskError('RISK_ERR_UNAUTHENTICATED', message)

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Throws the coded refusal, or returns the verified timestamp (seconds). */
function verifySignature(request: FastifyRequest, rawBody: Buffer, secrets: readonly string[], nowMs: number, toleranceMs: number): number {
  const timestampText = headerValue(request, WEBHOOK_TIMESTAMP_HEADER)
  const signature = headerValue(request, WEBHOOK_SIGNATURE_HEADER)
  if (timestampText === undefined || signature === undefined) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `a webhook needs the ${WEBHOOK_TIMESTAMP_HEADER} (unix seconds) and ${WEBHOOK_SIGNATURE_HEADER} (sha256=<hex HMAC of timestamp.body>) headers`)
  }
  if (!/^\d{1,12}$/.test(timestampText)) throw unauthenticated(`${WEBHOOK_TIMESTAMP_HEADER} must be unix time in whole seconds, got '${timestampText.slice(0, 40)}'`)
  const presented = /^sha256=([0-9a-fA-F]{64})$/.exec(signature)?.[1]
  if (presented === undefined) throw unauthenticated(`${WEBHOOK_SIGNATURE_HEADER} must be sha256=<64 hex digits>`)
  const presentedBytes = Buffer.from(presented.toLowerCase(), 'hex')
  const timestampSeconds = Number(timestampText)
  // Every secret is tried (no early exit), so timing tells nothing about which one is in use.
  let matched = false
  for (const secret of secrets) {
    const expected = Buffer.from(signWebhook(secret, timestampSeconds, rawBody).slice('sha256='.length), 'hex')
    if (timingSafeEqual(expected, presentedBytes)) matched = true
  }
  if (!matched) throw unauthenticated('the webhook signature does not match the body and timestamp; sign `timestamp + "." + raw body` with the shared secret')
  const skewMs = Math.abs(nowMs - timestampSeconds * 1000)
  if (skewMs > toleranceMs) throw unauthenticated(`the webhook timestamp is ${Math.round(skewMs / 1000)} s away from the server clock (at most ${toleranceMs / 1000} s); check the sender's clock and sign each delivery afresh`)
  return timestampSeconds
}

const nonceSchema = { type: 'string', minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', description: 'unique per delivery (a UUID); a nonce seen within the window is a replay' } as const
const detailSchema = { type: 'object', additionalProperties: true, description: "the sender's other fields, recorded as they are" } as const

interface KycCallback { readonly nonce: string; readonly playerId: string; readonly status: string; readonly provider?: string; readonly checkId?: string; readonly reason?: string; readonly occurredAtMs?: number; readonly detail?: Record<string, unknown> }
interface RegulatorRequest { readonly nonce: string; readonly requestId: string; readonly kind: string; readonly playerId?: string; readonly message?: string; readonly dueAtMs?: number; readonly detail?: Record<string, unknown> }

interface SourceRoute {
  readonly source: WebhookSource
  readonly summary: string
  readonly body: Record<string, unknown>
  /** The audit entry's action and entity for a verified body. */
  readonly record: (body: never) => { action: string; entity: { type: string; id: string } }
}

const ROUTES: readonly SourceRoute[] = [
  {
    source: 'kyc',
    summary: "A KYC provider's callback: a player's verification status (HMAC-signed; recorded, answered 202)",
    body: {
      type: 'object',
      required: ['nonce', 'playerId', 'status'],
      additionalProperties: false,
      properties: {
        nonce: nonceSchema,
        playerId: { type: 'string', minLength: 1, maxLength: 128 },
        status: { type: 'string', enum: ['NONE', 'PENDING', 'VERIFIED', 'REJECTED'], description: 'the Avro KycStatus' },
        provider: { type: 'string', maxLength: 128 },
        checkId: { type: 'string', maxLength: 256 },
        reason: { type: 'string', maxLength: 2000 },
        occurredAtMs: { type: 'integer', minimum: 0 },
        detail: detailSchema,
      },
      examples: [{ nonce: '8f14e45f-ceea-467f-a0e6-0a8b6b1c2d3e', playerId: 'p-17', status: 'VERIFIED', provider: 'onfido', checkId: 'chk-9' }],
    },
    record: (body: KycCallback) => ({ action: 'kyc.callback', entity: { type: 'player', id: body.playerId } }),
  },
  {
    source: 'regulator',
    summary: "A regulator's request (information request, freeze order…; HMAC-signed; recorded, answered 202)",
    body: {
      type: 'object',
      required: ['nonce', 'requestId', 'kind'],
      additionalProperties: false,
      properties: {
        nonce: nonceSchema,
        requestId: { type: 'string', minLength: 1, maxLength: 128 },
        kind: { type: 'string', enum: ['information_request', 'player_report', 'freeze_order', 'other'] },
        playerId: { type: 'string', minLength: 1, maxLength: 128 },
        message: { type: 'string', maxLength: 10_000 },
        dueAtMs: { type: 'integer', minimum: 0 },
        detail: detailSchema,
      },
      examples: [{ nonce: '2c624232-cdd2-41d3-8b8e-5e6f7a8b9c0d', requestId: 'MGA-2025-0042', kind: 'information_request', playerId: 'p-17' }],
    },
    record: (body: RegulatorRequest) => ({ action: 'regulator.request', entity: { type: 'regulator_request', id: body.requestId } }),
  },
]

export interface WebhookRouteContext {
  /** Required: an accepted webhook is recorded there. */
  readonly audit: AuditLog | undefined
  readonly clock: Clock
}

/**
 * Registers the webhook routes of every source that has a secret. Throws
 * RISK_ERR_CONFIG_INVALID for a secret shorter than 32 bytes or without an audit log.
 */
export function registerWebhookRoutes(app: FastifyInstance, dependencies: WebhookDependencies, context: WebhookRouteContext): void {
  const { audit, clock } = context
  if (audit === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'webhooks need the audit log (they are recorded there): pass `audit` to buildApp')
  const toleranceMs = dependencies.toleranceMs ?? DEFAULT_WEBHOOK_TOLERANCE_MS
  const sources = ROUTES.filter((route) => (dependencies.secrets[route.source] ?? []).length > 0)
  if (sources.length === 0) return
  for (const route of sources) {
    for (const secret of dependencies.secrets[route.source] ?? []) {
      if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) throw new RiskError('RISK_ERR_CONFIG_INVALID', `the ${route.source} webhook secret is shorter than ${MIN_SECRET_BYTES} bytes; generate one with \`openssl rand -hex 32\``, { source: route.source })
    }
  }
  const ledger = NonceLedger.open(dependencies.nonceFile, clock)
  app.addHook('onClose', async () => ledger.close())
  const rawBodies = new WeakMap<FastifyRequest, Buffer>()

  for (const route of sources) {
    const secrets = dependencies.secrets[route.source] ?? []
    app.post(`/webhooks/${route.source}`, {
      bodyLimit: WEBHOOK_MAX_BODY_BYTES,
      schema: {
        summary: route.summary, tags: ['webhooks'],
        description: `Authenticated by HMAC, not by a bearer token: \`${WEBHOOK_TIMESTAMP_HEADER}\` (unix seconds, within ${toleranceMs / 1000} s of the server clock) and \`${WEBHOOK_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of timestamp + "." + raw body>\`. 401 when the signature or timestamp is wrong, 409 when the nonce was seen (a replay).`,
        headers: {
          type: 'object',
          required: [WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER],
          properties: { [WEBHOOK_TIMESTAMP_HEADER]: { type: 'string' }, [WEBHOOK_SIGNATURE_HEADER]: { type: 'string' } },
        },
        body: route.body,
        response: { 202: { type: 'object', required: ['accepted', 'source', 'nonce'], properties: { accepted: { type: 'boolean' }, source: { type: 'string' }, nonce: { type: 'string' } } } },
      },
      // The signature covers the bytes as sent: keep them before the JSON parser sees them.
      preParsing: async (request, _reply, payload) => {
        const chunks: Buffer[] = []
        let bytes = 0
        for await (const chunk of payload) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
          bytes += buffer.length
          if (bytes > WEBHOOK_MAX_BODY_BYTES) throw new RiskError('RISK_ERR_REQUEST_INVALID', `a webhook body is at most ${WEBHOOK_MAX_BODY_BYTES} bytes`)
          chunks.push(buffer)
        }
        const raw = Buffer.concat(chunks)
        rawBodies.set(request, raw)
        const replay = Readable.from([raw], { objectMode: false }) as Readable & { receivedEncodedLength?: number }
        replay.receivedEncodedLength = raw.length
        return replay
      },
      // Before schema validation: an unauthenticated caller learns nothing about the body's shape.
      preValidation: async (request) => {
        const raw = rawBodies.get(request) ?? Buffer.alloc(0)
        verifySignature(request, raw, secrets, clock.nowMs(), toleranceMs)
      },
    }, async (request, reply) => {
      const body = request.body as { nonce: string }
      const timestampSeconds = Number(headerValue(request, WEBHOOK_TIMESTAMP_HEADER))
      const key = `${route.source}:${body.nonce}`
      // The request is accepted until timestamp + tolerance; the nonce must be remembered that long.
      if (!ledger.reserve(key, timestampSeconds * 1000 + toleranceMs)) {
        throw new RiskError('RISK_ERR_WEBHOOK_REPLAY', `nonce ${body.nonce} was already used for a ${route.source} webhook; a replay is refused (send each delivery with a new nonce)`, { source: route.source })
      }
      try {
        const { action, entity } = route.record(body as never)
        const { nonce, ...fields } = body as Record<string, unknown> & { nonce: string }
        // Recorded before the nonce is made durable: a failure in between leaves a duplicate record, never a lost one.
        await audit.append({
          actor: { subject: `webhook:${route.source}`, roles: [] },
          action, entity, after: fields, detail: { nonce, timestampSeconds },
          request: { method: request.method, route: request.routeOptions.url ?? request.url, requestId: request.id, ip: request.ip },
        })
        await ledger.commit(key)
      } catch (error) {
        ledger.release(key)
        throw error
      }
      return reply.code(202).send({ accepted: true, source: route.source, nonce: body.nonce })
    })
  }
}
