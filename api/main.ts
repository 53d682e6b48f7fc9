/**
 * The API process: `buildApp` on the configured host and port, with token verification and
 * the audit log from the config (api/settings.ts), and everything the routes work on: the case
 * store and its Kafka worker (this process owns the store: alerts are filed into cases here),
 * the ClickHouse read model, the review publisher, the model deployment, the rule-set files,
 * STR settings, the screening lists and the signed webhooks. SIGTERM closes it gracefully.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'
import { createCaseService } from '../cases/case-service.js'
import { CaseWorker } from '../cases/worker.js'
import { systemClock } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { createLogger, exitAfterLogging } from '../core/logger.js'
import { DetectorRegistry } from '../detectors/index.js'
import { loadModelService } from '../models/service.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { createClickHouse } from '../sinks/clickhouse/client.js'
import { createClickHouseReadModel } from './read-model.js'
import { createKafkaReviewPublisher } from './review-publisher.js'
import { createKafkaScreeningPublisher } from './screening-publisher.js'
import { openRuleSetFiles } from './rule-set-files.js'
import { startAutoRescreen } from '../screening/auto-rescreen.js'
import { strSettings } from './str-settings.js'
import { buildApp } from './app.js'
import { openAuditLog } from './audit.js'
import { AuditRelay, createKafkaAuditPublisher } from './audit-relay.js'
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
  const clock = systemClock
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await codec.registerAll()
  // The audit file is the outbox of risk.audit.v1 (ClickHouse audit_log, str_reports): only synced lines go out.
  const auditPublisher = createKafkaAuditPublisher(config, logger)
  const auditRelay = new AuditRelay({ auditPath: audit.path, syncedBytes: () => audit.syncedBytes, publisher: auditPublisher, codec, logger: logger.child({ component: 'audit-relay' }) })
  await auditRelay.start()

  // The case store: this process owns it, files alerts into it, and serves officers from it.
  const cases = await createCaseService({ directory: config.cases.dir, clock })
  const worker = new CaseWorker({
    config, kafka: createKafka(config.kafka, logger), codec, service: cases, logger,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'case worker cannot continue')
      exitAfterLogging(logger, 1)
    },
  })
  await worker.start()
  const readModel = createClickHouseReadModel(clickhouse)
  const reviews = createKafkaReviewPublisher(config, codec, logger)
  const screeningInstructions = createKafkaScreeningPublisher(config, codec, logger)
  // 'skip': the API must still start (and roll back) when a deployed model no longer loads.
  const models = await loadModelService({ modelsDir: config.models.dir, deploymentFile: config.models.deploymentFile, clock, logger, defaultChampion: config.models.defaultChampion, unloadableAtStart: 'skip' })
  const ruleSets = openRuleSetFiles({ versionsDir: config.rules.versionsDir, activePath: config.rules.ruleSetPath, registry: new DetectorRegistry(), clock })
  const str = strSettings({
    homeDir: config.homeDir,
    referenceDataDir: config.referenceDataDir,
    localCurrency: config.str.localCurrency,
    topicPrefix: config.kafka.topicPrefix,
    clickhouse,
    reportingEntity: {
      entityId: config.str.entityId, branch: config.str.branch, name: config.str.entityName, countryCode: config.str.entityCountry, address: null,
      transactionLocation: config.str.transactionLocation,
      reportingPerson: { ...config.str.reporter, phone: null },
    },
  })
  const { webhooks } = config.api
  const app = buildApp({
    metrics, version: '0.1.0', checks: { clickhouse: () => clickhouse.ping() }, auth, rateLimits: settings.rateLimits, audit, logger, clock,
    operations: { cases, readModel, publishReview: (verdict) => reviews.publish(verdict), publishScreening: (instruction) => screeningInstructions.publish(instruction) },
    governance: { models, ruleSets, str, readModel, cases },
    screening: { listsDir: config.screening.listsDir },
    webhooks: { secrets: { kyc: webhooks.kycSecrets, regulator: webhooks.regulatorSecrets }, nonceFile: webhooks.nonceFile, toleranceMs: webhooks.toleranceMs },
    console: { enabled: config.api.console },
  })
  // Every list update rescreens every known player (screening/auto-rescreen.ts).
  const autoRescreen = startAutoRescreen(config, logger)
  const address = await app.listen({ host: config.api.host, port: config.api.port })
  logger.info({ address, auditFile: audit.path, auditHead: audit.headHash, casesDir: config.cases.dir }, 'api listening')
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'api stopping')
    app.close()
      .then(() => autoRescreen.stop())
      .then(() => worker.stop())
      .then(() => cases.shutdown())
      .then(() => reviews.close())
      .then(() => screeningInstructions.close())
      .then(() => models.close())
      .then(() => audit.close())
      .then(() => auditRelay.stop())
      .then(() => auditPublisher.close())
      .then(() => clickhouse.close())
      .then(() => process.exit(0), (error: unknown) => {
        logger.error({ err: error }, 'api did not stop cleanly')
        exitAfterLogging(logger, 1)
      })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'api failed to start')
  process.exitCode = 1
})
