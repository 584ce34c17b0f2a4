// Go-style durations: the one parser lives in core/client/duration.ts.
export { parseDuration } from '../../core/client/duration.ts'
