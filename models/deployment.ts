/**
 * The deployment file: which model folder decides (the champion), which ones only score beside
 * it (the shadows), and the audit trail of every change (issue 4, item 3). It is the one place
 * the engine, the API and the CLI agree on; each of them runs its own `ModelService` over it
 * (models/service.ts), and the engine re-reads it on a timer.
 *
 * Models are named by their folder under the models directory (`<modelsDir>/<folder>/manifest.json`),
 * e.g. `withdrawal-burst-xgb-v1`; the manifest inside gives the model id and version decisions carry.
 *
 * Example (`<state>/models/deployment.json`):
 *   {
 *     "champion": "withdrawal-burst-xgb-v2",
 *     "shadows": ["withdrawal-burst-xgb-v3"],
 *     "changedBy": "alice", "changedAtMs": 1767225600000,
 *     "history": [{ "atMs": 1767225600000, "actor": "alice", "action": "activate",
 *                   "folder": "withdrawal-burst-xgb-v2", "model": "withdrawal-burst-xgb@2.0.0", "sha256": "…",
 *                   "before": { "champion": "withdrawal-burst-xgb-v1", "shadows": ["withdrawal-burst-xgb-v3"] },
 *                   "after": { "champion": "withdrawal-burst-xgb-v2", "shadows": ["withdrawal-burst-xgb-v3"] } }]
 *   }
 *
 * Writes are atomic (temp file, fsync, rename, fsync of the folder): a reader sees the old file
 * or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { RiskError } from '../core/errors.js'

/** Who decides and who shadows. Folder names under the models directory. */
export interface DeploymentState {
  readonly champion: string | null
  readonly shadows: readonly string[]
}

export const DEPLOYMENT_ACTIONS = ['activate', 'shadow', 'unshadow', 'rollback', 'upload'] as const
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number]

/** One change, as the audit trail keeps it. */
export interface DeploymentAuditEntry {
  readonly atMs: number
  readonly actor: string
  readonly action: DeploymentAction
  /** The folder the action was about (for a rollback: the champion it brought back). */
  readonly folder: string
  /** `modelId@modelVersion` from that folder's manifest, and the model file's sha256: what exactly was deployed. */
  readonly model: string
  readonly sha256: string
  readonly before: DeploymentState
  readonly after: DeploymentState
}

export interface Deployment extends DeploymentState {
  readonly changedBy: string | null
  readonly changedAtMs: number | null
  readonly history: readonly DeploymentAuditEntry[]
}

/** A deployment file as read, with its exact text (to notice that another process changed it since). */
export interface DeploymentRead {
  readonly deployment: Deployment
  /** null when the file does not exist (the default champion applies). */
  readonly text: string | null
}

/** Folder names are plain names: no separators, no `..`, so a name can never point outside the models directory. */
const FOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function checkFolderName(folder: string): string {
  if (!FOLDER_NAME.test(folder)) throw new RiskError('RISK_ERR_REQUEST_INVALID', `'${folder}' is not a model folder name (letters, digits, '.', '_', '-'; no path)`, { folder })
  return folder
}

export const sameState = (left: DeploymentState, right: DeploymentState): boolean =>
  left.champion === right.champion && left.shadows.length === right.shadows.length && left.shadows.every((folder, index) => folder === right.shadows[index])

const invalid = (file: string, what: string): RiskError =>
  new RiskError('RISK_ERR_CONFIG_INVALID', `deployment file ${file} ${what}; fix it by hand or restore it from the history of another copy`, { file })

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string')

/**
 * Reads the deployment file. When it does not exist, the deployment is `defaultChampion` (the
 * shipped model, or null) with no shadows and no history. A file that exists but is not a
 * deployment is refused with RISK_ERR_CONFIG_INVALID rather than replaced by the default.
 */
export function readDeployment(file: string, defaultChampion: string | null): DeploymentRead {
  return parseDeployment(file, readDeploymentText(file), defaultChampion)
}

