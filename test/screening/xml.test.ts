import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { readXmlRecords, XmlStreamReader, type XmlElement } from '../../screening/xml.js'

function events(chunks: readonly string[]): string[] {
  const seen: string[] = []
  // Text may arrive in pieces; join the pieces between two tags.
  let text = ''
  const flush = (): void => {
    if (text.trim() !== '') seen.push(text)
    text = ''
  }
  const reader = new XmlStreamReader({
    openElement: (name, attributes) => { flush(); seen.push(`<${name}${Object.entries(attributes).map(([key, value]) => ` ${key}=${value}`).join('')}>`) },
    text: (piece) => { text += piece },
    closeElement: (name) => { flush(); seen.push(`</${name}>`) },
  })
  for (const chunk of chunks) reader.write(chunk)
  reader.end()
  return seen
}

describe('XmlStreamReader', () => {
  const document = '<?xml version="1.0"?>\n<!-- list --><LIST date="2026-02-27" q=\'a&gt;b\'><A>Tom &amp; Jerry &#x41;&#66;</A><B/><C><![CDATA[<raw> & ]]></C></LIST>\n'

  it('reads elements, attributes, entities, CDATA and self-closing tags', () => {
    expect(events([document])).toEqual(['<LIST date=2026-02-27 q=a>b>', '<A>', 'Tom & Jerry AB', '</A>', '<B>', '</B>', '<C>', '<raw> & ', '</C>', '</LIST>'])
  })

  it('gives the same events whatever the chunk boundaries, including inside tags and entities', () => {
    const whole = events([document]).join('')
    for (let size = 1; size <= 7; size += 1) {
      const chunks: string[] = []
      for (let start = 0; start < document.length; start += size) chunks.push(document.slice(start, start + size))
      expect(events(chunks).join('')).toBe(whole)
    }
  })

  it('refuses mismatched tags, undeclared entities and truncated documents with a coded error', () => {
    for (const bad of ['<A><B></A></B>', '<A>&secret;</A>', '<A><B>', '<A></A><B></B>']) {
      expect(() => events([bad]), bad).toThrow(expect.objectContaining({ code: 'RISK_ERR_INVALID_FIELD' }))
    }
    try { events(['<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><A>&e;</A>']) } catch (error) { expect(isRiskError(error, 'RISK_ERR_INVALID_FIELD')).toBe(true) }
  })

  it('hands over whole records and nothing outside them', () => {
    const records: XmlElement[] = []
    let rootDate = ''
    const reader = readXmlRecords(['ITEM'], (record) => records.push(record), (attributes) => { rootDate = attributes.date ?? '' })
    reader.write('<ROOT date="d"><ITEMS><ITEM><NAME>x</NAME><ALIAS><Q>Low</Q></ALIAS></ITEM><ITEM><NAME>y</NAME></ITEM></ITEMS></ROOT>')
    reader.end()
    expect(rootDate).toBe('d')
    expect(records.map((record) => record.children.map((child) => child.name))).toEqual([['NAME', 'ALIAS'], ['NAME']])
    expect(records[0]?.children[1]?.children[0]?.text).toBe('Low')
  })
})
