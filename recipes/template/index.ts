// Go text/template for Cairn: parse once, execute with data; confd's function library on top.
//
//   const t = Template.parse('app.conf.tmpl', text, confdFuncs(store, env))
//   const out = t.execute(undefined, { missingKey: 'error' })

import { BUILTINS } from './builtins.ts'
import { Executor } from './exec.ts'
import type { ExecOptions, FuncMap, TemplateFunc } from './exec.ts'
import type { Tree } from './nodes.ts'
import { parseTemplate } from './parse.ts'
import { GoMap } from './values.ts'
import type { GoValue } from './values.ts'

export class Template {
  private constructor(
    readonly name: string,
    private readonly trees: ReadonlyMap<string, Tree>,
    private readonly funcs: FuncMap,
  ) {}

  /** template.New(name).Funcs(funcs).Parse(text); throws TemplateParseError. */
  static parse(name: string, text: string, funcs: ReadonlyMap<string, TemplateFunc> = new Map()): Template {
    const all = new Map<string, TemplateFunc>(BUILTINS)
    for (const [k, v] of funcs) all.set(k, v)
    const trees = parseTemplate(name, text, (n) => all.has(n))
    return new Template(name, trees, all)
  }

  /** Names of the templates the text defines (the main one included). */
  get templateNames(): string[] {
    return [...this.trees.keys()].sort()
  }

  /** Executes the main template; throws TemplateExecError. */
  execute(data: GoValue, options: ExecOptions = {}): string {
    return this.executeTemplate(this.name, data, options)
  }

  executeTemplate(name: string, data: GoValue, options: ExecOptions = {}): string {
    const tree = this.trees.get(name)
    if (tree === undefined) throw new Error(`template: no template ${JSON.stringify(name)} associated with template ${JSON.stringify(this.name)}`)
    return new Executor(this.trees, this.funcs, tree, options).run(data)
  }
}

/** Renders a command line template such as check_cmd's `nginx -t -c {{.src}}` with a map[string]string. */
export function renderCommand(name: string, text: string, data: Record<string, string>): string {
  const m = new Map<string, GoValue>(Object.entries(data))
  return Template.parse(name, text).execute(new GoMap('string', m), { missingKey: 'default' })
}

export { TemplateExecError } from './exec.ts'
export type { ExecOptions, FuncMap, MissingKeyMode, TemplateFunc } from './exec.ts'
export { TemplateParseError } from './parse.ts'
export { confdFuncs, LookupCache, SrvRecord } from './confd.ts'
export type { ConfdEnvironment, SrvAnswer } from './confd.ts'
export { KVPair, KVStore, KeyNotFoundError } from './kvstore.ts'
export { GoMap, GoSlice, GoStruct, fromJson, stringSlice } from './values.ts'
export type { GoFunc, GoType, GoValue } from './values.ts'
export { sprintf, sprint, sprintln } from './fmt.ts'
export { formatFloat } from './float.ts'
export { GoTime, UTC } from './time.ts'
export type { Zone } from './time.ts'
export * as goPath from './path.ts'
