// The lexer of Go's text/template syntax: text, `{{ }}` actions with `{{-`/`-}}` trim markers,
// `{{/* comments */}}`, and the tokens inside an action. It lexes the whole input at once into a
// token array (Go's lexer is a goroutine state machine; the tokens it yields are the same). A lexical
// error becomes a single `error` token after the last good one, and lexing stops there.

export type TokenType =
  | 'text'
  | 'comment'
  | 'leftDelim'
  | 'rightDelim'
  | 'leftParen'
  | 'rightParen'
  | 'space'
  | 'eof'
  | 'error'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'dot'
  | 'bool'
  | 'number'
  | 'charConstant'
  | 'string'
  | 'rawString'
  | 'pipe'
  | 'assign'
  | 'declare'
  | 'char'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with'

export interface Token {
  type: TokenType
  /** The token's text (for a string: with its quotes; for an error: the message). */
  value: string
  /** Byte offset (UTF-16 index here) in the template text. */
  pos: number
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['nil', 'nil'],
  ['range', 'range'],
  ['template', 'template'],
  ['with', 'with'],
])

export function isKeyword(t: TokenType): boolean {
  return t === 'block' || t === 'break' || t === 'continue' || t === 'define' || t === 'else' || t === 'end' ||
    t === 'if' || t === 'nil' || t === 'range' || t === 'template' || t === 'with'
}

const LEFT = '{{'
const RIGHT = '}}'

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n'
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c)
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

/** Tokens of a template text, ending with `eof` or `error`. */
export function lex(input: string): Token[] {
  return new Lexer(input).run()
}

class Lexer {
  private pos = 0
  private start = 0
  private parenDepth = 0
  private readonly tokens: Token[] = []

  constructor(private readonly input: string) {}

  run(): Token[] {
    try {
      this.lexText()
    } catch (e) {
      if (!(e instanceof LexError)) throw e
      this.tokens.push({ type: 'error', value: e.message, pos: this.start })
    }
    return this.tokens
  }

  private emit(type: TokenType): void {
    this.tokens.push({ type, value: this.input.slice(this.start, this.pos), pos: this.start })
    this.start = this.pos
  }

  private fail(message: string): never {
    throw new LexError(message)
  }

  private peek(offset = 0): string | undefined {
    return this.input[this.pos + offset]
  }

  private lexText(): void {
    for (;;) {
      const at = this.input.indexOf(LEFT, this.pos)
      if (at < 0) {
        this.pos = this.input.length
        if (this.pos > this.start) this.emit('text')
        this.tokens.push({ type: 'eof', value: '', pos: this.pos })
        return
      }
      const trim = this.input[at + 2] === '-' && isSpace(this.input[at + 3])
      let textEnd = at
      if (trim) while (textEnd > this.start && isSpace(this.input[textEnd - 1])) textEnd--
      if (textEnd > this.start) {
        this.pos = textEnd
        this.emit('text')
      }
      this.pos = at
      this.start = at
      this.lexLeftDelim(trim)
    }
  }

  private lexLeftDelim(trim: boolean): void {
    this.pos += LEFT.length
    const afterMarker = trim ? 2 : 0
    if (this.input.startsWith('/*', this.pos + afterMarker)) {
      this.pos += afterMarker
      this.start = this.pos
      this.lexComment()
      return
    }
    this.emit('leftDelim')
    this.pos += afterMarker
    this.start = this.pos
    this.parenDepth = 0
    this.lexInsideAction()
  }

  private lexComment(): void {
    const end = this.input.indexOf('*/', this.pos + 2)
    if (end < 0) this.fail('unclosed comment')
    this.pos = end + 2
    const [delim, trim] = this.atRightDelim()
    if (!delim) this.fail('comment ends before closing delimiter')
    this.emit('comment')
    if (trim) this.pos += 2
    this.pos += RIGHT.length
    if (trim) this.skipLeadingSpace()
    this.start = this.pos
  }

  private skipLeadingSpace(): void {
    while (isSpace(this.input[this.pos])) this.pos++
  }

  /** At `}}` or ` -}}`: [is a delimiter, has a trim marker]. */
  private atRightDelim(): [boolean, boolean] {
    if (isSpace(this.peek()) && this.peek(1) === '-' && this.input.startsWith(RIGHT, this.pos + 2)) return [true, true]
    if (this.input.startsWith(RIGHT, this.pos)) return [true, false]
    return [false, false]
  }

  private lexRightDelim(trim: boolean): void {
    if (trim) {
      this.pos += 2
      this.start = this.pos
    }
    this.pos += RIGHT.length
    this.emit('rightDelim')
    if (trim) {
      this.skipLeadingSpace()
      this.start = this.pos
    }
  }

