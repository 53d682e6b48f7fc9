/**
 * Schema migrations for ClickHouse.
 *
 * Migrations are the files `sinks/clickhouse/migrations/NNN_name.sql` (NNN a version number,
 * name in lower case with '_'), applied in version order inside `database`, each recorded in
 * `schema_migrations` (version, name, checksum, applied_at) after all its statements ran.
 *
 * Rules for a migration file:
 * - Statements end with `;` at the end of a line; a `;` inside a line, a string or a comment does
 *   not split.
 * - ClickHouse has no transactional DDL: a migration interrupted part-way is re-run from its first
 *   statement, so every statement must be idempotent (`CREATE TABLE IF NOT EXISTS`,
 *   `ADD COLUMN IF NOT EXISTS`...).
 * - A recorded migration never changes: its checksum (SHA-256 of the file, line endings
 *   normalised) is compared on every run and a change fails with RISK_ERR_MIGRATION. Write a new
 *   migration instead.
 * - Unqualified table names refer to `database`.
 * - Two processes migrating at once both apply and record the pending migrations; with idempotent
 *   statements that is harmless, and `schema_migrations` (ReplacingMergeTree by version, read
 *   with FINAL) keeps one row per version.
 * - SQL must run on ClickHouse 18.16 and current ClickHouse (see docs in 001_decisions.sql).
 *
 * Example:
 *   const clickhouse = createClickHouse(config.clickhouse)
 *   const { applied } = await migrate(clickhouse, config.clickhouse.database)  // ['001_decisions', '002_events_and_outputs'] the first time, [] after
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { systemClock } from '../../core/clock.js'
import type { Clock } from '../../core/clock.js'
import { RiskError, isRiskError } from '../../core/errors.js'
import type { ClickHouse } from './client.js'
import { formatDateTime, identifier, isIdentifier, scanSql, sql, unsafeRawSql } from './sql.js'

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

const MIGRATION_FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/

export interface Migration {
  readonly version: number
  /** File name without `.sql`, e.g. `001_decisions`. */
  readonly name: string
  readonly checksum: string
  readonly statements: readonly string[]
}

export interface MigrateOptions {
  /** Folder of NNN_name.sql files; default the shipped `sinks/clickhouse/migrations/`. */
  readonly migrationsDir?: string
  /** Source of applied_at; default the system clock. */
  readonly clock?: Clock
}

export interface MigrateResult {
  /** Names of the migrations applied by this run, in order. */
  readonly applied: readonly string[]
  /** Names of the migrations that were already recorded. */
  readonly alreadyApplied: readonly string[]
}

function migrationError(message: string, context: Record<string, string | number> = {}, cause?: unknown): RiskError {
  return new RiskError('RISK_ERR_MIGRATION', message, context, cause === undefined ? undefined : { cause })
}

// After a `;`: spaces, an optional `--` comment, then the end of the line or of the script.
const STATEMENT_END = /[ \t]*(?:--[^\r\n]*)?(?:\r?\n|$)/y

/**
 * Splits a script into statements at `;` that ends a line (only spaces or a `--` comment after it) and is
 * code, not inside a string, quoted name or comment. Pieces holding only comments are dropped.
 *
 * Example: splitStatements("CREATE TABLE a (x String) ENGINE = Log;\nSELECT ';';\n") -> 2 statements
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = []
  let start = 0
  let hasCode = false
  const state = scanSql(script, 'code', (index, character) => {
    STATEMENT_END.lastIndex = index + 1
    if (character === ';' && STATEMENT_END.test(script)) {
      if (hasCode) statements.push(script.slice(start, index).trim())
      start = index + 1
      hasCode = false
    } else if (!/\s/.test(character)) {
      hasCode = true
    }
  })
  if (state !== 'code' && state !== 'line-comment') throw migrationError(`the script ends inside an unterminated ${state.replace('-', ' ')}`)
  if (hasCode) statements.push(script.slice(start).trim())
  return statements
}

function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n'), 'utf8').digest('hex')
}

/** Reads and orders the migration files of a folder. */
export async function loadMigrations(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  let files: string[]
  try {
    files = await readdir(migrationsDir)
  } catch (error) {
    throw migrationError(`cannot read the migrations folder ${migrationsDir}`, { migrationsDir }, error)
  }
  const migrations: Migration[] = []
  for (const file of files.filter((name) => name.endsWith('.sql')).sort()) {
    const match = MIGRATION_FILE_PATTERN.exec(file)
    if (match === null) throw migrationError(`migration file ${file} must be named NNN_name.sql (digits, '_', lower-case name)`, { file })
    const text = await readFile(path.join(migrationsDir, file), 'utf8')
    const name = file.slice(0, -'.sql'.length)
    const statements = splitStatements(text)
    if (statements.length === 0) throw migrationError(`migration ${name} holds no statement`, { migration: name })
    migrations.push({ version: Number(match[1]), name, checksum: checksumOf(text), statements })
  }
  migrations.sort((left, right) => left.version - right.version)
  for (let index = 1; index < migrations.length; index++) {
    const previous = migrations[index - 1]
    const current = migrations[index]
    if (previous !== undefined && current !== undefined && previous.version === current.version) {
      throw migrationError(`migrations ${previous.name} and ${current.name} share version ${current.version}; renumber one`, { version: current.version })
    }
  }
  return migrations
}

