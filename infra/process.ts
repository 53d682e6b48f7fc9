/**
 * Process liveness for the local-service launchers (broker, registry, ClickHouse).
 */
import { readFileSync } from 'node:fs'

/**
 * True when the process exists and has not exited. An exited service whose parent is gone stays
 * a zombie (state Z) until init reaps it, and kill(pid, 0) still succeeds on a zombie.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  const state = processState(pid)
  return state !== 'Z' && state !== 'X'
}

/** Linux's one-letter process state from /proc (empty where /proc is not available). */
export function processState(pid: number): string {
  try {
    // Synchronous on purpose: /proc files are generated on demand and never block.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0)
  } catch {
    return ''
  }
}
