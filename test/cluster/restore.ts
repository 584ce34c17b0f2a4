// Restores a snapshot file into a member's (not yet started) data dir, as `cairn snapshot restore`
// does, with the flags the test cluster starts that member with.

import { parseServeOptions } from '../../core/server/options.ts'
import { restoreSnapshotFile } from '../../core/server/snapshot-file.ts'
import { bootstrap } from '../../core/server/start.ts'
import type { TestCluster } from './harness.ts'

export async function restoreSnapshotInto(cluster: TestCluster, index: number, file: string): Promise<void> {
  const m = cluster.members[index]!
  const serve = parseServeOptions({
    name: m.name,
    dataDir: m.dataDir,
    initialCluster: cluster.initialClusterFlag,
    initialAdvertisePeerUrls: m.peerUrl,
    listenPeerUrls: m.peerUrl,
    initialClusterToken: 'restored',
  })
  await restoreSnapshotFile({ file, serve, bootstrap: (db, log, reg) => bootstrap(serve, db, log, reg) })
}
