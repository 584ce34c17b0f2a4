// Small HTTP helpers for the v2 endpoints: etcd's headers and body conventions (every JSON body ends
// with a newline, as Go's json.Encoder writes it).

import { collectBody } from '../body.ts'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { V2Error } from './errors.ts'

/** etcd's CORS handler answers every client request with these (its default allows any origin). */
export const corsHeaders: OutgoingHttpHeaders = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
}

export function sendText(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    ...corsHeaders,
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
    'Content-Length': Buffer.byteLength(body),
  })
  res.end(body)
}

export function sendJsonLine(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, { ...corsHeaders, 'Content-Type': 'application/json', ...headers, 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** Go's http.Error(w, "Method Not Allowed", 405) after etcd's allowMethod set `Allow`. */
export function sendMethodNotAllowed(res: ServerResponse, allowed: readonly string[]): void {
  sendText(res, 405, 'Method Not Allowed\n', { Allow: allowed.join(',') })
}

/** etcd's httptypes.HTTPError: {"message": ...}. */
export function sendHttpError(res: ServerResponse, status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
  sendJsonLine(res, status, { message }, headers)
}

export function sendV2Error(res: ServerResponse, error: V2Error, headers: OutgoingHttpHeaders = {}): void {
  sendJsonLine(res, error.httpStatus, error.toBody(), { ...headers, 'X-Etcd-Index': String(error.index) })
}

export class BodyTooLargeError extends Error {}

/** Reads a body as a binary string (one char per byte), refusing more than `maxBytes`. */
export async function readBinaryBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return (await collectBody(req, maxBytes, () => new BodyTooLargeError())).toString('latin1')
}

/** Go's time.Duration.String() for a duration in milliseconds ("1.898s", "2m3.5s", "500ms", "0s"). */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6)
  if (ns === 0) return '0s'
  if (ns < 1e9) {
    if (ns < 1e3) return `${ns}ns`
    if (ns < 1e6) return `${trimFraction(ns / 1e3)}µs`
    return `${trimFraction(ns / 1e6)}ms`
  }
  const totalSeconds = ns / 1e9
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds - hours * 3600) / 60)
  const seconds = totalSeconds - hours * 3600 - minutes * 60
  let out = ''
  if (hours > 0) out += `${hours}h`
  if (hours > 0 || minutes > 0) out += `${minutes}m`
  return out + `${trimFraction(seconds)}s`
}

function trimFraction(n: number): string {
  return n.toFixed(9).replace(/\.?0+$/, '')
}
