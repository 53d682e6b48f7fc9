/**
 * Starts a local ClickHouse server for tests and the demo: Debian's `clickhouse-server` (18.16)
 * or a current `clickhouse` binary, on 127.0.0.1 only, with everything under `homeDir`:
 *
 *   ${homeDir}/clickhouse/config.xml, users.xml   written here on every start (never /etc)
 *   ${homeDir}/clickhouse/data/                    tables; survive stop and start
 *   ${homeDir}/logs/clickhouse.log, clickhouse.err.log, clickhouse.stdout.log
 *   ${homeDir}/run/clickhouse.json                 { url, httpPort, tcpPort, pid } while it runs
 *
 * User `default`, no password, accepted from loopback only. Ports are free ones picked at start
 * unless given. Starting is idempotent: a server recorded in the run file that still answers
 * /ping is reused. Concurrent starts for one homeDir (several test workers) are serialised by a
 * lock file. Measured on 18.16: ready on /ping 60–150 ms after spawn, ~85 MB RSS idle; SIGTERM
 * stops it in ~1 s, plus up to keep_alive_timeout (3 s) while a client keeps an idle connection.
 *
 * Example:
 *   const clickhouse = await startClickHouse({ homeDir: config.homeDir })
 *   // clickhouse.url === 'http://127.0.0.1:41234'
 *   await stopClickHouse(config.homeDir)
 */
