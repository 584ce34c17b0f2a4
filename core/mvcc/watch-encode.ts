// Sharing work across watchers: every watcher of a revision receives the same Event objects (or one
// shared copy without prevKv), so an encoding cached per object is computed once however many
// watchers send it.

import type { Event } from './types.ts'

const withoutPrevKv = new WeakMap<Event, Event>()

/** The event without its previous value; one shared object per event. */
export function eventWithoutPrevKv(event: Event): Event {
  if (event.prevKv === undefined) return event
  let bare = withoutPrevKv.get(event)
  if (bare === undefined) {
    bare = { type: event.type, kv: event.kv }
    withoutPrevKv.set(event, bare)
  }
  return bare
}

/** Encodes each event object once (e.g. to JSON for the wire) and hands out the cached result. */
export class EventEncoder<T> {
  private readonly cache = new WeakMap<Event, T>()

  constructor(private readonly encode: (event: Event) => T) {}

  get(event: Event): T {
    let encoded = this.cache.get(event)
    if (encoded === undefined) {
      encoded = this.encode(event)
      this.cache.set(event, encoded)
    }
    return encoded
  }
}
