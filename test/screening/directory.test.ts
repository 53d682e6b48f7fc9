import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadListsFromDirectory } from '../../screening/directory.js'
import { SANCTIONS_DIRECTORY } from './lists.js'

describe('loadListsFromDirectory', () => {
  it('finds every list of the shared folder by its published layout', async () => {
    const lists = await loadListsFromDirectory(SANCTIONS_DIRECTORY)
    expect(Object.fromEntries(lists.map((list) => [list.version.listId, list.entries.length]))).toEqual({
      'ofac-consolidated': 442, 'ofac-sdn': 8976, 'un-UN_consolidated': 1003,
    })
  })

  it('refuses a missing folder and a folder with no list, naming the variable to set', async () => {
    await expect(loadListsFromDirectory('/nonexistent/lists')).rejects.toThrow(/PITBOSS_SCREENING_LISTS_DIR/)
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-lists-'))
    try {
      await expect(loadListsFromDirectory(empty)).rejects.toThrow(/no list in a known layout/)
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  })
})