/** `readDeployment` on text already read (null: the file is absent). */
export function parseDeployment(file: string, text: string | null, defaultChampion: string | null): DeploymentRead {
  if (text === null) return { deployment: { champion: defaultChampion, shadows: [], changedBy: null, changedAtMs: null, history: [] }, text: null }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw invalid(file, `is not JSON (${(error as Error).message})`)
  }
  const record = parsed as Partial<Record<keyof Deployment, unknown>> | null
  if (record === null || typeof record !== 'object') throw invalid(file, 'is not an object')
  if (record.champion !== null && typeof record.champion !== 'string') throw invalid(file, 'has a champion that is neither a folder name nor null')
  if (!isStringArray(record.shadows)) throw invalid(file, 'has shadows that are not a list of folder names')
  if (record.history !== undefined && !Array.isArray(record.history)) throw invalid(file, 'has a history that is not a list')
  for (const folder of [record.champion, ...record.shadows]) if (folder !== null) checkFolderName(folder)
  return {
    deployment: {
      champion: record.champion,
      shadows: record.shadows,
      changedBy: typeof record.changedBy === 'string' ? record.changedBy : null,
      changedAtMs: typeof record.changedAtMs === 'number' ? record.changedAtMs : null,
      history: (record.history ?? []) as DeploymentAuditEntry[],
    },
    text,
  }
}

/** Reads the file's text only (null when absent): the cheap check that nobody wrote it meanwhile. */
export function readDeploymentText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read deployment file ${file}: ${(error as Error).message}`, { file }, { cause: error })
  }
}

let temporaryCounter = 0

/**
 * Replaces the file atomically: write a sibling temp file, fsync it, rename it over the file,
 * fsync the folder (so the rename itself survives a crash). Returns the text written.
 */
export function writeDeploymentAtomically(file: string, deployment: Deployment): string {
  const folder = path.dirname(file)
  mkdirSync(folder, { recursive: true })
  temporaryCounter += 1
  const temporary = `${file}.tmp-${process.pid}-${temporaryCounter}`
  const text = `${JSON.stringify(deployment, null, 2)}\n`
  try {
    const descriptor = openSync(temporary, 'w', 0o644)
    try {
      writeFileSync(descriptor, text)
      fsyncSync(descriptor)
    } finally {
      closeSync(descriptor)
    }
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot write deployment file ${file}: ${(error as Error).message}; check the folder exists and is writable`, { file }, { cause: error })
  }
  const directory = openSync(folder, 'r')
  try {
    fsyncSync(directory)
  } finally {
    closeSync(directory)
  }
  return text
}

/**
 * The champions a rollback goes back to, most recent last, replayed from the history: an
 * activate pushes the champion it replaced, a rollback pops one. Replaying (rather than keeping
 * a stack in memory) lets any process roll back a change another process made.
 */
export function rollbackStack(history: readonly DeploymentAuditEntry[]): string[] {
  const stack: string[] = []
  for (const entry of history) {
    if (entry.action === 'activate' && entry.before.champion !== null && entry.before.champion !== entry.after.champion) stack.push(entry.before.champion)
    else if (entry.action === 'rollback') stack.pop()
  }
  return stack
}

/**
 * The state after `action` on `folder`, or null when it is already so (nothing to write).
 * Refuses (RISK_ERR_REQUEST_INVALID) what makes no sense: shadowing the champion, rolling back
 * with no earlier champion.
 */
export function planChange(deployment: Deployment, action: DeploymentAction, folder: string | null): { readonly folder: string; readonly after: DeploymentState } | null {
  const { champion, shadows } = deployment
  switch (action) {
    case 'activate': {
      const target = checkFolderName(folder ?? '')
      if (champion === target) return null
      // A shadow that becomes champion stops shadowing: it would score the same rows twice.
      return { folder: target, after: { champion: target, shadows: shadows.filter((shadow) => shadow !== target) } }
    }
    case 'shadow': {
      const target = checkFolderName(folder ?? '')
      if (champion === target) throw new RiskError('RISK_ERR_REQUEST_INVALID', `${target} is the champion; a model cannot shadow itself (activate another one first)`, { folder: target })
      if (shadows.includes(target)) return null
      return { folder: target, after: { champion, shadows: [...shadows, target] } }
    }
    case 'unshadow': {
      const target = checkFolderName(folder ?? '')
      if (!shadows.includes(target)) return null
      return { folder: target, after: { champion, shadows: shadows.filter((shadow) => shadow !== target) } }
    }
    case 'rollback': {
      const previous = rollbackStack(deployment.history).at(-1)
      if (previous === undefined) throw new RiskError('RISK_ERR_REQUEST_INVALID', `there is no earlier champion to roll back to (champion ${String(champion)}); use activate <folder>`, { champion })
      return { folder: previous, after: { champion: previous, shadows: shadows.filter((shadow) => shadow !== previous) } }
    }
    case 'upload':
      // Recorded for the audit trail; who decides does not change.
      return { folder: checkFolderName(folder ?? ''), after: { champion, shadows } }
  }
}