import { spawn } from 'node:child_process'
import { constants as fsConstants } from 'node:fs'
import { access, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { createServer } from 'node:net'
import path from 'node:path'
import { sleep, systemClock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import { isProcessAlive } from '../process.js'

export interface ClickHouseInfo {
  /** HTTP interface, e.g. `http://127.0.0.1:41234`. */
  url: string
  httpPort: number
  /** Native protocol port, for `clickhouse-client --port`. */
  tcpPort: number
  pid: number
}

export interface StartClickHouseOptions {
  /** Project working folder; the server lives under `${homeDir}/clickhouse`. */
  homeDir: string
  /** Fixed HTTP port; default a free one. */
  httpPort?: number
  /** Fixed native port; default a free one. */
  tcpPort?: number
  /** How long to wait for /ping; default 30 s. */
  startTimeoutMs?: number
  /** Server binary; default `clickhouse-server`, else `clickhouse server`, from /usr/sbin, /usr/bin, /usr/local/bin, else PATH. */
  binaryPath?: string
}

export type ClickHouseStatus =
  | { running: true; info: ClickHouseInfo }
  | { running: false; info: null }

const INSTALL_HINT = 'apt-get install -y clickhouse-server clickhouse-client'
const STOP_GRACE_MS = 10_000
const PING_INTERVAL_MS = 25
const LOCK_STALE_MS = 120_000

interface Paths {
  root: string
  config: string
  users: string
  data: string
  logs: string
  log: string
  errorLog: string
  stdoutLog: string
  runDir: string
  runFile: string
  lockFile: string
}

function pathsOf(homeDir: string): Paths {
  const home = path.resolve(homeDir)
  const root = path.join(home, 'clickhouse')
  const logs = path.join(home, 'logs')
  const runDir = path.join(home, 'run')
  return {
    root,
    config: path.join(root, 'config.xml'),
    users: path.join(root, 'users.xml'),
    data: path.join(root, 'data') + path.sep,
    logs,
    log: path.join(logs, 'clickhouse.log'),
    errorLog: path.join(logs, 'clickhouse.err.log'),
    stdoutLog: path.join(logs, 'clickhouse.stdout.log'),
    runDir,
    runFile: path.join(runDir, 'clickhouse.json'),
    lockFile: path.join(runDir, 'clickhouse.lock'),
  }
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

// `<yandex>` is the root 18.16 requires; current ClickHouse still accepts it.
function configXml(paths: Paths, httpPort: number, tcpPort: number): string {
  const under = (name: string) => xmlText(path.join(paths.root, name) + path.sep)
  return `<?xml version="1.0"?>
<!-- Written by infra/clickhouse/launcher.ts on every start; edits are overwritten. -->
<yandex>
  <logger>
    <level>information</level>
    <log>${xmlText(paths.log)}</log>
    <errorlog>${xmlText(paths.errorLog)}</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${xmlText(paths.data)}</path>
  <tmp_path>${under('tmp')}</tmp_path>
  <user_files_path>${under('user_files')}</user_files_path>
  <format_schema_path>${under('format_schemas')}</format_schema_path>
  <users_config>${xmlText(paths.users)}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <!-- Small caches: a development server next to other services. -->
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
`
}

const USERS_XML = `<?xml version="1.0"?>
<!-- Written by infra/clickhouse/launcher.ts on every start; edits are overwritten. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`


/** True when `pid` is a server started with this homeDir's config (guards against pid reuse). */
async function isOurServer(pid: number, paths: Paths): Promise<boolean> {
  if (!isProcessAlive(pid)) return false
  try {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    return commandLine.split('\0').some((argument) => argument.includes(paths.config))
  } catch {
    // No /proc (not Linux): the /ping check on the recorded port has to do.
    return true
  }
}

// node:http with `Connection: close` rather than fetch: a kept-alive idle connection makes the
// server's shutdown wait for it (measured: SIGTERM took 8 s instead of 2 s).
function answersPing(httpPort: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet({ host: '127.0.0.1', port: httpPort, path: '/ping', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(response.statusCode === 200 && body.startsWith('Ok.')))
      response.on('error', () => resolve(false))
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(false))
  })
}

async function readRunFile(paths: Paths): Promise<ClickHouseInfo | null> {
  try {
    const info = JSON.parse(await readFile(paths.runFile, 'utf8')) as Partial<ClickHouseInfo>
    if (typeof info.pid !== 'number' || typeof info.httpPort !== 'number' || typeof info.tcpPort !== 'number' || typeof info.url !== 'string') return null
    return { url: info.url, httpPort: info.httpPort, tcpPort: info.tcpPort, pid: info.pid }
  } catch {
    return null
  }
}

async function writeRunFile(paths: Paths, info: ClickHouseInfo): Promise<void> {
  const temporary = `${paths.runFile}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(info, null, 2) + '\n')
  await rename(temporary, paths.runFile)
}

async function fileExecutable(candidate: string): Promise<boolean> {
  try {
    await access(candidate, fsConstants.X_OK)
    return (await stat(candidate)).isFile()
  } catch {
    return false
  }
}

// Where Debian (/usr/sbin/clickhouse-server, 18.16) and ClickHouse's own packages put the server.
const SERVER_FOLDERS = ['/usr/sbin', '/usr/bin', '/usr/local/bin']

/**
 * Finds the server: `clickhouse-server` (Debian's 18.16, or the symlink of current packages),
 * else the single `clickhouse` binary run as `clickhouse server`; failing both, the bare name
 * `clickhouse-server`, which spawn looks up on PATH.
 */
async function findServerCommand(binaryPath: string | undefined): Promise<{ command: string; prefixArguments: string[] }> {
  if (binaryPath !== undefined) {
    if (!(await fileExecutable(binaryPath))) {
      throw new RiskError('RISK_ERR_SUBSTRATE', `ClickHouse server binary ${binaryPath} is missing or not executable; install it with: ${INSTALL_HINT}`, { binaryPath })
    }
    return { command: binaryPath, prefixArguments: path.basename(binaryPath) === 'clickhouse' ? ['server'] : [] }
  }
  for (const [name, prefixArguments] of [['clickhouse-server', []], ['clickhouse', ['server']]] as const) {
    for (const folder of SERVER_FOLDERS) {
      const candidate = path.join(folder, name)
      if (await fileExecutable(candidate)) return { command: candidate, prefixArguments: [...prefixArguments] }
    }
  }
  return { command: 'clickhouse-server', prefixArguments: [] }
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, release it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then((info) => info.size, () => 0)
}

/** What was appended to a log since `offset` (logs accumulate over runs), at most the last `maxChars`. */
async function appendedSince(file: string, offset: number, maxChars = 4_000): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(offset).toString('utf8')
    return text.slice(-maxChars)
  } catch {
    return ''
  }
}

/** Serialises starts and stops for one homeDir across processes; a lock left by a dead process is taken over. */
async function withLock<T>(paths: Paths, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(paths.lockFile, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number((await readFile(paths.lockFile, 'utf8').catch(() => '')).trim())
      const ageMs = await stat(paths.lockFile).then((info) => systemClock.nowMs() - info.mtimeMs, () => 0)
      if ((Number.isInteger(holder) && holder > 0 && !isProcessAlive(holder)) || ageMs > LOCK_STALE_MS) {
        await rm(paths.lockFile, { force: true })
        continue
      }
      if (performance.now() > deadline) {
        throw new RiskError('RISK_ERR_SUBSTRATE', `another process (pid ${holder}) holds ${paths.lockFile}; wait for it or delete the file if that process is gone`, { lockFile: paths.lockFile })
      }
      await sleep(50)
    }
  }
  try {
    return await work()
  } finally {
    await rm(paths.lockFile, { force: true })
  }
}

async function runningInfo(paths: Paths): Promise<ClickHouseInfo | null> {
  const info = await readRunFile(paths)
  if (info === null) return null
  if (!(await isOurServer(info.pid, paths))) return null
  return (await answersPing(info.httpPort)) ? info : null
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (!isProcessAlive(pid)) return true
    await sleep(50)
  }
  return !isProcessAlive(pid)
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  if (await waitForExit(pid, STOP_GRACE_MS)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  await waitForExit(pid, 2_000)
}

type SpawnOutcome = { ready: true; info: ClickHouseInfo } | { ready: false; portInUse: boolean; detail: string }

async function spawnServer(paths: Paths, server: { command: string; prefixArguments: string[] }, httpPort: number, tcpPort: number, timeoutMs: number): Promise<SpawnOutcome> {
  await writeFile(paths.config, configXml(paths, httpPort, tcpPort))
  await writeFile(paths.users, USERS_XML)
  const logOffsets = { error: await sizeOf(paths.errorLog), stdout: await sizeOf(paths.stdoutLog) }
  const output = await open(paths.stdoutLog, 'a')
  let exited = false
  let exitDetail = ''
  try {
    const child = spawn(server.command, [...server.prefixArguments, `--config-file=${paths.config}`], {
      cwd: paths.root,
      detached: true,
      stdio: ['ignore', output.fd, output.fd],
    })
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
    child.once('exit', (code, signal) => {
      exited = true
      exitDetail = `exited with ${signal ?? `code ${code}`}`
    })
    const pid = child.pid
    if (pid === undefined) {
      const error = await spawnError
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
      throw new RiskError(
        'RISK_ERR_SUBSTRATE',
        missing ? `no ClickHouse server binary (clickhouse-server or clickhouse) found; install it with: ${INSTALL_HINT}` : `could not run ${server.command} (${error.message})`,
        { command: server.command },
        { cause: error },
      )
    }
    child.unref()
    const deadline = performance.now() + timeoutMs
    while (performance.now() < deadline) {
      if (exited) break
      if (await answersPing(httpPort, 500)) return { ready: true, info: { url: `http://127.0.0.1:${httpPort}`, httpPort, tcpPort, pid } }
      await sleep(PING_INTERVAL_MS)
    }
    if (!exited) {
      await terminate(pid)
      return { ready: false, portInUse: false, detail: `no answer on /ping within ${timeoutMs} ms` }
    }
    const logs = (await appendedSince(paths.stdoutLog, logOffsets.stdout)) + (await appendedSince(paths.errorLog, logOffsets.error))
    const lastLine = logs.split('\n').map((line) => line.trim()).filter(Boolean).pop() ?? ''
    return { ready: false, portInUse: /Address already in use/i.test(logs), detail: `${exitDetail}${lastLine === '' ? '' : `: ${lastLine.slice(0, 300)}`}` }
  } finally {
    await output.close()
  }
}

