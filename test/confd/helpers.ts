// Shared helpers for the template and confd tests: a fixed environment and a one-call renderer.

import { confdFuncs, KVStore, Template, UTC } from '../../recipes/template/index.ts'
import type { ConfdEnvironment, ExecOptions, GoValue, SrvAnswer, Zone } from '../../recipes/template/index.ts'

/** 2009-11-10 23:00:00 UTC (Go's playground time). */
export const FIXED_MS = 1257894000000

export function fixedEnv(over: Partial<ConfdEnvironment> & { zoneOf?: Zone } = {}): ConfdEnvironment {
  const ips: Record<string, string[]> = {
    'db.local': ['10.0.0.9', '10.0.0.10', '::1', 'fe80::2', '10.0.0.2'],
  }
  const srvs: Record<string, SrvAnswer[]> = {
    '_http._tcp.example.com': [
      { target: 'b.example.com.', port: 80, priority: 10, weight: 5 },
      { target: 'a.example.com.', port: 8080, priority: 20, weight: 1 },
    ],
  }
  const env: ConfdEnvironment = {
    getenv: (n) => ({ HOSTNAME: 'web-1', EMPTY: '' })[n],
    nowMs: () => FIXED_MS,
    zone: () => over.zoneOf ?? UTC,
    fileExists: (p) => p === '/etc/hosts',
    lookupIP: (h) => ips[h] ?? [],
    lookupSRV: (s, p, n) => srvs[`_${s}._${p}.${n}`] ?? [],
  }
  return { ...env, ...over }
}

export const sampleStore = new KVStore([
  ['/nginx/domain', 'example.com'],
  ['/nginx/root', '/var/www/example_dotcom'],
  ['/nginx/worker_processes', '2'],
  ['/app/upstream/app1', '10.0.1.100:80'],
  ['/app/upstream/app2', '10.0.1.101:80'],
  ['/app/upstream/app10', '10.0.1.099:80'],
  ['/services/web/cust1/2', '{"IP": "10.0.0.2"}'],
  ['/services/web/cust2/2', '{"IP": "10.0.0.4"}'],
  ['/services/web/cust2/1', '{"IP": "10.0.0.3"}'],
  ['/services/web/cust1/1', '{"IP": "10.0.0.1"}'],
  ['/services/zookeeper/host1', '{"Id":"host1", "IP":"192.168.10.11"}'],
  ['/services/zookeeper/host2', '{"Id":"host2", "IP":"192.168.10.12"}'],
  ['/test/data', '{"animals": [{"type": "dog", "name": "Fido"}, {"type": "cat", "name": "Misse"}], "port": 8080, "big": 1000000, "nothing": null}'],
  ['/list', '["a", "b", "c"]'],
  ['/key', 'value'],
])

/** Renders a template text as confd would (data nil), throwing the engine's error on failure. */
export function render(text: string, options: ExecOptions & { store?: KVStore; env?: ConfdEnvironment; data?: GoValue } = {}): string {
  const funcs = confdFuncs(options.store ?? sampleStore, options.env ?? fixedEnv())
  return Template.parse('t', text, funcs).execute(options.data, options)
}

/** The error message a render fails with ('' when it succeeds). */
export function renderError(text: string, options: ExecOptions & { store?: KVStore; data?: GoValue } = {}): string {
  try {
    render(text, options)
    return ''
  } catch (e) {
    return (e as Error).message
  }
}
