// Small helpers shared by the unit tests.

import { expect } from 'vitest'
import { utf8 } from '../bytes.ts'
import { MemoryBackend } from '../memory-backend.ts'
import type { ApplyRequest, ApplyResponse } from '../requests.ts'
import { MvccStore, type MvccStoreOptions } from '../store.ts'
import type { KeyValue } from '../types.ts'

export const b = utf8

export function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
}

/** A store over a fresh MemoryBackend that numbers entries itself. */
export class TestStore {
  private index = 0
  private constructor(
    readonly store: MvccStore,
    readonly backend: MemoryBackend,
  ) {}

  static async create(options: MvccStoreOptions = {}): Promise<TestStore> {
    const backend = new MemoryBackend()
    return new TestStore(await MvccStore.open(backend, options), backend)
  }

  nextIndex(): number {
    return ++this.index
  }

  /** Applies and expects success; returns the response. */
  async ok(request: ApplyRequest): Promise<ApplyResponse> {
    const outcome = await this.store.apply(this.nextIndex(), request)
    if (outcome.status !== 'applied') throw new Error(`expected applied, got ${outcome.status} ${outcome.status === 'refused' ? outcome.error.code : ''}`)
    return outcome.response!
  }

  /** Applies and expects a refusal; returns its code. */
  async refused(request: ApplyRequest): Promise<string> {
    const outcome = await this.store.apply(this.nextIndex(), request)
    if (outcome.status !== 'refused') throw new Error(`expected refused, got ${outcome.status}`)
    return outcome.error.code
  }

  async put(key: string, value: string, lease = 0): Promise<number> {
    const response = await this.ok({ put: { key: b(key), value: b(value), lease } })
    return 'put' in response ? response.put.header.revision : -1
  }

  async get(key: string, revision = 0): Promise<KeyValue | undefined> {
    return (await this.store.range({ key: b(key), revision })).kvs[0]
  }

  async keys(revision = 0): Promise<string[]> {
    const { kvs } = await this.store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), revision })
    return kvs.map((kv) => text(kv.key)!)
  }
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code })
}
