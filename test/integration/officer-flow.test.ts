/**
 * The officer's path across the real processes (issues 6 and 8): the engine holds a first
 * withdrawal before full KYC for review and raises an alert; the API process files it into a
 * case; an officer (bearer token) lists and claims the case and approves the withdrawal over
 * HTTP; the engine answers with decision revision 2 and a payout command; the officer closes the
 * case, which emits its training label. Every step is in the API's audit chain.
 */
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { player, withdrawal } from '../../bench/events.js'
import { sleep } from '../../core/clock.js'
import { mintAccessToken } from '../../api/tokens.js'
import { verifyAuditFile } from '../../api/audit-verify.js'
import type { CaseLabel, Decision, PayoutCommand } from '../../schemas/generated/types.js'
import { EngineProcess, TopicReader, encoded, isolated, produce } from './support.js'

const T0 = Date.UTC(2026, 10, 26, 10)
const SECRET = 'officer-flow-test-secret-0123456789abcdef'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

describe('officer flow across the engine, the sink and the API', () => {
  it('holds, files a case, takes the officer\'s approval as revision 2, pays, and labels the closed case', async () => {
    const port = await freePort()
    const test = await isolated('officer-flow', { PITBOSS_API_PORT: String(port), PITBOSS_API_JWT_HS256_SECRET: SECRET, PITBOSS_API_CONSOLE: 'off' })
    const base = `http://127.0.0.1:${port}`
    const token = mintAccessToken({ subject: 'officer-olga', roles: ['aml_officer'], issuer: test.config.api.jwt.issuer, audience: test.config.api.jwt.audience, nowMs: Date.now(), lifetimeMs: 3_600_000, key: { algorithm: 'HS256', secret: SECRET } })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses of several routes, checked field by field below
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
      return { status: response.status, json: await response.json().catch(() => null) }
    }
    const until = async <T>(what: string, step: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const value = await step().catch(() => null)
        if (value !== null) return value
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await sleep(300)
      }
    }
    const engine = new EngineProcess(test).start()
    const sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    const api = new EngineProcess(test, 'api', 'api/main.ts').start()
    const decisions = await new TopicReader<Decision>(test, 'decisions').start()
    const payouts = await new TopicReader<PayoutCommand>(test, 'payoutCommands').start()
    const labels = await new TopicReader<CaseLabel>(test, 'labels').start()
    try {
      await produce(test, [
        encoded(test, 'players', player({ playerId: 'p-olga-1', eventTimeMs: T0, kycStatus: 'PENDING' })),
        encoded(test, 'withdrawals', withdrawal({ playerId: 'p-olga-1', withdrawalId: 'w-olga-1', eventTimeMs: T0 + 60_000, amountMinor: 250_00 })),
      ])
      await decisions.waitFor((values) => values.some((decision) => decision.decisionId === 'w-olga-1:1'), 90_000)
      expect(decisions.values.find((decision) => decision.decisionId === 'w-olga-1:1')).toMatchObject({ outcome: 'REVIEW', hardStop: 'KYC_INCOMPLETE_WITHDRAWAL' })

      // the API filed the alert into a case
      const listed = await until('the case', async () => {
        const answer = await call('GET', '/cases?playerId=p-olga-1')
        return answer.status === 200 && answer.json.cases.length > 0 ? answer.json.cases[0] : null
      })
      const claimed = await call('POST', `/cases/${listed.caseId}/claim`, { expectedVersion: listed.version })
      expect(claimed.status, JSON.stringify(claimed.json)).toBe(200)
      const stale = await call('POST', `/cases/${listed.caseId}/claim`, { expectedVersion: listed.version })
      expect([stale.status, stale.json.error.code]).toEqual([409, 'RISK_ERR_CASE_CONFLICT'])

      // the verdict (the review route checks the decision in ClickHouse, written by the sink)
      const review = await until('the review to be accepted', async () => {
        const answer = await call('POST', '/withdrawals/w-olga-1/review', { playerId: 'p-olga-1', verdict: 'APPROVE', reasonCode: 'DOCUMENTS_VERIFIED', caseId: listed.caseId, requestId: 'olga-review-1' })
        return answer.status === 202 ? answer : null
      })
      expect(review.json.eventId).toBeTruthy()
      await decisions.waitFor((values) => values.some((decision) => decision.decisionId === 'w-olga-1:2'), 90_000)
      expect(decisions.values.find((decision) => decision.decisionId === 'w-olga-1:2')).toMatchObject({ revision: 2, outcome: 'APPROVE', review: { reviewerId: 'officer-olga', caseId: listed.caseId } })
      await payouts.waitFor((values) => values.some((command) => command.idempotencyKey === 'wd:w-olga-1:PAY:1'), 60_000)

      // close the case: its label goes to risk.labels.v1
      const current = await call('GET', `/cases/${listed.caseId}`)
      expect(current.status).toBe(200)
      const closed = await call('POST', `/cases/${listed.caseId}/close`, { expectedVersion: current.json.case.version, resolution: 'DISMISSED', reason: 'KYC documents verified; the hold was routine', checklistOverrideReason: 'documents checked outside the checklist in this test' })
      expect(closed.status, JSON.stringify(closed.json)).toBe(200)
      await labels.waitFor((values) => values.some((label) => label.caseId === listed.caseId), 60_000)
      expect(labels.values.find((label) => label.caseId === listed.caseId)).toMatchObject({ playerId: 'p-olga-1', outcome: 'FALSE_POSITIVE', resolution: 'DISMISSED' })
    } finally {
      await Promise.all([decisions.stop(), payouts.stop(), labels.stop()])
      expect(await api.stop('SIGTERM'), `api log: ${api.logFile}`).toBe(0)
      expect(await sink.stop('SIGTERM')).toBe(0)
      expect(await engine.stop('SIGTERM')).toBe(0)
    }
    // the API's audit chain holds the officer's reads and actions, intact
    const audit = await verifyAuditFile(test.config.api.auditFile)
    expect(audit.ok, JSON.stringify(audit)).toBe(true)
    expect(audit.entries).toBeGreaterThanOrEqual(5)
  })
})
