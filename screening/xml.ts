/**
 * A minimal streaming XML reader, enough for published sanctions lists (the UN Security Council
 * consolidated list): elements, attributes, text, CDATA, comments, processing instructions, the
 * five predefined entities and numeric character references. Input arrives in chunks of any size
 * (`write`), so a 100 MB list never has to sit in memory as one string.
 *
 * It is deliberately not a general XML parser: a DOCTYPE is skipped and entities it might declare
 * are NOT expanded (an undeclared `&name;` is an error), so a hostile list cannot make it read
 * files or expand a billion laughs. Well-formedness is checked where it matters to a reader
 * (tags close in order, one root, nothing left open at `end`).
 *
 * No npm XML parser is installed in this checkout; `saxes` (the maintained streaming parser
 * behind xmldom/jsdom) would replace this file if it is added.
 *
 * Example:
 *   const reader = new XmlStreamReader({ openElement: (name) => names.push(name) })
 *   reader.write('<A><B x="1">te'); reader.write('xt</B></A>'); reader.end()
 */
import { RiskError } from '../core/errors.js'

export interface XmlHandler {
  openElement?(name: string, attributes: Readonly<Record<string, string>>): void
  /** Text and CDATA content, entities decoded; may arrive in several pieces. */
  text?(text: string): void
  closeElement?(name: string): void
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

export function decodeXmlEntities(raw: string, where: string): string {
  if (!raw.includes('&')) return raw
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw malformed(`an '&' that does not start an entity reference (${whole})`, where)
    if (body.startsWith('#x')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16))
    if (body.startsWith('#')) return String.fromCodePoint(Number.parseInt(body.slice(1), 10))
    const value = PREDEFINED_ENTITIES[body]
    if (value === undefined) throw malformed(`the entity &${body}; is not one of the five predefined ones`, where)
    return value
  })
}

function malformed(message: string, where: string): RiskError {
  return new RiskError('RISK_ERR_INVALID_FIELD', `malformed XML: ${message}; check the file is a complete, unmodified download`, { where })
}

