// The parser of Go's text/template: a recursive descent over the lexer's tokens that builds the trees
// of one text (the main template plus every {{define}} and {{block}} in it), checking as Go does that
// functions exist and variables are declared before use. Errors read as Go's:
// `template: NAME:LINE: message`.

import { isKeyword, lex } from './lex.ts'
import type { Token, TokenType } from './lex.ts'
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  Tree,
  VariableNode,
} from './nodes.ts'
import { isEmptyTree, nodeString } from './nodes.ts'
import { unquote, unquoteRune } from './quote.ts'

export class TemplateParseError extends Error {
  override readonly name = 'TemplateParseError'
}

/** `{{end}}` and `{{else}}` close a list; they never stay in the tree. */
interface Marker {
  kind: 'end' | 'else'
  pos: number
}

function isMarker(n: Node | Marker): n is Marker {
  return n.kind === 'end' || n.kind === 'else'
}

/** Parses `text` as template `name`; answers every tree it defines (the main one under `name`). */
export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): Map<string, Tree> {
  const trees = new Map<string, Tree>()
  const p = new Parser(name, text, lex(text), hasFunction, trees)
  p.parseMain()
  return trees
}

/** 1-based line of a position in a text. */
export function lineAt(text: string, pos: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++
  return line
}

function tokenString(t: Token): string {
  if (t.type === 'eof') return 'EOF'
  if (t.type === 'error') return t.value
  if (isKeyword(t.type) || t.type === 'dot') return `<${t.value}>`
  const chars = [...t.value]
  if (chars.length > 10) return JSON.stringify(chars.slice(0, 10).join('')) + '...'
  return JSON.stringify(t.value)
}

class Parser {
  private i = 0
  private lastPos = 0
  private vars: string[] = ['$']
  private rangeDepth = 0
  private actionPos: number | undefined

  constructor(
    private readonly parseName: string,
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly hasFunction: (name: string) => boolean,
    private readonly trees: Map<string, Tree>,
  ) {}

  // ---- token stream ----

  private next(): Token {
    const t = this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!
    if (this.i < this.tokens.length) this.i++
    this.lastPos = t.pos
    return t
  }

  private backup(): void {
    this.i--
  }

  private peek(): Token {
    const t = this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!
    this.lastPos = t.pos
    return t
  }

  private nextNonSpace(): Token {
    let t: Token
    do t = this.next()
    while (t.type === 'space')
    return t
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace()
    this.backup()
    return t
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace()
    if (t.type !== type) this.unexpected(t, context)
    return t
  }

  // ---- errors ----

