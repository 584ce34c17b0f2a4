// A trivial HTTP/1.1 server for measuring the load generator's own ceiling: it frames requests by
// Content-Length and answers each with a fixed put-shaped JSON body, doing nothing else.
// Usage: node --import tsx bench/trivial-server.ts PORT

import { createServer } from 'node:net'

const port = Number(process.argv[2] ?? 0)
const body = '{"header":{"cluster_id":"1","member_id":"1","revision":"2","raft_term":"2"}}'
const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
const CRLF2 = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i

const server = createServer({ noDelay: true }, (socket) => {
  let buf: Buffer = Buffer.alloc(0)
  socket.on('data', (d: Buffer) => {
    buf = buf.byteLength ? Buffer.concat([buf, d]) : d
    // bounded by the bytes received: each iteration consumes one whole request
    for (;;) {
      const end = buf.indexOf(CRLF2)
      if (end < 0) break
      const m = CONTENT_LENGTH.exec(buf.toString('latin1', 0, end))
      const total = end + 4 + (m ? Number(m[1]) : 0)
      if (buf.byteLength < total) break
      buf = buf.subarray(total)
      socket.write(response)
    }
  })
  socket.on('error', () => socket.destroy())
})
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
