// Binary encoding of a ConfChange for the data of a 'conf-change' log entry.
//
// Layout: u8 version(1) · u8 transition · u16 count · count × (u8 type · f64 nodeId) · context bytes

import type { ConfChange, ConfChangeType } from './types.ts'

const VERSION = 1
const TRANSITIONS = ['auto', 'implicit', 'explicit'] as const
const TYPES: readonly ConfChangeType[] = ['add-voter', 'add-learner', 'remove']
const HEADER_BYTES = 4
const CHANGE_BYTES = 9
export const CONF_CHANGES_MAX = 1024

export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (cc.changes.length > CONF_CHANGES_MAX) throw new RangeError(`too many changes: ${cc.changes.length}`)
  if (!TRANSITIONS.includes(cc.transition)) throw new RangeError(`unknown transition ${String(cc.transition)}`)
  for (const c of cc.changes) {
    if (!TYPES.includes(c.type)) throw new RangeError(`unknown conf change type ${String(c.type)}`)
    if (!Number.isSafeInteger(c.nodeId) || c.nodeId < 0) throw new RangeError(`bad node id ${c.nodeId}`)
  }
  const out = new Uint8Array(HEADER_BYTES + cc.changes.length * CHANGE_BYTES + cc.context.byteLength)
  const view = new DataView(out.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, TRANSITIONS.indexOf(cc.transition))
  view.setUint16(2, cc.changes.length)
  let at = HEADER_BYTES
  for (const c of cc.changes) {
    view.setUint8(at, TYPES.indexOf(c.type))
    view.setFloat64(at + 1, c.nodeId)
    at += CHANGE_BYTES
  }
  out.set(cc.context, at)
  return out
}

/** Decodes entry data; throws RangeError on anything malformed (entries may come from disk or peers). */
export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < HEADER_BYTES) throw new RangeError('conf change: too short')
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (view.getUint8(0) !== VERSION) throw new RangeError(`conf change: unknown version ${view.getUint8(0)}`)
  const transition = TRANSITIONS[view.getUint8(1)]
  if (transition === undefined) throw new RangeError('conf change: unknown transition')
  const count = view.getUint16(2)
  if (count > CONF_CHANGES_MAX) throw new RangeError(`conf change: ${count} changes, at most ${CONF_CHANGES_MAX}`)
  if (data.byteLength < HEADER_BYTES + count * CHANGE_BYTES) throw new RangeError('conf change: truncated')
  const changes: ConfChange['changes'] = []
  let at = HEADER_BYTES
  for (let i = 0; i < count; i++) {
    const type = TYPES[view.getUint8(at)]
    const nodeId = view.getFloat64(at + 1)
    if (type === undefined) throw new RangeError('conf change: unknown change type')
    if (!Number.isSafeInteger(nodeId) || nodeId < 0) throw new RangeError('conf change: bad node id')
    changes.push({ type, nodeId })
    at += CHANGE_BYTES
  }
  return { transition, changes, context: data.slice(at) }
}

/** Whether the change needs a joint configuration (more than one change, or an explicit/implicit transition). */
export function confChangeEntersJoint(cc: ConfChange): boolean {
  return cc.changes.length > 0 && (cc.changes.length > 1 || cc.transition !== 'auto')
}

/** An empty change: the signal to leave a joint configuration. */
export function confChangeLeavesJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0
}

/** For 'auto' joint changes: whether the configuration is left automatically. */
export function confChangeAutoLeave(cc: ConfChange): boolean {
  return cc.transition === 'auto' || cc.transition === 'implicit'
}
