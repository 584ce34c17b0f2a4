#!/usr/bin/env node
// Entry point for `npx cairn`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api'
register()
await import('../core/cli/main.ts')
