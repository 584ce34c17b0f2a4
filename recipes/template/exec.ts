// The evaluator of Go's text/template: walks a tree with a dot and a variable stack, evaluating
// pipelines, fields, chains, function and method calls with Go's rules (constants converted to the
// parameter's type, values type-checked, `and`/`or` short-circuiting, the final pipeline value passed
// as the last argument). Errors read as Go's:
// `template: FILE:LINE:COL: executing "NAME" at <CONTEXT>: message`.

import { printOne } from './fmt.ts'
import type {
  AnyNode,
  ArgNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  Tree,
  VariableNode,
} from './nodes.ts'
import { nodeString } from './nodes.ts'
import { assignable, GoMap, GoSlice, GoStruct, isTrue, typeName } from './values.ts'
import type { GoFunc, GoType, GoValue } from './values.ts'

export class TemplateExecError extends Error {
  override readonly name = 'TemplateExecError'
}

/** A function as the engine knows it; builtins get Go's special treatment of and/or. */
export interface TemplateFunc extends GoFunc {
  readonly builtin?: boolean
}

export type FuncMap = ReadonlyMap<string, TemplateFunc>

/**
 * What an action does with a value it cannot print (a missing map key, nil data):
 * - 'default': prints `<no value>` (Go's and confd's behaviour)
 * - 'zero': prints nothing
 * - 'error': fails, naming the template, line and key
 * Tests (`if`, `with`, `eq`, …) of a missing value are false in every mode.
 */
export type MissingKeyMode = 'default' | 'zero' | 'error'

export interface ExecOptions {
  missingKey?: MissingKeyMode
  /** Nesting of {template} calls before failing (Go allows 100000; a JS stack allows fewer). */
  maxDepth?: number
}

const MAX_DEPTH_DEFAULT = 1000
/** Bound on one range: a template cannot iterate more than this many times in one {{range}}. */
export const RANGE_ITERATIONS_MAX = 1_000_000

/** The sentinel for "no final value" (Go's missingVal): distinct from every Go value. */
const MISSING = Symbol('missing')
type Final = GoValue | typeof MISSING

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string
  value: GoValue
}

export class Executor {
  private out = ''
  private vars: Variable[] = []
  private node: AnyNode | undefined
  private tree: Tree
  private depth = 0
  private readonly missingKey: MissingKeyMode
  private readonly maxDepth: number

  constructor(
    private readonly trees: ReadonlyMap<string, Tree>,
    private readonly funcs: FuncMap,
    tree: Tree,
    options: ExecOptions,
  ) {
    this.tree = tree
    this.missingKey = options.missingKey ?? 'default'
    this.maxDepth = options.maxDepth ?? MAX_DEPTH_DEFAULT
  }

  run(data: GoValue): string {
    this.vars = [{ name: '$', value: data }]
    this.walk(data, this.tree.root)
    return this.out
  }

  // ---- errors ----

  private at(n: AnyNode): void {
    this.node = n
  }

  private errorf(message: string): never {
    const name = this.tree.name
    if (this.node === undefined) throw new TemplateExecError(`template: ${name}: ${message}`)
    const text = this.tree.text.slice(0, this.node.pos)
    const nl = text.lastIndexOf('\n')
    const col = nl < 0 ? this.node.pos : this.node.pos - (nl + 1)
    const line = 1 + (text.match(/\n/g)?.length ?? 0)
    let context = nodeString(this.node)
    const chars = [...context]
    if (chars.length > 20) context = chars.slice(0, 20).join('') + '...'
    throw new TemplateExecError(`template: ${this.tree.parseName}:${line}:${col}: executing ${JSON.stringify(name)} at <${context}>: ${message}`)
  }

  // ---- variables ----

  private mark(): number {
    return this.vars.length
  }

