/**
 * Starts, finds and stops the local schema registry process for a pitboss home dir. Tests, the
 * demo and developers call it; it leaves the registry running (detached) until stopRegistry.
 *
 * Layout under `homeDir`:
 *   run/registry.json   `{"url":"http://127.0.0.1:PORT","pid":N}`, written by the process once it listens
 *   logs/registry.log   its stdout and stderr (JSON lines), appended across runs
 *   registry/           its data (registry.log.jsonl, the lock)
 *   run/registry.json.start.lock   held while a start is in progress, so concurrent starts make one process
 *
 * Example:
 *   const registry = await startRegistry({ homeDir: '/tmp/pitboss-1' })  // { url: 'http://127.0.0.1:41234', pid: 4242 }
 *   const client = new SchemaRegistry({ host: registry.url })
 *   ...
 *   await stopRegistry('/tmp/pitboss-1')
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import { isProcessAlive } from '../process.js'

export interface RegistryInfo {
  readonly url: string
  readonly pid: number
}

export type RegistryStatus =
  | ({ readonly running: true } & RegistryInfo)
  | { readonly running: false; readonly reason: string }

export interface StartRegistryOptions {
  readonly homeDir: string
  /** How long to wait for the process to answer; default 20 s (tsx compiles on first start). */
  readonly readyTimeoutMs?: number
  /** pino level of the process's log; default info. */
  readonly logLevel?: string
}

const DEFAULT_READY_TIMEOUT_MS = 20_000
const POLL_INTERVAL_MS = 50
const PROBE_TIMEOUT_MS = 1_000
/** Between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5_000

const moduleDir = path.dirname(fileURLToPath(import.meta.url))
const mainPath = path.join(moduleDir, 'main.ts')
/** The repository root: `--import tsx` resolves from the child's working directory. */
const repositoryRoot = path.resolve(moduleDir, '..', '..')

export function registryPaths(homeDir: string): { stateFile: string; logFile: string; dataDir: string } {
  const home = path.resolve(homeDir)
  return {
    stateFile: path.join(home, 'run', 'registry.json'),
    logFile: path.join(home, 'logs', 'registry.log'),
    dataDir: path.join(home, 'registry'),
  }
}

function readStateFile(stateFile: string): RegistryInfo | undefined {
  let text: string
  try {
    text = fs.readFileSync(stateFile, 'utf8')
  } catch {
    return undefined
  }
  try {
    const state = JSON.parse(text) as Partial<RegistryInfo>
    if (typeof state.url === 'string' && Number.isSafeInteger(state.pid) && (state.pid as number) > 0) return { url: state.url, pid: state.pid as number }
  } catch {
    // fall through: not ours or damaged
  }
  return undefined
}


/**
 * Whether `pid` is a running registry process. A stale state file may name a pid the system has
 * since given to another program; on Linux its command line tells them apart, so we never
 * signal a stranger. Zombies have an empty command line and count as gone.
 */
function isRegistryProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join('infra', 'registry', 'main.ts'))
  } catch {
    return true // no /proc (not Linux): the pid is alive, trust the state file
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

/** Reports whether the registry of `homeDir` is running and answering `GET /`. */
export async function registryStatus(homeDir: string): Promise<RegistryStatus> {
  const { stateFile } = registryPaths(homeDir)
  const state = readStateFile(stateFile)
  if (state === undefined) return { running: false, reason: `no registry state file at ${stateFile}` }
  if (!isRegistryProcess(state.pid)) return { running: false, reason: `process ${state.pid} named in ${stateFile} is not running` }
  if (!(await answers(state.url))) return { running: false, reason: `process ${state.pid} does not answer GET ${state.url}/` }
  return { running: true, url: state.url, pid: state.pid }
}

function tailOf(logFile: string, lineCount = 5): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lineCount).join('\n')
  } catch {
    return ''
  }
}

/**
 * Creates `file` holding `content` unless it exists, atomically: the content is written to a
 * private temp file first and hard-linked into place, so no reader sees an empty lock.
 */
