// Sends raw bytes on a fresh TCP connection and collects what comes back until the server closes it,
// the first answer has had a moment to complete, or a short time passes.

import { connect } from 'node:net'

export function net(base: string, request: string, waitMs = 150): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    let text = ''
    const s = connect(Number(port), hostname, () => s.write(request))
    const timer = setTimeout(() => s.destroy(), waitMs)
    s.on('data', (d: Buffer) => {
      if (text === '') setTimeout(() => s.destroy(), 20)
      text += d.toString()
    })
    s.on('error', () => undefined)
    s.on('close', () => {
      clearTimeout(timer)
      resolve(text)
    })
  })
}
