/**
 * The inbound webhooks: HMAC signature over `timestamp.rawBody`, the 5-minute window, nonces
 * refused as replays (also after a restart, from the nonce file), the audit record, 202.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { buildApp } from '../../../api/app.js'
import { openAuditLog } from '../../../api/audit.js'
import { signWebhook, type WebhookDependencies } from '../../../api/routes/webhooks.js'
import { AUTH, buildTestApp, START_MS, WEBHOOK_SECRETS, type TestApp } from '../helpers.js'

const NOW_SECONDS = START_MS / 1000

function signed(body: unknown, options: { secret?: string; timestampSeconds?: number; raw?: string } = {}): { headers: Record<string, string>; payload: string } {
  const payload = options.raw ?? JSON.stringify(body)
  const timestampSeconds = options.timestampSeconds ?? NOW_SECONDS
  return { payload, headers: { 'content-type': 'application/json', 'x-pitboss-timestamp': String(timestampSeconds), 'x-pitboss-signature': signWebhook(options.secret ?? WEBHOOK_SECRETS.kyc, timestampSeconds, payload) } }
}

const kyc = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ nonce: randomUUID(), playerId: 'p-17', status: 'VERIFIED', provider: 'onfido', ...overrides })

describe('webhooks', () => {
  let test: TestApp
  beforeAll(async () => { test = await buildTestApp() })
  afterAll(async () => test.close())
  const post = (url: string, request: { headers: Record<string, string>; payload: string }) => test.app.inject({ method: 'POST', url, ...request })

  it('accepts a signed KYC callback with 202 and records it in the audit log', async () => {
    const body = kyc()
    const response = await post('/webhooks/kyc', signed(body))
    expect(response.statusCode).toBe(202)
    expect(response.json()).toEqual({ accepted: true, source: 'kyc', nonce: body.nonce })
    const last = JSON.parse(fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').at(-1) as string) as Record<string, unknown>
    expect(last).toMatchObject({ action: 'kyc.callback', actor: { subject: 'webhook:kyc', roles: [] }, entity: { type: 'player', id: 'p-17' }, after: { playerId: 'p-17', status: 'VERIFIED' }, detail: { nonce: body.nonce, timestampSeconds: NOW_SECONDS } })
  })

  it('refuses a wrong signature, another source\'s secret, a changed body and missing headers', async () => {
    const body = kyc()
    expect((await post('/webhooks/kyc', signed(body, { secret: 'x'.repeat(40) }))).statusCode).toBe(401)
    expect((await post('/webhooks/kyc', signed(body, { secret: WEBHOOK_SECRETS.regulator }))).statusCode).toBe(401)
    const tampered = signed(body)
    const response = await post('/webhooks/kyc', { ...tampered, payload: tampered.payload.replace('VERIFIED', 'REJECTED') })
    expect(response.statusCode).toBe(401)
    expect(response.json().error.code).toBe('RISK_ERR_UNAUTHENTICATED')
    const unsigned = await post('/webhooks/kyc', { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    expect(unsigned.statusCode).toBe(400)
    expect(unsigned.json().error.message).toMatch(/x-pitboss-signature/)
    // The same nonce still works once signed properly: refusals did not burn it.
    expect((await post('/webhooks/kyc', signed(body))).statusCode).toBe(202)
  })

  it('refuses a timestamp outside the 5-minute window either way, and accepts one at its edge', async () => {
    expect((await post('/webhooks/kyc', signed(kyc(), { timestampSeconds: NOW_SECONDS - 301 }))).json().error.message).toMatch(/301 s away/)
    expect((await post('/webhooks/kyc', signed(kyc(), { timestampSeconds: NOW_SECONDS + 301 }))).statusCode).toBe(401)
    expect((await post('/webhooks/kyc', signed(kyc(), { timestampSeconds: NOW_SECONDS - 300 }))).statusCode).toBe(202)
  })

  it('refuses a replay with 409, also of a re-signed delivery with a fresh timestamp', async () => {
    const body = kyc()
    expect((await post('/webhooks/kyc', signed(body))).statusCode).toBe(202)
    const replay = await post('/webhooks/kyc', signed(body))
    expect(replay.statusCode).toBe(409)
    expect(replay.json().error.message).toMatch(/replay/)
    expect((await post('/webhooks/kyc', signed(body, { timestampSeconds: NOW_SECONDS + 10 }))).statusCode).toBe(409)
    // Concurrent copies: one wins.
    const twin = kyc()
    const statuses = (await Promise.all([post('/webhooks/kyc', signed(twin)), post('/webhooks/kyc', signed(twin))])).map((answer) => answer.statusCode).sort()
    expect(statuses).toEqual([202, 409])
  })

  it('validates the body after the signature (400) and accepts a regulator request with its own secret', async () => {
    expect((await post('/webhooks/kyc', signed(kyc({ status: 'MAYBE' })))).statusCode).toBe(400)
    const request = { nonce: randomUUID(), requestId: 'MGA-2025-0042', kind: 'information_request', playerId: 'p-17' }
    expect((await post('/webhooks/regulator', signed(request))).statusCode).toBe(401)
    expect((await post('/webhooks/regulator', signed(request, { secret: WEBHOOK_SECRETS.regulator }))).statusCode).toBe(202)
  })
})

describe('webhook nonces across a restart', () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-webhook-nonces-'))
  const webhooks: WebhookDependencies = { secrets: { kyc: [WEBHOOK_SECRETS.kyc] }, nonceFile: path.join(directory, 'nonces.jsonl') }
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

  it('remembers a nonce in the file until its window closes, then forgets it', async () => {
    const body = kyc()
    const first = await buildTestApp({ webhooks })
    expect((await first.app.inject({ method: 'POST', url: '/webhooks/kyc', ...signed(body) })).statusCode).toBe(202)
    expect((await first.app.inject({ method: 'POST', url: '/webhooks/regulator', ...signed(body) })).statusCode).toBe(404)
    await first.close()

    const restarted = await buildTestApp({ webhooks })
    try {
      expect((await restarted.app.inject({ method: 'POST', url: '/webhooks/kyc', ...signed(body) })).statusCode).toBe(409)
    } finally {
      await restarted.close()
    }
    const later = await buildTestApp({ webhooks })
    try {
      later.clock.advance(301_000)
      const fresh = signed(body, { timestampSeconds: NOW_SECONDS + 301 })
      expect((await later.app.inject({ method: 'POST', url: '/webhooks/kyc', ...fresh })).statusCode).toBe(202)
    } finally {
      await later.close()
    }
    expect(fs.readFileSync(webhooks.nonceFile, 'utf8').trim().split('\n')).toHaveLength(2)
  })

  it('refuses a secret shorter than 32 bytes, or no audit log, at start', async () => {
    const audit = await openAuditLog({ path: path.join(directory, 'audit.jsonl') })
    try {
      const base = (): { metrics: Registry; version: string; checks: Record<string, never>; auth: typeof AUTH } => ({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH })
      expect(() => buildApp({ ...base(), audit, webhooks: { ...webhooks, secrets: { kyc: ['short'] } } })).toThrow(/shorter than 32 bytes/)
      expect(() => buildApp({ ...base(), webhooks })).toThrow(/webhooks need the audit log/)
    } finally {
      await audit.close()
    }
  })
})