const ATTRIBUTE = /([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/g

export class XmlStreamReader {
  private buffer = ''
  private readonly openNames: string[] = []
  private sawRoot = false
  private consumedChars = 0

  constructor(private readonly handler: XmlHandler, private readonly source = 'xml') {}

  write(chunk: string): void {
    this.buffer += chunk
    this.drain(false)
  }

  end(): void {
    this.drain(true)
    if (this.buffer.trim().length > 0) throw malformed('the document ends inside a tag or comment', this.where())
    if (this.openNames.length > 0) throw malformed(`the document ends with <${this.openNames.at(-1)}> still open`, this.where())
    if (!this.sawRoot) throw malformed('the document has no root element', this.where())
  }

  private where(): string {
    return `${this.source} near character ${this.consumedChars}`
  }

  private consume(length: number): void {
    this.buffer = this.buffer.slice(length)
    this.consumedChars += length
  }

  private drain(final: boolean): void {
    for (;;) {
      const tagStart = this.buffer.indexOf('<')
      if (tagStart < 0) {
        // Hold back an entity reference the chunk boundary may have cut ('&am' | 'p;').
        const ampersand = this.buffer.lastIndexOf('&')
        const cut = !final && ampersand >= 0 && !this.buffer.includes(';', ampersand)
        const emit = cut ? ampersand : this.buffer.length
        if (emit > 0) this.emitText(this.buffer.slice(0, emit))
        this.consume(emit)
        return
      }
      if (tagStart > 0) {
        this.emitText(this.buffer.slice(0, tagStart))
        this.consume(tagStart)
      }
      if (!this.readMarkup()) return
    }
  }

  private emitText(raw: string): void {
    if (this.openNames.length === 0) {
      if (raw.trim().length > 0) throw malformed('text outside the root element', this.where())
      return
    }
    this.handler.text?.(decodeXmlEntities(raw, this.where()))
  }

  /** Reads one construct starting at '<'; false when the buffer does not hold all of it yet. */
  private readMarkup(): boolean {
    const buffer = this.buffer
    if (buffer.startsWith('<!--')) return this.skipUntil('-->')
    if (buffer.startsWith('<?')) return this.skipUntil('?>')
    if (buffer.startsWith('<![CDATA[')) {
      const end = buffer.indexOf(']]>')
      if (end < 0) return false
      if (this.openNames.length === 0) throw malformed('CDATA outside the root element', this.where())
      this.handler.text?.(buffer.slice(9, end))
      this.consume(end + 3)
      return true
    }
    if (buffer.startsWith('<!DOCTYPE') || buffer.startsWith('<!doctype')) {
      // Skip the declaration, including an internal subset in [...]; its entities are not used.
      const bracket = buffer.indexOf('[')
      const close = buffer.indexOf('>')
      if (close < 0) return false
      if (bracket >= 0 && bracket < close) {
        const subsetEnd = buffer.indexOf(']', bracket)
        const end = subsetEnd < 0 ? -1 : buffer.indexOf('>', subsetEnd)
        if (end < 0) return false
        this.consume(end + 1)
      } else this.consume(close + 1)
      return true
    }
    if (buffer.length < 2) return false
    const tagEnd = this.findTagEnd(buffer)
    if (tagEnd < 0) return false
    const body = buffer.slice(1, tagEnd)
    this.consume(tagEnd + 1)
    if (body.startsWith('/')) {
      const name = body.slice(1).trim()
      const open = this.openNames.pop()
      if (open !== name) throw malformed(`</${name}> closes <${open ?? 'nothing'}>`, this.where())
      this.handler.closeElement?.(name)
      return true
    }
    const selfClosing = body.endsWith('/')
    const inner = selfClosing ? body.slice(0, -1) : body
    const nameMatch = /^[^\s/>]+/.exec(inner)
    if (nameMatch === null) throw malformed(`an empty tag <${body}>`, this.where())
    const name = nameMatch[0]
    if (this.openNames.length === 0) {
      if (this.sawRoot) throw malformed(`a second root element <${name}>`, this.where())
      this.sawRoot = true
    }
    const attributes: Record<string, string> = {}
    for (const match of inner.slice(name.length).matchAll(ATTRIBUTE)) {
      attributes[match[1] as string] = decodeXmlEntities(match[3] ?? match[4] ?? '', this.where())
    }
    this.handler.openElement?.(name, attributes)
    if (selfClosing) this.handler.closeElement?.(name)
    else this.openNames.push(name)
    return true
  }

  /** The '>' that ends the tag, skipping any inside quoted attribute values. */
  private findTagEnd(buffer: string): number {
    let quote = ''
    for (let index = 1; index < buffer.length; index += 1) {
      const character = buffer[index]
      if (quote !== '') {
        if (character === quote) quote = ''
      } else if (character === '"' || character === "'") quote = character
      else if (character === '>') return index
      else if (character === '<') throw malformed("a '<' inside a tag", this.where())
    }
    return -1
  }

  private skipUntil(terminator: string): boolean {
    const end = this.buffer.indexOf(terminator)
    if (end < 0) return false
    this.consume(end + terminator.length)
    return true
  }
}

/** An element with its children and text, for reading one record of a list at a time. */
export interface XmlElement {
  readonly name: string
  readonly attributes: Readonly<Record<string, string>>
  readonly children: XmlElement[]
  text: string
}

/**
 * Calls `onRecord` with the whole subtree of every element named in `recordNames`; everything
 * outside a record is only walked, never kept.
 *
 * Example:
 *   const reader = readXmlRecords(['INDIVIDUAL', 'ENTITY'], (record) => entries.push(toEntry(record)))
 *   for await (const chunk of stream) reader.write(chunk)
 *   reader.end()
 */
export function readXmlRecords(
  recordNames: readonly string[],
  onRecord: (record: XmlElement) => void,
  onRootAttributes?: (attributes: Readonly<Record<string, string>>) => void,
  source?: string,
): XmlStreamReader {
  const wanted = new Set(recordNames)
  const stack: XmlElement[] = []
  let depth = 0
  return new XmlStreamReader({
    openElement(name, attributes) {
      if (depth === 0) onRootAttributes?.(attributes)
      depth += 1
      if (stack.length > 0 || wanted.has(name)) {
        const element: XmlElement = { name, attributes, children: [], text: '' }
        stack.at(-1)?.children.push(element)
        stack.push(element)
      }
    },
    text(text) {
      const current = stack.at(-1)
      if (current !== undefined) current.text += text
    },
    closeElement() {
      depth -= 1
      const element = stack.pop()
      if (element !== undefined && stack.length === 0) onRecord(element)
    },
  }, source)
}

/** The trimmed text of the first child with this name, or '' when absent. */
export function childText(element: XmlElement, name: string): string {
  return element.children.find((child) => child.name === name)?.text.trim() ?? ''
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name)
}
