/** Paths and the golden file of the shipped model (the default champion), shared by the model tests. */
import { readFileSync } from 'node:fs'
import { SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../models/service.js'

export const SHIPPED_MODEL_DIRECTORY = `${SHIPPED_MODELS_DIRECTORY}${SHIPPED_MODEL_FOLDER}/`

export interface GoldenRow {
  readonly withdrawalId: string
  readonly features: ReadonlyArray<number | null>
  readonly probability: number
  readonly margin: number
  readonly saabasContributions: readonly number[]
}

export function goldenRows(): GoldenRow[] {
  return (JSON.parse(readFileSync(`${SHIPPED_MODEL_DIRECTORY}golden.json`, 'utf8')) as { rows: GoldenRow[] }).rows
}

/** The golden rows as one batch, row after row; null (missing) becomes NaN. */
export function goldenBatch(rows: readonly GoldenRow[]): Float32Array {
  return Float32Array.from(rows.flatMap((row) => row.features.map((value) => (value === null ? Number.NaN : value))))
}