  private pop(mark: number): void {
    this.vars.length = mark
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value
        return
      }
    }
    this.errorf(`undefined variable: ${name}`)
  }

  private setTopVar(n: number, value: GoValue): void {
    this.vars[this.vars.length - n]!.value = value
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value
    this.errorf(`undefined variable: ${name}`)
  }

  // ---- walking ----

  private walk(dot: GoValue, node: Node): void {
    this.at(node)
    switch (node.kind) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe)
        if (node.pipe.decl.length === 0) this.printValue(node, val)
        return
      }
      case 'break':
        throw new BreakSignal()
      case 'continue':
        throw new ContinueSignal()
      case 'comment':
        return
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node)
      case 'list':
        for (const n of node.nodes) this.walk(dot, n)
        return
      case 'range':
        return this.walkRange(dot, node)
      case 'template':
        return this.walkTemplate(dot, node)
      case 'text':
        this.out += node.text
        return
    }
  }

  private walkIfOrWith(dot: GoValue, node: BranchNode): void {
    const mark = this.mark()
    try {
      const val = this.evalPipeline(dot, node.pipe)
      if (isTrue(val)) this.walk(node.kind === 'with' ? val : dot, node.list)
      else if (node.elseList !== undefined) this.walk(dot, node.elseList)
    } finally {
      this.pop(mark)
    }
  }

  private walkRange(dot: GoValue, node: BranchNode): void {
    this.at(node)
    const outer = this.mark()
    try {
      const val = this.evalPipeline(dot, node.pipe)
      const mark = this.mark()
      const decl = node.pipe.decl
      const one = (index: GoValue, elem: GoValue): boolean => {
        if (decl.length > 0) {
          if (node.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem)
          else this.setTopVar(1, elem)
        }
        if (decl.length > 1) {
          if (node.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem)
          else this.setTopVar(2, index)
        }
        try {
          this.walk(elem, node.list)
        } catch (e) {
          if (e instanceof BreakSignal) return false
          if (!(e instanceof ContinueSignal)) throw e
        } finally {
          this.pop(mark)
        }
        return true
      }
      let ran = false
      if (val instanceof GoSlice) {
        if (val.items.length > RANGE_ITERATIONS_MAX) this.errorf(`range over more than ${RANGE_ITERATIONS_MAX} elements`)
        for (let i = 0; i < val.items.length; i++) {
          ran = true
          if (!one(BigInt(i), val.items[i])) break
        }
      } else if (val instanceof GoMap) {
        for (const k of val.sortedKeys()) {
          ran = true
          if (!one(k, val.entries.get(k))) break
        }
      } else if (typeof val === 'bigint') {
        if (decl.length > 1) this.errorf(`can't use ${val} to iterate over more than one variable`)
        if (val > BigInt(RANGE_ITERATIONS_MAX)) this.errorf(`range over more than ${RANGE_ITERATIONS_MAX} elements`)
        for (let i = 0n; i < val; i++) {
          ran = true
          if (!one(undefined, i)) break
        }
      } else if (val !== undefined && val !== null) {
        this.errorf(`range can't iterate over ${printOne(val)}`)
      }
      if (!ran && node.elseList !== undefined) this.walk(dot, node.elseList)
    } finally {
      this.pop(outer)
    }
  }

  private walkTemplate(dot: GoValue, node: TemplateNode): void {
    this.at(node)
    const tree = this.trees.get(node.name)
    if (tree === undefined) this.errorf(`template ${JSON.stringify(node.name)} not defined`)
    if (this.depth >= this.maxDepth) this.errorf(`exceeded maximum template depth (${this.maxDepth})`)
    const newDot = node.pipe === undefined ? undefined : this.evalPipeline(dot, node.pipe)
    const saved = { vars: this.vars, tree: this.tree }
    this.depth++
    this.tree = tree
    this.vars = [{ name: '$', value: newDot }]
    try {
      this.walk(newDot, tree.root)
    } finally {
      this.depth--
      this.tree = saved.tree
      this.vars = saved.vars
    }
  }

  private printValue(node: Node, v: GoValue): void {
    this.at(node)
    if (v === undefined || v === null) {
      if (this.missingKey === 'zero') return
      if (this.missingKey === 'error') this.errorf(missingMessage(node))
      this.out += '<no value>'
      return
    }
    this.out += printOne(v)
  }

  // ---- pipelines and commands ----

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.at(pipe)
    let value: Final = MISSING
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value)
      // A nil interface{} result is "no value" from here on (Go digs into interface values).
      if (value === null) value = undefined
    }
    const result = value === MISSING ? undefined : value
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, result)
      else this.vars.push({ name: v.ident[0]!, value: result })
    }
    return result
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`)
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!
    switch (first.kind) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final)
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final)
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final)
      case 'pipe':
        this.notAFunction(cmd.args, final)
        return this.evalPipeline(dot, first)
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final)
    }
    this.at(first)
    this.notAFunction(cmd.args, final)
    switch (first.kind) {
      case 'bool':
        return first.value
      case 'dot':
        return dot
      case 'nil':
        this.errorf('nil is not a command')
      case 'number':
        return this.idealConstant(first)
      case 'string':
        return first.text
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n)
    if (n.floatByDefault && !/^[+-]?0[xX]/.test(n.text)) return n.float
    if (n.isInt) return n.int
    this.errorf(`${n.text} overflows int`)
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(field)
    return this.evalFieldChain(dot, dot, field, field.ident, args, final)
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: readonly ArgNode[], final: Final): GoValue {
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`)
    const pipe = this.evalArg(dot, undefined, chain.node)
    return this.evalFieldChain(dot, pipe, chain, chain.fields, args, final)
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(v)
    const value = this.varValue(v.ident[0]!)
    if (v.ident.length === 1) {
      this.notAFunction(args, final)
      return value
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final)
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: AnyNode, ident: readonly string[], args: readonly ArgNode[], final: Final): GoValue {
    const n = ident.length
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, [], MISSING, receiver)
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver)
  }

  private evalField(dot: GoValue, name: string, node: AnyNode, args: readonly ArgNode[], final: Final, receiver: GoValue): GoValue {
    if (receiver === undefined) return undefined
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`)
    if (receiver instanceof GoStruct) {
      const method = receiver.method(name)
      if (method !== undefined) return this.evalCall(dot, method, false, node, name, args, final)
    }
    const hasArgs = args.length > 1 || final !== MISSING
    if (receiver instanceof GoStruct && receiver.fieldNames().includes(name)) {
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`)
      return receiver.field(name)
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`)
      return receiver.entries.get(name)
    }
    this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`)
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: AnyNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(node)
    const fn = this.funcs.get(node.name)
    if (fn === undefined) this.errorf(`${JSON.stringify(node.name)} is not a defined function`)
    return this.evalCall(dot, fn, fn.builtin === true, cmd, node.name, args, final)
  }

  private evalCall(dot: GoValue, fn: GoFunc, builtin: boolean, node: AnyNode, name: string, argNodes: readonly ArgNode[], final: Final): GoValue {
    const args = argNodes.slice(1)
    const numIn = args.length + (final === MISSING ? 0 : 1)
    const numFixed = fn.variadic !== undefined ? fn.params.length : args.length
    if (fn.variadic !== undefined) {
      if (numIn < fn.params.length) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`)
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`)
    }
    if (builtin && (name === 'and' || name === 'or')) {
      let v: GoValue
      for (const arg of args) {
        v = this.evalArg(dot, 'reflect.Value', arg)
        if (isTrue(v) === (name === 'or')) return v
      }
      if (final !== MISSING) v = final
      return v
    }
    const argv: GoValue[] = []
    let i = 0
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i], args[i]!))
    if (fn.variadic !== undefined) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]!))
    if (final !== MISSING) {
      let t: GoType | undefined = fn.params[fn.params.length - 1]
      if (fn.variadic !== undefined) t = numIn - 1 < numFixed ? fn.params[numIn - 1] : fn.variadic
      argv.push(this.validateType(final, t))
    }
    try {
      return fn.call(...argv)
    } catch (e) {
      if (e instanceof TemplateExecError) throw e
      this.at(node)
      this.errorf(`error calling ${name}: ${(e as Error).message ?? String(e)}`)
    }
  }

  /** Checks a computed value against a parameter type (undefined type: any, as for a chain's receiver). */
  private validateType(value: GoValue, t: GoType | undefined): GoValue {
    if (t === undefined || t === 'reflect.Value') return value
    if (value === undefined) {
      if (t === 'interface {}') return null
      if (t.startsWith('[]') || t.startsWith('map[') || t.startsWith('*')) return null
      this.errorf(`invalid value; expected ${t}`)
    }
    if (value === null) {
      if (t === 'interface {}' || t.startsWith('[]') || t.startsWith('map[') || t.startsWith('*')) return null
      this.errorf(`wrong type for value; expected ${t}; got interface {}`)
    }
    if (!assignable(value, t)) this.errorf(`wrong type for value; expected ${t}; got ${typeName(value)}`)
    return value
  }

  private evalArg(dot: GoValue, t: GoType | undefined, n: ArgNode): GoValue {
    this.at(n)
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, t)
      case 'nil':
        // For a builtin (reflect.Value), Go passes the zero Value: no value at all.
        if (t === 'reflect.Value') return undefined
        if (t === undefined || t === 'interface {}' || t.startsWith('[]') || t.startsWith('map[') || t.startsWith('*')) return null
        this.errorf(`cannot assign nil to ${t}`)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), t)
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), t)
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), t)
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, [n], MISSING), t)
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), t)
    }
    // A constant: converted to the parameter's type.
    if (t === undefined || t === 'interface {}' || t === 'reflect.Value') {
      if (n.kind === 'bool') return n.value
      if (n.kind === 'string') return n.text
      return this.idealConstant(n)
    }
    switch (t) {
      case 'bool':
        if (n.kind === 'bool') return n.value
        this.errorf(`expected bool; found ${nodeString(n)}`)
      case 'string':
        if (n.kind === 'string') return n.text
        this.errorf(`expected string; found ${nodeString(n)}`)
      case 'int':
        if (n.kind === 'number' && n.isInt) return n.int
        this.errorf(`expected integer; found ${nodeString(n)}`)
      case 'float64':
        if (n.kind === 'number' && n.isFloat) return n.float
        this.errorf(`expected float; found ${nodeString(n)}`)
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${t}`)
  }
}

/** The message for printing a missing value in 'error' mode: which key was missing. */
function missingMessage(node: Node): string {
  if (node.kind !== 'action') return 'no value'
  const cmds = node.pipe.cmds
  const last = cmds[cmds.length - 1]
  const first = last?.args[0]
  if (last !== undefined && last.args.length === 1 && first !== undefined) {
    if (first.kind === 'field') return `map has no entry for key ${JSON.stringify(first.ident[first.ident.length - 1])}`
    if (first.kind === 'variable' && first.ident.length > 1) return `map has no entry for key ${JSON.stringify(first.ident[first.ident.length - 1])}`
    if (first.kind === 'chain') return `map has no entry for key ${JSON.stringify(first.fields[first.fields.length - 1])}`
  }
  return `no value for ${nodeString(node.pipe)} (missing key or nil data)`
}

export type { ListNode }
