/**
 * Shared by the API tests: an HS256 setup, tokens for any roles, and buildApp with a temp
 * audit log that `close()` removes.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { ManualClock } from '../../core/clock.js'
import { buildApp, type ApiDependencies } from '../../api/app.js'
import { openAuditLog, type AuditLog } from '../../api/audit.js'
import type { TokenVerificationOptions } from '../../api/jwt.js'
import type { ApiRole } from '../../api/roles.js'
import { mintAccessToken } from '../../api/tokens.js'

export const START_MS = Date.UTC(2025, 0, 15, 12, 0, 0)
export const SECRET = 'test-secret-that-is-long-enough-for-hs256!'
export const AUTH: TokenVerificationOptions = { issuer: 'https://sso.test/realms/pitboss', audience: 'pitboss-api', hs256Secret: SECRET }
/** High enough that no table-driven test meets it. */
export const NO_LIMITS = { subject: { burst: 1_000_000, refillPerSecond: 1_000_000 }, ip: { burst: 1_000_000, refillPerSecond: 1_000_000 } }

export function tokenFor(roles: readonly ApiRole[], subject = 'alice', nowMs = START_MS, claims: Record<string, unknown> = {}): string {
  return mintAccessToken({ subject, roles, issuer: AUTH.issuer, audience: AUTH.audience, nowMs, lifetimeMs: 3_600_000, key: { algorithm: 'HS256', secret: SECRET }, claims })
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

export interface TestApp {
  readonly app: FastifyInstance
  readonly audit: AuditLog
  readonly clock: ManualClock
  readonly directory: string
  close(): Promise<void>
}

/** buildApp with HS256 auth, a manual clock, a temp audit log and (by default) no rate limits. */
export async function buildTestApp(overrides: Partial<ApiDependencies> = {}): Promise<TestApp> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-api-'))
  const clock = new ManualClock(START_MS)
  const audit = await openAuditLog({ path: path.join(directory, 'audit.jsonl'), clock })
  const app = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH, rateLimits: NO_LIMITS, audit, clock, ...overrides })
  return {
    app, audit, clock, directory,
    async close() {
      await app.close()
      await audit.close()
      fs.rmSync(directory, { recursive: true, force: true })
    },
  }
}
