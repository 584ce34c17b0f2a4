// Models for the linearizability checker.

import type { Model, Operation } from './linearizability.ts'

/** A register per key: read, write, compare-and-swap on the value. Values are unique integers; null = absent. */
export type RegisterInput =
  | { key: string; kind: 'read' }
  | { key: string; kind: 'write'; value: number }
  | { key: string; kind: 'cas'; from: number; to: number }

export type RegisterOutput = { kind: 'read'; value: number | null } | { kind: 'write' } | { kind: 'cas'; ok: boolean }

/** 'any' stands for a value not known yet (the start of a window cut out of a longer history). */
export type RegisterState = number | null | 'any'

export type RegisterOp = Operation<RegisterInput, RegisterOutput>

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  init: () => null,
  unknownState: () => 'any',
  stateKey: (s) => String(s),
  readOnly: (i) => i.kind === 'read',
  partition: (ops) => {
    const byKey = new Map<string, RegisterOp[]>()
    for (const op of ops) {
      let list = byKey.get(op.input.key)
      if (!list) byKey.set(op.input.key, (list = []))
      list.push(op)
    }
    return [...byKey.values()]
  },
  step: (state, input, output) => {
    switch (input.kind) {
      case 'read': {
        if (output?.kind !== 'read') return [state]
        if (state === 'any') return [output.value]
        return state === output.value ? [state] : []
      }
      case 'write':
        return [input.value]
      case 'cas': {
        if (output?.kind === 'cas') {
          if (state === 'any') return output.ok ? [input.to] : ['any']
          if (output.ok) return state === input.from ? [input.to] : []
          return state === input.from ? [] : [state]
        }
        // Outcome unknown: if linearized at all, it swapped exactly when the value matched.
        if (state === 'any') return ['any', input.to]
        return state === input.from ? [input.to] : [state]
      }
    }
  },
  describe: (op) => {
    const i = op.input
    const o = op.output
    const what = i.kind === 'read' ? 'read' : i.kind === 'write' ? `write ${i.value}` : `cas ${i.from}→${i.to}`
    let result = '?'
    if (o?.kind === 'read') result = o.value === null ? 'nil' : String(o.value)
    else if (o?.kind === 'write') result = 'ok'
    else if (o?.kind === 'cas') result = o.ok ? 'ok' : 'failed'
    return `${i.key.padEnd(6)} ${what.padEnd(16)} → ${result}`
  },
}
