// A linearizability checker: the Wing–Gong search with Lowe's memoisation, over histories split into
// independent parts (one per key) as Porcupine does. Written from the papers' description:
//
//   - every operation becomes a call event and a return event, ordered by time (a call before a return
//     at the same instant, so touching operations count as concurrent: the permissive reading);
//   - the search walks the event list: at a call it tries to linearize that operation now (the model
//     must accept its output in the current state); at a return whose operation is not linearized yet it
//     backtracks; a (set of linearized operations, model state) pair seen before is never explored twice;
//   - an operation whose outcome is unknown (timed out, connection lost) has its return at +∞ and no
//     output: it may take effect at any point after its call, or never.
//
// Models may be nondeterministic (a timed-out compare-and-swap may or may not have matched): the search
// runs on sets of model states, so a step keeps every state some choice could lead to.
//
// The search is bounded by a step budget; past it the answer is 'unknown' rather than a guess.

export interface Operation<I, O> {
  id: number
  /** The logical client (Jepsen's process) that issued it; for reports only. */
  client: number
  input: I
  /** undefined when the outcome is unknown. */
  output: O | undefined
  /** Invocation time (ms). */
  call: number
  /** Completion time (ms); Infinity when the outcome is unknown. */
  ret: number
}

export interface Model<S, I, O> {
  init(): S
  /** The states the operation may lead to from `state` with this output; [] if impossible. */
  step(state: S, input: I, output: O | undefined): S[]
  /** A canonical string of a state (for memoisation and state sets). */
  stateKey(state: S): string
  /** Splits a history into independent parts (e.g. by key). Default: one part. */
  partition?(ops: Array<Operation<I, O>>): Array<Array<Operation<I, O>>>
  /** True for operations that change nothing (dropped when their outcome is unknown). */
  readOnly?(input: I): boolean
  /** A state standing for "any value" (lets the checker find failing windows that start mid-history). */
  unknownState?(): S
  describe(op: Operation<I, O>): string
}

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown'

export interface PartResult<I, O> {
  verdict: Verdict
  /** Longest sequence of operations the search managed to linearize (on failure). */
  longestPrefix: Array<Operation<I, O>>
  steps: number
}

export interface CheckResult<I, O> {
  verdict: Verdict
  parts: number
  /** For the first failing part: the smallest window of operations that is not linearizable on its own. */
  window?: Array<Operation<I, O>>
  /** Whether the window starts from any state (true) or from the model's initial state. */
  windowFromAnyState?: boolean
  longestPrefix?: Array<Operation<I, O>>
  steps: number
}

export const STEPS_MAX_DEFAULT = 5_000_000

interface Node {
  id: number
  isCall: boolean
  /** For a call: its return node. */
  match: Node | undefined
  prev: Node | undefined
  next: Node | undefined
}

function buildList<I, O>(ops: Array<Operation<I, O>>): Node {
  const events: Array<{ time: number; isCall: boolean; index: number }> = []
  ops.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, index })
    events.push({ time: op.ret, isCall: false, index })
  })
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.index - b.index : a.isCall ? -1 : 1))
  const head: Node = { id: -1, isCall: false, match: undefined, prev: undefined, next: undefined }
  const calls = new Map<number, Node>()
  let last = head
  for (const e of events) {
    const node: Node = { id: e.index, isCall: e.isCall, match: undefined, prev: last, next: undefined }
    last.next = node
    last = node
    if (e.isCall) calls.set(e.index, node)
    else calls.get(e.index)!.match = node
  }
  return head
}

function lift(call: Node): void {
  call.prev!.next = call.next
  if (call.next) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next) ret.next.prev = ret.prev
}

function unlift(call: Node): void {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next) ret.next.prev = ret
  call.prev!.next = call
  if (call.next) call.next.prev = call
}

class Bitset {
  readonly words: Uint32Array
  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32) || 1)
  }
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31)
  }
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31))
  }
  key(): string {
    let s = ''
    for (const w of this.words) s += w.toString(36) + ','
    return s
  }
}

/** Steps a set of states; returns the set of successors (deduplicated, canonical order). */
function stepSet<S, I, O>(model: Model<S, I, O>, states: S[], op: Operation<I, O>): S[] {
  const out = new Map<string, S>()
  for (const s of states) for (const next of model.step(s, op.input, op.output)) out.set(model.stateKey(next), next)
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s)
}

/** Checks one independent part from the given start states. */
export function checkPart<S, I, O>(model: Model<S, I, O>, ops: Array<Operation<I, O>>, start: S[], stepsMax: number): PartResult<I, O> {
  if (ops.length === 0) return { verdict: 'linearizable', longestPrefix: [], steps: 0 }
  const head = buildList(ops)
  const linearized = new Bitset(ops.length)
  const seen = new Set<string>()
  const stack: Array<{ node: Node; states: S[] }> = []
  let states = start
  let entry = head.next
  let steps = 0
  let longest: number[] = []
  const setKey = (ss: S[]) => ss.map((s) => model.stateKey(s)).join('|')
  while (head.next) {
    if (++steps > stepsMax) return { verdict: 'unknown', longestPrefix: longest.map((i) => ops[i]!), steps }
    if (!entry) throw new Error('linearizability: ran off the event list')
    if (entry.isCall) {
      const op = ops[entry.id]!
      const next = stepSet(model, states, op)
      if (next.length > 0) {
        linearized.set(entry.id)
        const key = linearized.key() + '#' + setKey(next)
        if (!seen.has(key)) {
          seen.add(key)
          stack.push({ node: entry, states })
          if (stack.length > longest.length) longest = stack.map((c) => c.node.id)
          states = next
          lift(entry)
          entry = head.next
          continue
        }
        linearized.clear(entry.id)
      }
      entry = entry.next
      continue
    }
    // A return: its operation was not linearized before it returned.
    if (ops[entry.id]!.ret === Infinity) return { verdict: 'linearizable', longestPrefix: [], steps }
    const top = stack.pop()
    if (!top) return { verdict: 'not-linearizable', longestPrefix: longest.map((i) => ops[i]!), steps }
    states = top.states
    linearized.clear(top.node.id)
    unlift(top.node)
    entry = top.node.next
  }
  return { verdict: 'linearizable', longestPrefix: [], steps }
}