  private errorf(message: string): never {
    throw new TemplateParseError(`template: ${this.parseName}:${lineAt(this.text, this.lastPos)}: ${message}`)
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === 'error') {
      let extra = ''
      if (this.actionPos !== undefined) {
        const actionLine = lineAt(this.text, this.actionPos)
        if (actionLine !== lineAt(this.text, t.pos)) {
          extra = t.value.endsWith(' action') ? ` started at ${this.parseName}:${actionLine}` : ` in action started at ${this.parseName}:${actionLine}`
        }
      }
      this.errorf(t.value + extra)
    }
    this.errorf(`unexpected ${tokenString(t)} in ${context}`)
  }

  // ---- trees ----

  private addTree(name: string, root: ListNode): void {
    const old = this.trees.get(name)
    if (old !== undefined && !isEmptyTree(old.root)) {
      if (isEmptyTree(root)) return
      this.errorf(`template: multiple definition of template ${JSON.stringify(name)}`)
    }
    this.trees.set(name, { name, parseName: this.parseName, text: this.text, root })
  }

  parseMain(): void {
    const root: ListNode = { kind: 'list', pos: this.peek().pos, nodes: [] }
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const at = this.i
        this.next()
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition()
          continue
        }
        this.i = at
      }
      const n = this.textOrAction()
      if (isMarker(n)) this.errorf(`unexpected {{${n.kind}}}`)
      root.nodes.push(n)
    }
    this.addTree(this.parseName, root)
  }

  private withScope<T>(vars: string[], fn: () => T): T {
    const saved = this.vars
    const savedDepth = this.rangeDepth
    this.vars = vars
    this.rangeDepth = 0
    try {
      return fn()
    } finally {
      this.vars = saved
      this.rangeDepth = savedDepth
    }
  }

  private parseDefinition(): void {
    const context = 'define clause'
    const t = this.nextNonSpace()
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context)
    const name = this.unquoteToken(t)
    this.expect('rightDelim', context)
    this.withScope(['$'], () => {
      const [list, end] = this.itemList()
      if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`)
      this.addTree(name, list)
    })
  }

  private itemList(): [ListNode, Marker] {
    const list: ListNode = { kind: 'list', pos: this.peekNonSpace().pos, nodes: [] }
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction()
      if (isMarker(n)) return [list, n]
      list.nodes.push(n)
    }
    this.errorf('unexpected EOF')
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace()
    switch (t.type) {
      case 'text':
        return { kind: 'text', pos: t.pos, text: t.value }
      case 'comment':
        return { kind: 'comment', pos: t.pos, text: t.value }
      case 'leftDelim': {
        const saved = this.actionPos
        this.actionPos = t.pos
        try {
          return this.action()
        } finally {
          this.actionPos = saved
        }
      }
      default:
        this.unexpected(t, 'input')
    }
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace()
    switch (t.type) {
      case 'block':
        return this.blockControl()
      case 'break':
      case 'continue':
        return this.loopControl(t)
      case 'else':
        return this.elseControl()
      case 'end':
        return { kind: 'end', pos: this.expect('rightDelim', 'end').pos }
      case 'if':
      case 'range':
      case 'with':
        return this.branchControl(t.type)
      case 'template':
        return this.templateControl()
    }
    this.backup()
    const pos = this.peek().pos
    return { kind: 'action', pos, pipe: this.pipeline('command', 'rightDelim') }
  }

  private loopControl(t: Token): Node {
    const kind = t.type === 'break' ? 'break' : 'continue'
    const after = this.nextNonSpace()
    if (after.type !== 'rightDelim') this.unexpected(after, `{{${kind}}}`)
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`)
    return { kind, pos: t.pos }
  }

  private elseControl(): Marker {
    const peek = this.peekNonSpace()
    // `{{else if …}}` / `{{else with …}}`: leave the keyword for the enclosing control to chain.
    if (peek.type === 'if' || peek.type === 'with') return { kind: 'else', pos: peek.pos }
    return { kind: 'else', pos: this.expect('rightDelim', 'else').pos }
  }

  private branchControl(kind: 'if' | 'range' | 'with'): BranchNode {
    const savedVars = this.vars.length
    try {
      const pipe = this.pipeline(kind, 'rightDelim')
      if (kind === 'range') this.rangeDepth++
      let [list, next] = this.itemList()
      if (kind === 'range') this.rangeDepth--
      let elseList: ListNode | undefined
      if (next.kind === 'else') {
        const peek = this.peek()
        if ((kind === 'if' && peek.type === 'if') || (kind === 'with' && peek.type === 'with')) {
          // {{if a}}…{{else if b}}…{{end}} is {{if a}}…{{else}}{{if b}}…{{end}}{{end}}: one {{end}} for both.
          this.next()
          elseList = { kind: 'list', pos: next.pos, nodes: [this.branchControl(kind)] }
        } else {
          ;[elseList, next] = this.itemList()
          if (next.kind !== 'end') this.errorf(`expected end; found {{${next.kind}}}`)
        }
      }
      return { kind, pos: pipe.pos, pipe, list, elseList }
    } finally {
      this.vars.length = savedVars
    }
  }

  private parseTemplateName(t: Token, context: string): string {
    if (t.type === 'string' || t.type === 'rawString') return this.unquoteToken(t)
    this.unexpected(t, context)
  }

  private templateControl(): TemplateNode {
    const context = 'template clause'
    const t = this.nextNonSpace()
    const name = this.parseTemplateName(t, context)
    let pipe: PipeNode | undefined
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup()
      pipe = this.pipeline(context, 'rightDelim')
    }
    return { kind: 'template', pos: t.pos, name, pipe }
  }

  private blockControl(): TemplateNode {
    const context = 'block clause'
    const t = this.nextNonSpace()
    const name = this.parseTemplateName(t, context)
    const pipe = this.pipeline(context, 'rightDelim')
    this.withScope(['$'], () => {
      const [list, end] = this.itemList()
      if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`)
      this.addTree(name, list)
    })
    return { kind: 'template', pos: t.pos, name, pipe }
  }

  // ---- pipelines ----

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const pipe: PipeNode = { kind: 'pipe', pos: this.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] }
    this.declarations(pipe, context)
    for (;;) {
      const t = this.nextNonSpace()
      if (t.type === end) {
        this.checkPipeline(pipe, context)
        return pipe
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup()
          pipe.cmds.push(this.command())
          break
        default:
          this.unexpected(t, context)
      }
    }
  }

  private declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      if (this.peekNonSpace().type !== 'variable') return
      const at = this.i
      const v = this.next()
      const afterVariable = this.peek()
      const next = this.peekNonSpace()
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign'
        this.nextNonSpace()
        pipe.decl.push({ kind: 'variable', pos: v.pos, ident: [v.value] })
        this.vars.push(v.value)
        return
      }
      if (next.type === 'char' && next.value === ',') {
        this.nextNonSpace()
        pipe.decl.push({ kind: 'variable', pos: v.pos, ident: [v.value] })
        this.vars.push(v.value)
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue
          this.errorf('range can only initialize variables')
        }
        this.errorf(`too many declarations in ${context}`)
      }
      void afterVariable
      this.i = at
      return
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`)
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`)
      }
    })
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] }
    for (;;) {
      this.peekNonSpace()
      const operand = this.operand()
      if (operand !== undefined) cmd.args.push(operand)
      const t = this.next()
      if (t.type === 'space') continue
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup()
      else if (t.type !== 'pipe') this.unexpected(t, 'operand')
      break
    }
    if (cmd.args.length === 0) this.errorf('empty command')
    return cmd
  }

  private operand(): ArgNode | undefined {
    const node = this.term()
    if (node === undefined) return undefined
    if (this.peek().type !== 'field') return node
    const chainPos = this.peek().pos
    const fields: string[] = []
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1))
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos: chainPos, ident: [...node.ident, ...fields] }
      case 'variable':
        return { kind: 'variable', pos: chainPos, ident: [...node.ident, ...fields] }
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`)
    }
    return { kind: 'chain', pos: chainPos, node, fields }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace()
    switch (t.type) {
      case 'identifier':
        if (!this.hasFunction(t.value)) this.errorf(`function ${JSON.stringify(t.value)} not defined`)
        return { kind: 'identifier', pos: t.pos, name: t.value }
      case 'dot':
        return { kind: 'dot', pos: t.pos }
      case 'nil':
        return { kind: 'nil', pos: t.pos }
      case 'variable': {
        const ident = t.value.split('.')
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${JSON.stringify(ident[0])}`)
        return { kind: 'variable', pos: t.pos, ident }
      }
      case 'field':
        return { kind: 'field', pos: t.pos, ident: t.value.slice(1).split('.') }
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.value === 'true' }
      case 'charConstant':
      case 'number':
        return this.number(t)
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen')
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: t.pos, quoted: t.value, text: this.unquoteToken(t) }
    }
    this.backup()
    return undefined
  }

  private unquoteToken(t: Token): string {
    try {
      return unquote(t.value)
    } catch (e) {
      this.errorf((e as Error).message)
    }
  }

  private number(t: Token): NumberNode {
    const n = parseNumber(t)
    if (typeof n === 'string') this.errorf(n)
    return n
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Go's strconv.ParseInt(text, 0, 64) digits: base prefixes 0x 0o 0b and a leading 0 for octal; underscores between digits. */
function parseGoInt(text: string): bigint | undefined {
  let s = text
  let negative = false
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-'
    s = s.slice(1)
  }
  let base = 10
  let digits = s
  let prefixed = false
  if (/^0[xX]/.test(s)) [base, digits, prefixed] = [16, s.slice(2), true]
  else if (/^0[oO]/.test(s)) [base, digits, prefixed] = [8, s.slice(2), true]
  else if (/^0[bB]/.test(s)) [base, digits, prefixed] = [2, s.slice(2), true]
  else if (s.length > 1 && s[0] === '0') [base, digits, prefixed] = [8, s.slice(1), true]
  if (digits.includes('_')) {
    if (!(prefixed ? /^_?[^_]+(_[^_]+)*$/ : /^[^_]+(_[^_]+)*$/).test(digits)) return undefined
    digits = digits.replaceAll('_', '')
  }
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/
  if (!valid.test(digits)) return undefined
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : ''
  const v = BigInt(prefix + digits)
  return negative ? -v : v
}

/** A number or character constant as Go's parse.NumberNode; a string is the error. */
export function parseNumber(t: Token): NumberNode | string {
  const text = t.value
  const node: NumberNode = {
    kind: 'number', pos: t.pos, text, isInt: false, isFloat: false, int: 0n, float: 0, floatByDefault: false,
  }
  if (t.type === 'charConstant') {
    try {
      const cp = unquoteRune(text)
      return { ...node, isInt: true, isFloat: true, int: BigInt(cp), float: cp }
    } catch {
      return `malformed character constant: ${text}`
    }
  }
  if (text.endsWith('i')) return 'complex constants are not supported'
  const asInt = parseGoInt(text)
  if (asInt !== undefined) {
    if (asInt < INT64_MIN || asInt > INT64_MAX) {
      if (asInt > 0n && asInt < 2n ** 64n) return `${text} overflows int`
      return `integer overflow: ${JSON.stringify(text)}`
    }
    return { ...node, isInt: true, isFloat: true, int: asInt, float: Number(asInt) }
  }
  if (!/^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?$/.test(text)) return `illegal number syntax: ${JSON.stringify(text)}`
  const f = Number(text.replaceAll('_', ''))
  if (Number.isNaN(f)) return `illegal number syntax: ${JSON.stringify(text)}`
  if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`
  node.isFloat = true
  node.float = f
  node.floatByDefault = true
  if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
    node.isInt = true
    node.int = BigInt(f)
  }
  return node
}

export type { Node, VariableNode }
