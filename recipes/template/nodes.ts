// The parse tree of a Go text/template, with the String() forms Go uses in error messages.

export interface TextNode { kind: 'text'; pos: number; text: string }
export interface CommentNode { kind: 'comment'; pos: number; text: string }
export interface ActionNode { kind: 'action'; pos: number; pipe: PipeNode }
export interface BranchNode {
  kind: 'if' | 'range' | 'with'
  pos: number
  pipe: PipeNode
  list: ListNode
  elseList: ListNode | undefined
}
export interface TemplateNode { kind: 'template'; pos: number; name: string; pipe: PipeNode | undefined }
export interface LoopControlNode { kind: 'break' | 'continue'; pos: number }
export interface ListNode { kind: 'list'; pos: number; nodes: Node[] }

export type Node = TextNode | CommentNode | ActionNode | BranchNode | TemplateNode | LoopControlNode | ListNode

export interface PipeNode {
  kind: 'pipe'
  pos: number
  isAssign: boolean
  decl: VariableNode[]
  cmds: CommandNode[]
}
export interface CommandNode { kind: 'command'; pos: number; args: ArgNode[] }
export interface FieldNode { kind: 'field'; pos: number; ident: string[] }
/** `$x` or `$x.a.b`: ident[0] is the variable name with its `$`. */
export interface VariableNode { kind: 'variable'; pos: number; ident: string[] }
export interface IdentifierNode { kind: 'identifier'; pos: number; name: string }
export interface ChainNode { kind: 'chain'; pos: number; node: ArgNode; fields: string[] }
export interface DotNode { kind: 'dot'; pos: number }
export interface NilNode { kind: 'nil'; pos: number }
export interface BoolNode { kind: 'bool'; pos: number; value: boolean }
export interface StringNode { kind: 'string'; pos: number; quoted: string; text: string }
export interface NumberNode {
  kind: 'number'
  pos: number
  text: string
  isInt: boolean
  isFloat: boolean
  int: bigint
  float: number
  /** A floating-point constant when taken as interface{} (Go's idealConstant). */
  floatByDefault: boolean
}

export type ArgNode =
  | FieldNode
  | VariableNode
  | IdentifierNode
  | ChainNode
  | DotNode
  | NilNode
  | BoolNode
  | StringNode
  | NumberNode
  | PipeNode

export type AnyNode = Node | ArgNode | CommandNode

export function nodeString(n: AnyNode): string {
  switch (n.kind) {
    case 'text':
      return JSON.stringify(n.text)
    case 'comment':
      return `{{${n.text}}}`
    case 'action':
      return `{{${nodeString(n.pipe)}}}`
    case 'if':
    case 'range':
    case 'with': {
      const e = n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''
      return `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}${e}{{end}}`
    }
    case 'template':
      return n.pipe ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`
    case 'break':
    case 'continue':
      return `{{${n.kind}}}`
    case 'list':
      return n.nodes.map(nodeString).join('')
    case 'pipe': {
      const decl = n.decl.length > 0 ? `${n.decl.map(nodeString).join(', ')} ${n.isAssign ? '=' : ':='} ` : ''
      return decl + n.cmds.map(nodeString).join(' | ')
    }
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ')
    case 'field':
      return n.ident.map((i) => '.' + i).join('')
    case 'variable':
      return n.ident.join('.')
    case 'identifier':
      return n.name
    case 'chain':
      return (n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.fields.map((f) => '.' + f).join('')
    case 'dot':
      return '.'
    case 'nil':
      return 'nil'
    case 'bool':
      return String(n.value)
    case 'string':
      return n.quoted
    case 'number':
      return n.text
  }
}

/** A parsed template: its root list and where it came from (for error positions). */
export interface Tree {
  name: string
  /** The name of the file/text the tree was parsed from (a define's is its file's). */
  parseName: string
  text: string
  root: ListNode
}

export function isEmptyTree(n: Node): boolean {
  switch (n.kind) {
    case 'text':
      return n.text.trim() === ''
    case 'comment':
      return true
    case 'list':
      return n.nodes.every(isEmptyTree)
    default:
      return false
  }
}