function createWithContent(file: string, content: string): boolean {
  const temporary = `${file}.${randomUUID()}.tmp`
  fs.writeFileSync(temporary, content)
  try {
    fs.linkSync(temporary, file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    fs.rmSync(temporary, { force: true })
  }
}

/**
 * Serialises starts for one home dir across processes (parallel test files share a home): an
 * exclusive-create lock file holding the starter's pid, taken over when that process is gone.
 */
async function withStartLock<T>(lockFile: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (createWithContent(lockFile, `${process.pid}\n`)) break
    let holder: number
    try {
      holder = Number(fs.readFileSync(lockFile, 'utf8').trim())
    } catch {
      continue // released meanwhile
    }
    if (!(Number.isSafeInteger(holder) && holder > 0 && isProcessAlive(holder))) {
      fs.rmSync(lockFile, { force: true }) // its starter died mid-start
      continue
    }
    if (performance.now() > deadline) {
      throw new RiskError('RISK_ERR_SUBSTRATE', `another start of the schema registry (process ${holder}) holds ${lockFile}; remove it if that process is not starting one`, { lockFile })
    }
    await sleep(POLL_INTERVAL_MS)
  }
  try {
    return await work()
  } finally {
    fs.rmSync(lockFile, { force: true })
  }
}

/**
 * Starts the registry of `homeDir`, or returns the one already running (idempotent, also across
 * processes). Throws RISK_ERR_SUBSTRATE, naming the log file, if the process exits or does not
 * answer in time.
 */
export async function startRegistry(options: StartRegistryOptions): Promise<RegistryInfo> {
  const status = await registryStatus(options.homeDir)
  if (status.running) return { url: status.url, pid: status.pid }
  const { stateFile, logFile, dataDir } = registryPaths(options.homeDir)
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
  fs.mkdirSync(path.dirname(stateFile), { recursive: true })
  return withStartLock(`${stateFile}.start.lock`, timeoutMs + STOP_GRACE_MS, async () => {
    const current = await registryStatus(options.homeDir) // a start we waited for may have won
    if (current.running) return { url: current.url, pid: current.pid }
    const stale = readStateFile(stateFile)
    // A registry process that is alive but not answering would hold the data dir's lock.
    if (stale !== undefined && isRegistryProcess(stale.pid)) await stopRegistry(options.homeDir)
    fs.rmSync(stateFile, { force: true })
    fs.mkdirSync(path.dirname(logFile), { recursive: true })
    fs.mkdirSync(dataDir, { recursive: true })
    return spawnAndWait({ stateFile, logFile, dataDir, timeoutMs, logLevel: options.logLevel ?? 'info' })
  })
}

async function spawnAndWait(options: { stateFile: string; logFile: string; dataDir: string; timeoutMs: number; logLevel: string }): Promise<RegistryInfo> {
  const { stateFile, logFile, dataDir, timeoutMs } = options
  const logFd = fs.openSync(logFile, 'a')
  let exitDescription: string | undefined
  let child
  try {
    child = spawn(process.execPath, [
      '--import', 'tsx', mainPath,
      '--data-dir', dataDir, '--port', '0', '--state-file', stateFile, '--log-level', options.logLevel,
    ], { cwd: repositoryRoot, detached: true, stdio: ['ignore', logFd, logFd] })
  } finally {
    fs.closeSync(logFd) // the child has its own copy
  }
  child.on('error', (error) => { exitDescription = `could not be spawned (${error.message})` })
  child.on('exit', (code, signal) => { exitDescription = `exited with ${signal ?? `code ${code}`}` })
  child.unref() // the registry outlives this process

  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const state = readStateFile(stateFile)
    if (state !== undefined && state.pid === child.pid && (await answers(state.url))) return state
    if (exitDescription !== undefined) {
      const tail = tailOf(logFile)
      throw new RiskError('RISK_ERR_SUBSTRATE',
        `the schema registry ${exitDescription} before it was ready; see ${logFile}${tail === '' ? '' : `, which ends:\n${tail}`}`,
        { logFile })
    }
    await sleep(POLL_INTERVAL_MS)
  }
  if (exitDescription === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  throw new RiskError('RISK_ERR_SUBSTRATE', `the schema registry did not answer within ${timeoutMs} ms; see ${logFile}`, { logFile, timeoutMs })
}

/**
 * Stops the registry of `homeDir` if one runs: SIGTERM, then SIGKILL after 5 s. Idempotent;
 * removes the state file.
 */
export async function stopRegistry(homeDir: string, options: { readonly graceMs?: number } = {}): Promise<void> {
  const { stateFile } = registryPaths(homeDir)
  const state = readStateFile(stateFile)
  if (state !== undefined && isRegistryProcess(state.pid)) {
    process.kill(state.pid, 'SIGTERM')
    const deadline = performance.now() + (options.graceMs ?? STOP_GRACE_MS)
    while (isRegistryProcess(state.pid) && performance.now() < deadline) await sleep(POLL_INTERVAL_MS)
    if (isRegistryProcess(state.pid)) process.kill(state.pid, 'SIGKILL')
    while (isRegistryProcess(state.pid)) await sleep(POLL_INTERVAL_MS)
  }
  fs.rmSync(stateFile, { force: true })
}
