// One progress line while a series runs: rewritten in place on a terminal, printed every few
// seconds otherwise (CI logs).

const TTY_EVERY_MS = 500
const LOG_EVERY_MS = 5000

export class Progress {
  private timer: NodeJS.Timeout | undefined
  private label = ''
  private startedMs = 0
  private totalS = 0
  private read: () => string = () => ''
  private readonly tty = process.stderr.isTTY === true

  begin(label: string, totalS: number, read: () => string): void {
    this.end()
    this.label = label
    this.startedMs = Date.now()
    this.totalS = totalS
    this.read = read
    this.timer = setInterval(() => this.print(), this.tty ? TTY_EVERY_MS : LOG_EVERY_MS)
  }

  private print(): void {
    const s = (Date.now() - this.startedMs) / 1000
    const line = `[${this.label}] ${s.toFixed(1)}s/${this.totalS.toFixed(0)}s ${this.read()}`
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`)
    else process.stderr.write(`${line}\n`)
  }

  end(): void {
    if (!this.timer) return
    clearInterval(this.timer)
    this.timer = undefined
    if (this.tty) process.stderr.write('\r\x1b[2K')
  }

  /** A line of its own (between series). */
  say(text: string): void {
    if (this.tty && this.timer) process.stderr.write('\r\x1b[2K')
    process.stderr.write(`${text}\n`)
  }
}
