/**
 * The simulator's file format: JSON lines, one `{ "topic": ..., "value": ... }` per event in
 * event-time order, keys in the order the builders write them (so a seed gives byte-identical
 * files); `bytes` fields (Buffers) as lowercase hex. Labels are JSON lines too, one label a line.
 *
 * Example line: {"topic":"deposits","value":{"eventId":"ev-3f9a-4","depositId":"dep-3f9a-3",...,"amountMinor":5000,...}}
 */
import fs from 'node:fs'
import { RiskError } from '../../core/errors.js'
import { CASINO_TOPIC_KEYS } from '../../core/topics.js'
import type { SimulatedEvent, TypologyLabel } from './world.js'

/** JSON.stringify with Buffers as hex (JSON.stringify would otherwise write `{ type: 'Buffer', data: [...] }`). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, field: unknown) {
    const raw = key === '' ? field : this[key]
    return Buffer.isBuffer(raw) ? raw.toString('hex') : field
  })
}

/** Writes values as JSON lines, `chunkLines` at a time, calling `onProgress(written)` after each chunk. */
export function writeJsonLines(filePath: string, values: readonly unknown[], onProgress?: (written: number) => void, chunkLines = 10_000): void {
  const descriptor = fs.openSync(filePath, 'w')
  try {
    for (let start = 0; start < values.length; start += chunkLines) {
      const lines = values.slice(start, start + chunkLines).map((value) => `${toJsonLine(value)}\n`)
      fs.writeSync(descriptor, lines.join(''))
      onProgress?.(Math.min(values.length, start + chunkLines))
    }
  } finally {
    fs.closeSync(descriptor)
  }
}

function readLines(filePath: string): Array<{ lineNumber: number; value: unknown }> {
  if (!fs.existsSync(filePath)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `no such file: ${filePath}; pass a file written by bench/simulator/cli.ts`, { path: filePath })
  const rows: Array<{ lineNumber: number; value: unknown }> = []
  fs.readFileSync(filePath, 'utf8').split('\n').forEach((line, index) => {
    if (line.trim() === '') return
    try {
      rows.push({ lineNumber: index + 1, value: JSON.parse(line) })
    } catch {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `${filePath}:${index + 1} is not JSON; the file must hold one JSON object a line`, { path: filePath, line: index + 1 })
    }
  })
  return rows
}

/** Reads an event file back; every line must name an input topic and carry a value with a playerId and an eventTimeMs. */
export function readEvents(filePath: string): SimulatedEvent[] {
  return readLines(filePath).map(({ lineNumber, value }) => {
    const row = value as { topic?: unknown; value?: { playerId?: unknown; eventTimeMs?: unknown } }
    if (typeof row.topic !== 'string' || !(CASINO_TOPIC_KEYS as readonly string[]).includes(row.topic) || typeof row.value?.playerId !== 'string' || typeof row.value.eventTimeMs !== 'number') {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `${filePath}:${lineNumber} is not an input event ({ topic: one of ${CASINO_TOPIC_KEYS.join(', ')}, value: { playerId, eventTimeMs, ... } })`, { path: filePath, line: lineNumber })
    }
    return row as SimulatedEvent
  })
}

export function readLabels(filePath: string): TypologyLabel[] {
  return readLines(filePath).map(({ lineNumber, value }) => {
    const label = value as Partial<TypologyLabel>
    if (typeof label.typology !== 'string' || !Array.isArray(label.playerIds) || typeof label.fromMs !== 'number' || typeof label.toMs !== 'number') {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `${filePath}:${lineNumber} is not a label ({ typology, playerIds, fromMs, toMs })`, { path: filePath, line: lineNumber })
    }
    return label as TypologyLabel
  })
}
