/**
 * A thin ClickHouse client: SqlQuery in, rows out, coded errors.
 *
 * Wraps `@clickhouse/client` over HTTP. Queries are `SqlQuery` values from `sql\`...\``, so values
 * are always bound client-side (ClickHouse 18.16 has no server-side parameters); results and
 * inserts use JSONEachRow, which 18.16 and current ClickHouse both speak.
 *
 * Types as they come back in JSON: UInt64 and Int64 (and `count()`, which is UInt64) arrive as
 * strings, so that values beyond 2^53 keep their precision; convert with `BigInt(row.x)` or,
 * where the range is known to be small, `Number(row.x)`. Smaller integers and floats arrive as
 * numbers, DateTime as 'YYYY-MM-DD hh:mm:ss' in the column's time zone, arrays as arrays.
 * Inserts accept Int64 as a number or a decimal string, DateTime as 'YYYY-MM-DD hh:mm:ss'
 * (see `formatDateTime`) or epoch seconds.
 *
 * Errors: a server that cannot be reached, times out, answers without a ClickHouse error, or
 * reports a transient condition (too many queries or parts, memory limit, network) raises
 * RISK_ERR_CLICKHOUSE_UNAVAILABLE (retriable); any other server error raises
 * RISK_ERR_CLICKHOUSE_QUERY with the server's message. Status codes are not used because 18.16
 * answers HTTP 500 even for syntax errors.
 *
 * Example:
 *   const clickhouse = createClickHouse(config.clickhouse)
 *   const rows = await clickhouse.query<{ outcome: string; decisions: string }>(
 *     sql`SELECT outcome, count() AS decisions FROM decisions FINAL WHERE player_id = ${playerId} GROUP BY outcome`)
 *   await clickhouse.insert('decisions', [toDecisionRow(decision)])
 *   await clickhouse.close()
 */
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import type { ClickHouseClient } from '@clickhouse/client'
import { RiskError } from '../../core/errors.js'
import { identifier, isIdentifier } from './sql.js'
import type { SqlQuery } from './sql.js'

export interface ClickHouseOptions {
  /** Base URL of the HTTP interface, e.g. `http://127.0.0.1:18123`. */
  readonly url: string
  /** Database that unqualified table names refer to; must exist (see `migrate`, which creates it). */
  readonly database: string
  readonly username: string
  readonly password: string
  /** Per-request timeout; default 30 s. */
  readonly requestTimeoutMs?: number
}

export interface ClickHouse {
  readonly url: string
  readonly database: string
  /** Runs a query and returns its rows (JSONEachRow). Int64/UInt64 values are strings. */
  query<T = Record<string, unknown>>(query: SqlQuery): Promise<T[]>
  /** Runs a statement without a result (DDL, ALTER, INSERT ... SELECT). */
  command(query: SqlQuery): Promise<void>
  /** Inserts rows as JSONEachRow into `table` (`name` or `database.name`); an empty list sends nothing. */
  insert(table: string, rows: readonly object[]): Promise<void>
  /** True when the server answers `/ping`; never throws. */
  ping(): Promise<boolean>
  /** A client for another database on the same server and credentials; close it separately. */
  withDatabase(database: string): ClickHouse
  close(): Promise<void>
}

// Server error codes that describe a passing condition rather than a wrong query: retrying helps.
const TRANSIENT_SERVER_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
])

const MAX_MESSAGE_CHARS = 600

interface ServerError {
  code: number
  message: string
}

/**
 * Reads a server exception in either format:
 *   18.16:   "Code: 60, e.displayText() = DB::Exception: Table x doesn't exist., e.what() = DB::Exception"
 *   current: "Code: 60. DB::Exception: Table x does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)"
 */
function parseServerError(error: unknown): ServerError | undefined {
  if (!(error instanceof Error)) return undefined
  const clientCode = (error as { code?: unknown }).code
  // @clickhouse/client parses current-format errors into ClickHouseError with a numeric string code.
  const codeText = typeof clientCode === 'string' && /^\d+$/.test(clientCode) ? clientCode : /^\s*Code: (\d+)[.,]/.exec(error.message)?.[1]
  if (codeText === undefined) return undefined
  const text = error.message
  const exceptionAt = text.lastIndexOf('Exception: ')
  let message = exceptionAt >= 0 ? text.slice(exceptionAt + 'Exception: '.length) : text
  message = message.replace(/, e\.what\(\) = [\s\S]*$/, '').replace(/\s*\(version [^)]*\)\s*$/, '')
  message = message.replace(/\s+/g, ' ').trim()
  if (message.length > MAX_MESSAGE_CHARS) message = message.slice(0, MAX_MESSAGE_CHARS) + '…'
  return { code: Number(codeText), message }
}

function toRiskError(error: unknown, url: string, operation: string): RiskError {
  if (error instanceof RiskError) return error
  const server = parseServerError(error)
  if (server === undefined) {
    const reason = error instanceof Error ? ((error as { code?: unknown }).code as string | undefined) ?? error.message : String(error)
    return new RiskError(
      'RISK_ERR_CLICKHOUSE_UNAVAILABLE',
      `ClickHouse at ${url} did not answer (${String(reason).replace(/\s+/g, ' ').slice(0, 200)}); check that it runs (infra/clickhouse) and PITBOSS_CLICKHOUSE_URL`,
      { operation },
      { cause: error },
    )
  }
  const code = TRANSIENT_SERVER_CODES.has(server.code) ? 'RISK_ERR_CLICKHOUSE_UNAVAILABLE' : 'RISK_ERR_CLICKHOUSE_QUERY'
  return new RiskError(code, `ClickHouse error ${server.code}: ${server.message}`, { operation, serverCode: server.code }, { cause: error })
}

function tableName(table: string): string {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every(isIdentifier)) {
    throw new RiskError('RISK_ERR_CLICKHOUSE_QUERY', `'${table}' is not a table name: use name or database.name with letters, digits and '_'`)
  }
  return identifier(...parts).text
}

/**
 * Creates a client. Nothing is sent until the first call; call `ping()` to check the server.
 * The database is not created here: `migrate()` does that.
 */
export function createClickHouse(options: ClickHouseOptions): ClickHouse {
  if (!isIdentifier(options.database)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `ClickHouse database '${options.database}' must use letters, digits and '_' (PITBOSS_CLICKHOUSE_DATABASE)`)
  }
  const url = options.url.replace(/\/+$/, '')
  const client: ClickHouseClient = createClient({
    url,
    database: options.database,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    application: 'pitboss',
    // Failures surface as RiskErrors to the caller, which logs them once with context.
    log: { level: ClickHouseLogLevel.OFF },
  })

  async function run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw toRiskError(error, url, operation)
    }
  }

  return {
    url,
    database: options.database,
    query: <T>(query: SqlQuery) =>
      run('query', async () => {
        const result = await client.query({ query: query.text, format: 'JSONEachRow' })
        return result.json<T>()
      }),
    command: (query: SqlQuery) =>
      run('command', async () => {
        await client.command({ query: query.text })
      }),
    insert: (table: string, rows: readonly object[]) =>
      run('insert', async () => {
        const target = tableName(table)
        if (rows.length === 0) return
        await client.insert({ table: target, values: rows as object[], format: 'JSONEachRow' })
      }),
    ping: async () => {
      try {
        return (await client.ping()).success
      } catch {
        return false
      }
    },
    withDatabase: (database: string) => createClickHouse({ ...options, database }),
    close: () => client.close(),
  }
}
