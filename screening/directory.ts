/**
 * Loads every list found in a folder laid out as the lists are published:
 *   ofac-sdn-<date>/sdn.csv (+ alt.csv, add.csv)                  OFAC SDN, legacy CSV
 *   ofac-consolidated-<x>/cons_prim.csv (+ cons_alt, cons_add)    OFAC consolidated non-SDN
 *   un/<name>.xml                                                 UN Security Council consolidated list
 *   eu/<name>.csv                                                 EU consolidated list (CSV layout)
 *   watchlists/<name>.csv                                         PEP and internal watchlists (generic CSV)
 * A folder with none of these is an error: an engine must not believe it screens when it does not.
 *
 * Example: const lists = await loadListsFromDirectory('/var/lib/pitboss/lists')
 */
import fs from 'node:fs'
import path from 'node:path'
import { RiskError } from '../core/errors.js'
import { loadEuConsolidatedCsv } from './loaders/eu.js'
import { loadOfacList } from './loaders/ofac.js'
import { loadUnConsolidatedList } from './loaders/un.js'
import { loadWatchlistCsv } from './loaders/watchlist.js'
import type { LoadedList } from './types.js'

const optional = (file: string): string | undefined => (fs.existsSync(file) ? file : undefined)

export async function loadListsFromDirectory(directory: string): Promise<LoadedList[]> {
  if (!fs.existsSync(directory)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `no sanctions lists at ${directory}: set PITBOSS_SCREENING_LISTS_DIR to the folder holding them, or to 'off' to run without screening`, { directory })
  }
  const loads: Array<Promise<LoadedList>> = []
  for (const name of fs.readdirSync(directory).sort()) {
    const folder = path.join(directory, name)
    if (!fs.statSync(folder).isDirectory()) continue
    const files = fs.readdirSync(folder).sort()
    if (name.startsWith('ofac-sdn') && files.includes('sdn.csv')) {
      loads.push(loadOfacList({ listId: 'ofac-sdn', primaryPath: path.join(folder, 'sdn.csv'), aliasPath: path.join(folder, 'alt.csv'), addressPath: optional(path.join(folder, 'add.csv')) }))
    } else if (name.startsWith('ofac-consolidated') && files.includes('cons_prim.csv')) {
      loads.push(loadOfacList({ listId: 'ofac-consolidated', primaryPath: path.join(folder, 'cons_prim.csv'), aliasPath: path.join(folder, 'cons_alt.csv'), addressPath: optional(path.join(folder, 'cons_add.csv')) }))
    } else if (name === 'un') {
      for (const file of files.filter((entry) => entry.endsWith('.xml'))) loads.push(loadUnConsolidatedList({ listId: `un-${path.basename(file, '.xml')}`, path: path.join(folder, file) }))
    } else if (name === 'eu') {
      for (const file of files.filter((entry) => entry.endsWith('.csv'))) loads.push(loadEuConsolidatedCsv({ listId: `eu-${path.basename(file, '.csv')}`, path: path.join(folder, file) }))
    } else if (name === 'watchlists') {
      for (const file of files.filter((entry) => entry.endsWith('.csv'))) loads.push(loadWatchlistCsv({ listId: `watchlist-${path.basename(file, '.csv')}`, path: path.join(folder, file) }))
    }
  }
  if (loads.length === 0) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `no list in a known layout under ${directory} (ofac-sdn*/sdn.csv, ofac-consolidated*/cons_prim.csv, un/*.xml, eu/*.csv, watchlists/*.csv)`, { directory })
  }
  return Promise.all(loads)
}

/** Names, sizes and modification times of a folder's files (recursively): changes when a list file is replaced. */
export function listsFolderFingerprint(directory: string): string {
  const parts: string[] = []
  const walk = (folder: string): void => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true })
    } catch {
      parts.push(`${folder}:unreadable`)
      return
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) walk(full)
      else {
        const stat = fs.statSync(full, { throwIfNoEntry: false })
        parts.push(`${full}:${stat?.size ?? -1}:${stat?.mtimeMs ?? -1}`)
      }
    }
  }
  walk(directory)
  return parts.join('|')
}