/**
 * Starts the server (or returns the one already running for this homeDir).
 * Throws RISK_ERR_SUBSTRATE when the binary is missing (the message gives the apt-get command)
 * or the server does not come up (the message names the log to read).
 */
export async function startClickHouse(options: StartClickHouseOptions): Promise<ClickHouseInfo> {
  const paths = pathsOf(options.homeDir)
  const timeoutMs = options.startTimeoutMs ?? 30_000
  await mkdir(paths.runDir, { recursive: true })
  const existing = await runningInfo(paths)
  if (existing !== null) return existing

  return withLock(paths, timeoutMs + STOP_GRACE_MS, async () => {
    // Another process may have started it while this one waited for the lock.
    const started = await runningInfo(paths)
    if (started !== null) return started

    // A recorded server that is ours but does not answer is hung: stop it before reusing its data folder.
    const stale = await readRunFile(paths)
    if (stale !== null && (await isOurServer(stale.pid, paths))) await terminate(stale.pid)
    await rm(paths.runFile, { force: true })

    const server = await findServerCommand(options.binaryPath)
    for (const folder of [paths.root, paths.data, paths.logs, path.join(paths.root, 'tmp'), path.join(paths.root, 'user_files'), path.join(paths.root, 'format_schemas')]) {
      await mkdir(folder, { recursive: true })
    }
    // A picked port can be taken by someone else before the server binds it: retry with new ones.
    const attempts = options.httpPort !== undefined && options.tcpPort !== undefined ? 1 : 3
    let detail = ''
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const httpPort = options.httpPort ?? (await freePort())
      let tcpPort = options.tcpPort ?? (await freePort())
      while (tcpPort === httpPort) tcpPort = await freePort()
      const outcome = await spawnServer(paths, server, httpPort, tcpPort, timeoutMs)
      if (outcome.ready) {
        await writeRunFile(paths, outcome.info)
        return outcome.info
      }
      detail = outcome.detail
      if (!outcome.portInUse) break
    }
    throw new RiskError('RISK_ERR_SUBSTRATE', `ClickHouse did not start (${detail}); read ${paths.errorLog} and ${paths.stdoutLog}`, { homeDir: options.homeDir })
  })
}

/** Stops the server of this homeDir if it runs: SIGTERM, up to 10 s, then SIGKILL. Idempotent; data is kept. */
export async function stopClickHouse(homeDir: string): Promise<void> {
  const paths = pathsOf(homeDir)
  const info = await readRunFile(paths)
  if (info === null) return
  await withLock(paths, STOP_GRACE_MS * 2, async () => {
    const current = await readRunFile(paths)
    if (current !== null && (await isOurServer(current.pid, paths))) await terminate(current.pid)
    await rm(paths.runFile, { force: true })
  })
}

/** Whether this homeDir's server runs and answers /ping, with its ports. */
export async function clickHouseStatus(homeDir: string): Promise<ClickHouseStatus> {
  const info = await runningInfo(pathsOf(homeDir))
  return info === null ? { running: false, info: null } : { running: true, info }
}