/** Normalises a history: unknown reads dropped, unknown outcomes returning at +∞. */
export function prepare<S, I, O>(model: Model<S, I, O>, ops: Array<Operation<I, O>>): Array<Operation<I, O>> {
  const out: Array<Operation<I, O>> = []
  for (const op of ops) {
    if (op.output === undefined || op.ret === Infinity) {
      if (model.readOnly?.(op.input)) continue
      out.push({ ...op, output: undefined, ret: Infinity })
    } else out.push(op)
  }
  return out
}

export function check<S, I, O>(model: Model<S, I, O>, history: Array<Operation<I, O>>, stepsMax = STEPS_MAX_DEFAULT): CheckResult<I, O> {
  const ops = prepare(model, history)
  const parts = model.partition ? model.partition(ops) : [ops]
  let steps = 0
  let unknown = false
  for (const part of parts) {
    const r = checkPart(model, part, [model.init()], stepsMax)
    steps += r.steps
    if (r.verdict === 'unknown') unknown = true
    if (r.verdict === 'not-linearizable') {
      const w = smallestWindow(model, part, stepsMax)
      return { verdict: 'not-linearizable', parts: parts.length, ...w, longestPrefix: r.longestPrefix, steps }
    }
  }
  return { verdict: unknown ? 'unknown' : 'linearizable', parts: parts.length, steps }
}

/**
 * The history as known at time t: operations called after t are left out, operations still running at t
 * have an unknown outcome (reads among them are dropped). If the whole history is linearizable, so is
 * every such cut, so the first failing cut can be found by bisection.
 */
function cutAt<I, O>(ops: Array<Operation<I, O>>, t: number, readOnly: (i: I) => boolean): Array<Operation<I, O>> {
  const out: Array<Operation<I, O>> = []
  for (const op of ops) {
    if (op.call > t) continue
    if (op.ret <= t) out.push(op)
    else if (!readOnly(op.input)) out.push({ ...op, output: undefined, ret: Infinity })
  }
  return out
}

function smallestWindow<S, I, O>(
  model: Model<S, I, O>,
  ops: Array<Operation<I, O>>,
  stepsMax: number,
): { window: Array<Operation<I, O>>; windowFromAnyState: boolean } {
  const readOnly = (i: I) => model.readOnly?.(i) === true
  const fails = (h: Array<Operation<I, O>>, start: S[]) => checkPart(model, h, start, stepsMax).verdict === 'not-linearizable'
  // End of the window: the earliest completion at which the history already fails.
  const ends = [...new Set(ops.filter((o) => o.ret !== Infinity).map((o) => o.ret))].sort((a, b) => a - b)
  let lo = 0
  let hi = ends.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (fails(cutAt(ops, ends[mid]!, readOnly), [model.init()])) hi = mid
    else lo = mid + 1
  }
  const cut = cutAt(ops, ends[lo] ?? Infinity, readOnly)
  const byCall = (h: Array<Operation<I, O>>) => [...h].sort((a, b) => a.call - b.call)
  const unknownState = model.unknownState
  if (!unknownState || !fails(cut, [unknownState()])) return { window: byCall(cut), windowFromAnyState: false }
  // Start of the window: the latest instant such that the operations still running or started after it
  // fail from any state at all.
  const starts = [...new Set(cut.map((o) => o.call))].sort((a, b) => a - b)
  const from = (s: number) => cut.filter((o) => o.ret >= s)
  let a = 0
  let b = starts.length - 1
  while (a < b) {
    const mid = (a + b + 1) >> 1
    if (fails(from(starts[mid]!), [unknownState()])) a = mid
    else b = mid - 1
  }
  // Operations of unknown outcome called long before the window rarely matter: drop those that don't.
  let window = from(starts[a]!)
  for (const op of window.filter((o) => o.ret === Infinity && o.call < starts[a]!)) {
    const without = window.filter((o) => o !== op)
    if (fails(without, [unknownState()])) window = without
  }
  return { window: byCall(window), windowFromAnyState: true }
}

/** A readable table of operations (times in ms as recorded). */
export function formatOps<S, I, O>(model: Model<S, I, O>, ops: Array<Operation<I, O>>): string {
  const t = (x: number) => (x === Infinity ? '       ∞' : x.toFixed(1).padStart(8))
  return ops.map((op) => `  ${t(op.call)} → ${t(op.ret)}  client ${String(op.client).padStart(3)}  ${model.describe(op)}`).join('\n')
}
