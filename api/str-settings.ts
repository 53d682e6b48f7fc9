/**
 * What the STR and regulator routes need beside a case (issue 8, item 2): who files (the
 * reporting entity), in which currency, against which goAML schema, where drafts and exported
 * files are kept, and the ClickHouse the drafts and reports read (api/str-queries.ts).
 *
 * The configuration fields are proposed for core/config.ts in docs/str.md ("Configuration the
 * routes need"); until they land, the process that builds the API fills them with
 * `strSettings(...)`, which supplies the defaults below.
 *
 * Example:
 *   const str = strSettings({ homeDir: config.homeDir, referenceDataDir: config.referenceDataDir,
 *     reportingEntity, localCurrency: 'EUR', clickhouse: createClickHouse(config.clickhouse), topicPrefix: config.kafka.topicPrefix })
 *   // str.schemaPath -> '<referenceDataDir>/regulator/goaml-5.0.2/goAMLSchema.xsd', str.draftsDir -> '<homeDir>/str/drafts'
 */
import path from 'node:path'
import type { ClickHouse } from '../sinks/clickhouse/client.js'
import type { StrReportingEntity } from '../sinks/str/draft.js'
import { goamlSchemaPath } from '../sinks/str/validate.js'

export interface StrSettings {
  /** The operator filing (goAML reporting entity and reporting person). */
  readonly reportingEntity: StrReportingEntity
  /** ISO 4217 code of the reports' local amounts, e.g. EUR. */
  readonly localCurrency: string
  /** The goAML XSD exports validate against (default `goamlSchemaPath(referenceDataDir)`). */
  readonly schemaPath: string
  /** Where exported STR files are written (default `<homeDir>/str/exports`). */
  readonly exportDir: string
  /** Where STR drafts are kept, one JSON file each (api/str-store.ts; default `<homeDir>/str/drafts`). */
  readonly draftsDir: string
  /** xmllint is killed after this long (default 10 000 ms; a report validates in ~15 ms). */
  readonly xmllintTimeoutMs: number
  /** Transactions in scope when neither the request nor the case narrows them: this long before the case's first alert (default 30 days). */
  readonly lookbackMs: number
  /** The deployment's topic prefix: `events.topic` carries it (core/topics.ts topicName). */
  readonly topicPrefix: string
  /** The read side: events, decisions, alerts, dead letters, withdrawal events, clusters. */
  readonly clickhouse: ClickHouse
}

export const DEFAULT_STR_LOOKBACK_MS = 30 * 24 * 60 * 60 * 1000
export const DEFAULT_XMLLINT_TIMEOUT_MS = 10_000

export interface StrSettingsInput extends Partial<Omit<StrSettings, 'reportingEntity' | 'localCurrency' | 'clickhouse'>> {
  readonly homeDir: string
  readonly referenceDataDir: string
  readonly reportingEntity: StrReportingEntity
  readonly localCurrency: string
  readonly clickhouse: ClickHouse
}

/** StrSettings with the defaults filled in, frozen. */
export function strSettings(input: StrSettingsInput): StrSettings {
  return Object.freeze({
    reportingEntity: input.reportingEntity,
    localCurrency: input.localCurrency,
    schemaPath: input.schemaPath ?? goamlSchemaPath(input.referenceDataDir),
    exportDir: input.exportDir ?? path.join(input.homeDir, 'str', 'exports'),
    draftsDir: input.draftsDir ?? path.join(input.homeDir, 'str', 'drafts'),
    xmllintTimeoutMs: input.xmllintTimeoutMs ?? DEFAULT_XMLLINT_TIMEOUT_MS,
    lookbackMs: input.lookbackMs ?? DEFAULT_STR_LOOKBACK_MS,
    topicPrefix: input.topicPrefix ?? '',
    clickhouse: input.clickhouse,
  })
}
