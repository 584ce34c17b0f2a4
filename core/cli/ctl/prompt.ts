// Reading a password without echoing it: from the controlling terminal (/dev/tty), so prompting works
// even when stdin carries a value; or, when asked, one line from stdin (etcdctl's --interactive=false).

import { openSync } from 'node:fs'
import { ReadStream, WriteStream } from 'node:tty'
import { CliExit, Exit } from './context.ts'

/** Prompts on the terminal and reads a line with echo off. Fails (exit 128) when there is no terminal. */
export async function promptPassword(prompt: string): Promise<string> {
  let fd: number
  try {
    fd = openSync('/dev/tty', 'r+')
  } catch {
    throw new CliExit(Exit.BadArgs, 'no terminal to prompt for the password on: give it as --user name:password or --password')
  }
  const input = new ReadStream(fd)
  const output = new WriteStream(fd)
  output.write(prompt)
  input.setRawMode(true)
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = ''
      input.on('data', (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return resolve(typed)
          if (ch === '\u0003') return reject(new CliExit(Exit.Interrupted, ''))
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1)
          else typed += ch
        }
      })
    })
  } finally {
    input.setRawMode(false)
    output.write('\n')
    input.destroy()
    output.destroy()
  }
}

/** One line from stdin (without its line ending). */
export async function readPasswordLine(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    const nl = text.indexOf('\n')
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '')
  }
  return text
}