  private lexInsideAction(): void {
    for (;;) {
      const [delim, trim] = this.atRightDelim()
      if (delim) {
        if (this.parenDepth === 0) {
          this.lexRightDelim(trim)
          return
        }
        this.fail('unclosed left paren')
      }
      const c = this.peek()
      if (c === undefined) this.fail('unclosed action')
      if (isSpace(c)) {
        if (this.lexSpace()) {
          this.lexRightDelim(true)
          return
        }
        continue
      }
      this.pos++
      switch (c) {
        case '=':
          this.emit('assign')
          continue
        case ':':
          if (this.peek() !== '=') this.fail('expected :=')
          this.pos++
          this.emit('declare')
          continue
        case '|':
          this.emit('pipe')
          continue
        case '"':
          this.lexQuote()
          continue
        case '`':
          this.lexRawQuote()
          continue
        case '$':
          this.lexFieldOrVariable('variable')
          continue
        case "'":
          this.lexChar()
          continue
        case '(':
          this.emit('leftParen')
          this.parenDepth++
          continue
        case ')':
          this.parenDepth--
          if (this.parenDepth < 0) this.fail('unexpected right paren')
          this.emit('rightParen')
          continue
      }
      if (c === '.' && !isDigit(this.peek())) {
        this.lexFieldOrVariable('field')
        continue
      }
      if (c === '.' || c === '+' || c === '-' || isDigit(c)) {
        this.pos--
        this.lexNumber()
        continue
      }
      if (isAlphaNumeric(c)) {
        this.pos--
        this.lexIdentifier()
        continue
      }
      if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) {
        this.emit('char')
        continue
      }
      this.fail(`unrecognized character in action: ${quoteRune(c)}`)
    }
  }

  /** Consumes a run of spaces; true when it ends at a ` -}}` (the space belongs to the marker). */
  private lexSpace(): boolean {
    let n = 0
    while (isSpace(this.peek())) {
      this.pos++
      n++
    }
    if (this.input[this.pos - 1] !== undefined && this.peek() === '-' && this.input.startsWith(RIGHT, this.pos + 1)) {
      this.pos--
      if (n === 1) return true
      this.emit('space')
      return true
    }
    this.emit('space')
    return false
  }

  private lexQuote(): void {
    for (;;) {
      const c = this.input[this.pos++]
      if (c === '\\') {
        const r = this.input[this.pos++]
        if (r !== undefined && r !== '\n') continue
        this.fail('unterminated quoted string')
      }
      if (c === undefined || c === '\n') this.fail('unterminated quoted string')
      if (c === '"') break
    }
    this.emit('string')
  }

  private lexRawQuote(): void {
    const end = this.input.indexOf('`', this.pos)
    if (end < 0) this.fail('unterminated raw quoted string')
    this.pos = end + 1
    this.emit('rawString')
  }

  private lexChar(): void {
    for (;;) {
      const c = this.input[this.pos++]
      if (c === '\\') {
        const r = this.input[this.pos++]
        if (r !== undefined && r !== '\n') continue
        this.fail('unterminated character constant')
      }
      if (c === undefined || c === '\n') this.fail('unterminated character constant')
      if (c === "'") break
    }
    this.emit('charConstant')
  }

  private atTerminator(): boolean {
    const c = this.peek()
    if (c === undefined || isSpace(c)) return true
    if (c === '.' || c === ',' || c === '|' || c === ':' || c === ')' || c === '(') return true
    return this.input.startsWith(RIGHT, this.pos)
  }

  private lexFieldOrVariable(type: 'field' | 'variable'): void {
    if (this.atTerminator()) {
      this.emit(type === 'variable' ? 'variable' : 'dot')
      return
    }
    while (isAlphaNumeric(this.peek())) this.pos++
    if (!this.atTerminator()) this.fail(`bad character ${quoteRune(this.peek() ?? '')}`)
    this.emit(type)
  }

  private lexIdentifier(): void {
    while (isAlphaNumeric(this.peek())) this.pos++
    if (!this.atTerminator()) this.fail(`bad character ${quoteRune(this.peek() ?? '')}`)
    const word = this.input.slice(this.start, this.pos)
    const keyword = KEYWORDS.get(word)
    if (keyword !== undefined) this.emit(keyword)
    else if (word === 'true' || word === 'false') this.emit('bool')
    else this.emit('identifier')
  }

  private accept(chars: string): boolean {
    const c = this.peek()
    if (c !== undefined && chars.includes(c)) {
      this.pos++
      return true
    }
    return false
  }

  private acceptRun(chars: string): void {
    while (this.accept(chars));
  }

  private lexNumber(): void {
    this.accept('+-')
    let digits = '0123456789_'
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_'
      else if (this.accept('oO')) digits = '01234567_'
      else if (this.accept('bB')) digits = '01_'
    }
    this.acceptRun(digits)
    if (this.accept('.')) this.acceptRun(digits)
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-')
      this.acceptRun('0123456789_')
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-')
      this.acceptRun('0123456789_')
    }
    this.accept('i')
    if (isAlphaNumeric(this.peek())) {
      this.pos++
      this.fail(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`)
    }
    this.emit('number')
  }
}

class LexError extends Error {}

/** Go's %#U of a rune: U+0041 'A'. */
function quoteRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0
  const hex = cp.toString(16).toUpperCase().padStart(4, '0')
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `U+${hex} '${c}'` : `U+${hex}`
}
