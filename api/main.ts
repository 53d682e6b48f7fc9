/**
 * The API process: `buildApp` on the configured host and port, with token verification and
 * the audit log from the config (api/settings.ts). SIGTERM closes it gracefully.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'
import { loadConfig } from '../core/config.js'
import { createLogger } from '../core/logger.js'
import { createClickHouse } from '../sinks/clickhouse/client.js'
import { buildApp } from './app.js'
import { openAuditLog } from './audit.js'
import { loadPublicKeysFile } from './jwt.js'
import { apiSettings, hasVerificationKeys } from './settings.js'

const config = loadConfig()
const logger = createLogger('api', config.logLevel)

async function main(): Promise<void> {
  const settings = apiSettings(config)
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics, prefix: 'pitboss_process_' })
  const { jwt } = settings
  const auth = hasVerificationKeys(jwt)
    ? { issuer: jwt.issuer, audience: jwt.audience, hs256Secret: jwt.hs256Secret, publicKeys: jwt.publicKeysFile === null ? [] : loadPublicKeysFile(jwt.publicKeysFile), clockSkewMs: jwt.clockSkewMs }
    : undefined
  if (auth === undefined) logger.warn('no PITBOSS_API_JWT_HS256_SECRET or PITBOSS_API_JWT_PUBLIC_KEYS_FILE: every protected route answers 401')
  const audit = await openAuditLog({ path: settings.auditFile })
  const clickhouse = createClickHouse(config.clickhouse)
  const app = buildApp({ metrics, version: '0.1.0', checks: { clickhouse: () => clickhouse.ping() }, auth, rateLimits: settings.rateLimits, audit, logger })
  const address = await app.listen({ host: config.api.host, port: config.api.port })
  logger.info({ address, auditFile: audit.path, auditHead: audit.headHash }, 'api listening')
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'api stopping')
    app.close().then(() => audit.close()).then(() => clickhouse.close()).then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'api failed to start')
  process.exitCode = 1
})
