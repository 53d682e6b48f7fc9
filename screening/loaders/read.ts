import { readFile } from 'node:fs/promises'
import { RiskError } from '../../core/errors.js'

/** Reads a list file, turning a missing or unreadable file into a coded error naming the path. */
export async function readListFile(path: string, listId: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read list file ${path} for list ${listId}; check the path and that the file was downloaded`, { listId, path }, { cause: error })
  }
}

/** Decodes UTF-8 and drops a byte-order mark. */
export function decodeText(content: Buffer): string {
  const text = content.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/** De-duplicates while keeping first-seen order. */
export function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)]
}
