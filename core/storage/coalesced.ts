// Shares one run of an operation among callers that overlap, without ever letting a caller be served
// by a run that started before it: a caller arriving while a run is in flight waits for the next one,
// which all such callers share. N concurrent sync() calls therefore cost about two runs, not N. The
// journal and the WAL sync both make "everything written before the call" durable this way.

export class Coalesced {
  private running: Promise<void> | undefined
  private next: Promise<void> | undefined

  constructor(private readonly run: () => Promise<void>) {}

  /** Resolves once a run that started after this call has finished. */
  request(): Promise<void> {
    if (this.running === undefined) return this.start()
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    )
    return this.next
  }

  /** Whether a run is in flight. */
  get busy(): boolean {
    return this.running !== undefined
  }

  /** Waits for the runs in flight or queued, ignoring their failures. */
  async settle(): Promise<void> {
    await this.next?.catch(() => undefined)
    await this.running?.catch(() => undefined)
  }

  private start(): Promise<void> {
    this.next = undefined
    this.running = this.run().finally(() => (this.running = undefined))
    return this.running
  }
}