interface AppliedRow {
  version: number
  name: string
  checksum: string
}

/**
 * Creates `database` if missing and applies the pending migrations in order. Running it again is
 * a no-op. Fails with RISK_ERR_MIGRATION when a recorded migration's file changed or went
 * missing, or a statement fails (the server's message is kept; re-run after fixing).
 * Infrastructure failures keep their retriable RISK_ERR_CLICKHOUSE_UNAVAILABLE code.
 */
export async function migrate(clickhouse: ClickHouse, database: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (!isIdentifier(database)) throw migrationError(`database name '${database}' must use letters, digits and '_'`, { database })
  const migrations = await loadMigrations(options.migrationsDir)
  const clock = options.clock ?? systemClock

  // The HTTP interface refuses every request naming a database that does not exist, even
  // CREATE DATABASE, so that one goes through the `system` database, which always exists.
  const system = clickhouse.withDatabase('system')
  try {
    await system.command(sql`CREATE DATABASE IF NOT EXISTS ${identifier(database)}`)
  } finally {
    await system.close()
  }

  const target = clickhouse.database === database ? clickhouse : clickhouse.withDatabase(database)
  try {
    await target.command(sql`CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime('UTC'))
      ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`)
    const recorded = new Map<number, AppliedRow>()
    for (const row of await target.query<AppliedRow>(sql`SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version`)) {
      recorded.set(Number(row.version), row)
    }

    const byVersion = new Map(migrations.map((migration) => [migration.version, migration]))
    for (const row of recorded.values()) {
      const migration = byVersion.get(Number(row.version))
      if (migration === undefined) {
        throw migrationError(`migration ${row.name} is recorded in ${database}.schema_migrations but its file is missing; restore it`, { migration: row.name })
      }
      if (migration.name !== row.name || migration.checksum !== row.checksum) {
        throw migrationError(
          `migration ${row.name} was applied but ${migration.name}.sql has changed since (checksum ${migration.checksum.slice(0, 12)}, recorded ${row.checksum.slice(0, 12)}); restore it and add a new migration instead`,
          { migration: row.name, database },
        )
      }
    }

    const applied: string[] = []
    const alreadyApplied: string[] = []
    for (const migration of migrations) {
      if (recorded.has(migration.version)) {
        alreadyApplied.push(migration.name)
        continue
      }
      for (const [index, statement] of migration.statements.entries()) {
        try {
          await target.command(unsafeRawSql(statement))
        } catch (error) {
          if (isRiskError(error, 'RISK_ERR_CLICKHOUSE_UNAVAILABLE')) throw error
          const reason = error instanceof Error ? error.message : String(error)
          throw migrationError(`migration ${migration.name} failed at statement ${index + 1}: ${reason}`, { migration: migration.name, statement: index + 1 }, error)
        }
      }
      await target.insert('schema_migrations', [
        { version: migration.version, name: migration.name, checksum: migration.checksum, applied_at: formatDateTime(clock.nowMs()) },
      ])
      applied.push(migration.name)
    }
    return { applied, alreadyApplied }
  } finally {
    if (target !== clickhouse) await target.close()
  }
}
