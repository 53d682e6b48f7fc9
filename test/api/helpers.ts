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
import { createCaseService } from '../../cases/case-service.js'
import { loadConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../models/service.js'
import type { GovernanceDependencies } from '../../api/app.js'
import type { ReadModel } from '../../api/read-model.js'
import { openRuleSetFiles } from '../../api/rule-set-files.js'
import { strSettings, type StrSettings } from '../../api/str-settings.js'
import type { ClickHouse } from '../../sinks/clickhouse/client.js'
import { reportingEntity as STR_REPORTING_ENTITY } from '../sinks/str/fixtures.js'
import type { WebhookSource } from '../../api/routes/webhooks.js'
import type { OperationsDependencies } from '../../api/app.js'
import type { CaseService } from '../../cases/case-service.js'
import type { ReviewVerdict } from '../../schemas/generated/types.js'

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

/** Webhook secrets of the test apps (>= 32 bytes each). */
export const WEBHOOK_SECRETS: Readonly<Record<WebhookSource, string>> = { kyc: 'kyc-provider-test-secret-0123456789abcdef', regulator: 'regulator-test-secret-0123456789abcdefgh' }

/** The repository's rule set, the one the engine runs by default. */
export const SHIPPED_RULE_SET = new URL('../../detectors/rule-sets/default.json', import.meta.url).pathname
const SCREENING_FIXTURE = new URL('../screening/fixtures/watchlist-sample.csv', import.meta.url).pathname

/** A dependency a test app does not provide: any use fails with a coded error naming it (never a silent stub). */
function notProvided<T extends object>(name: string): T {
  return new Proxy({} as T, { get: (_target, property) => { throw new RiskError('RISK_ERR_CONFIG_INVALID', `${name}.${String(property)} is not provided by buildTestApp; pass it in the overrides`) } })
}

/**
 * Governance parts on real components in `directory`: the ModelService over a copy of the
 * shipped model (its deployment file there too), rule-set files (versions folder, and the active
 * file a copy of the shipped rule set), the case store, a screening folder holding the
 * watchlist fixture, and the webhooks' secrets and nonce file.
 */
export async function buildGovernanceParts(directory: string, clock: ManualClock): Promise<Pick<ApiDependencies, 'screening' | 'webhooks'> & { governance: GovernanceDependencies; close(): Promise<void> }> {
  const modelsDir = path.join(directory, 'models')
  fs.cpSync(path.join(SHIPPED_MODELS_DIRECTORY, SHIPPED_MODEL_FOLDER), path.join(modelsDir, SHIPPED_MODEL_FOLDER), { recursive: true })
  const models = await loadModelService({ modelsDir, deploymentFile: path.join(directory, 'state', 'deployment.json'), clock, logger: silentLogger, defaultChampion: SHIPPED_MODEL_FOLDER })
  const activePath = path.join(directory, 'active-rule-set.json')
  fs.copyFileSync(SHIPPED_RULE_SET, activePath)
  const ruleSets = openRuleSetFiles({ versionsDir: path.join(directory, 'rule-sets'), activePath, registry: new DetectorRegistry(), clock })
  const cases = await createCaseService({ directory: path.join(directory, 'cases'), clock })
  const listsDir = path.join(directory, 'lists')
  fs.mkdirSync(path.join(listsDir, 'watchlists'), { recursive: true })
  fs.copyFileSync(SCREENING_FIXTURE, path.join(listsDir, 'watchlists', 'pep.csv'))
  return {
    // readModel and str belong to the regulator and STR routes; their tests pass real ones.
    governance: { models, ruleSets, cases, readModel: notProvided<ReadModel>('governance.readModel'), str: strTestSettings(directory) },
    screening: { listsDir },
    webhooks: { secrets: { kyc: [WEBHOOK_SECRETS.kyc], regulator: [WEBHOOK_SECRETS.regulator] }, nonceFile: path.join(directory, 'webhook-nonces.jsonl') },
    async close() {
      await models.close()
      await cases.shutdown()
    },
  }
}

/**
 * A ClickHouse without rows: lets the roles test reach the STR and regulator routes without a
 * server (their route tests run a real one: test/api/routes/str.test.ts, regulator.test.ts).
 */
export const EMPTY_CLICKHOUSE: ClickHouse = Object.freeze({
  url: 'http://empty.invalid', database: 'empty',
  query: async <T>() => [] as T[], command: async () => {}, insert: async () => {}, ping: async () => true,
  withDatabase: () => EMPTY_CLICKHOUSE, close: async () => {},
})

/** STR settings in `directory` (drafts, exports) with the STR fixtures' reporting entity, EUR and the shipped goAML schema. */
export function strTestSettings(directory: string, clickhouse: ClickHouse = EMPTY_CLICKHOUSE): StrSettings {
  return strSettings({ homeDir: directory, referenceDataDir: loadConfig({}).referenceDataDir, reportingEntity: STR_REPORTING_ENTITY, localCurrency: 'EUR', clickhouse, xmllintTimeoutMs: 20_000 })
}

/**
 * A read model answering as a ClickHouse without rows: lets the roles test reach the officers'
 * routes without a server. Route tests use createClickHouseReadModel on a real ClickHouse.
 */
export const EMPTY_READ_MODEL: ReadModel = Object.freeze({
  ping: async () => true,
  withdrawal: async () => null,
  playerDecisions: async () => [],
  playerTimeline: async () => [],
  alerts: async () => [],
  cluster: async () => null,
})

/** The officers' dependencies on `cases`, with verdicts "published" into `published` (in order). */
export function buildOperationsParts(cases: CaseService, readModel: ReadModel = EMPTY_READ_MODEL): OperationsDependencies & { readonly published: ReviewVerdict[] } {
  const published: ReviewVerdict[] = []
  return { cases, readModel, published, publishReview: async (verdict) => { published.push(verdict) } }
}

/** buildApp with HS256 auth, a manual clock, a temp audit log, (by default) no rate limits, and the governance parts above. */
/** The app with only the foundation's routes (health, me, audit status): for tests that register routes of their own. */
export async function buildBareTestApp(overrides: Partial<ApiDependencies> = {}): Promise<TestApp> {
  return buildTestApp({ operations: undefined, governance: undefined, screening: undefined, webhooks: undefined, ...overrides })
}

export async function buildTestApp(overrides: Partial<ApiDependencies> = {}): Promise<TestApp> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-api-'))
  const clock = new ManualClock(START_MS)
  const audit = await openAuditLog({ path: path.join(directory, 'audit.jsonl'), clock })
  const { close: closeGovernance, ...governanceParts } = await buildGovernanceParts(directory, clock)
  const operations = buildOperationsParts(governanceParts.governance.cases)
  const app = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH, rateLimits: NO_LIMITS, audit, clock, ...governanceParts, operations, ...overrides })
  return {
    app, audit, clock, directory,
    async close() {
      await app.close()
      await audit.close()
      await closeGovernance()
      fs.rmSync(directory, { recursive: true, force: true })
    },
  }
}
