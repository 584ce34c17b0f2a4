// CRC-32C (Castagnoli), the checksum RocksDB and etcd's WAL use. Written here rather than taken from
// node:zlib because zlib.crc32 is plain CRC-32 and only exists from Node 20.15; the store must read
// the same bytes the same way on every supported Node. Every write a member makes is checksummed
// (log records, journal records), so it is on the write path: slicing-by-8 reads eight bytes per
// step, about twice as fast as the slicing-by-4 it replaced.

const polynomialReversed = 0x82f63b78

// tables[k][b]: the CRC of byte b followed by k zero bytes.
const tables: Uint32Array[] = buildTables(8)

function buildTables(count: number): Uint32Array[] {
  const first = new Uint32Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomialReversed : crc >>> 1
    first[byte] = crc >>> 0
  }
  const out = [first]
  for (let k = 1; k < count; k++) {
    const previous = out[k - 1]!
    const table = new Uint32Array(256)
    for (let byte = 0; byte < 256; byte++) {
      const crc = previous[byte]!
      table[byte] = ((crc >>> 8) ^ first[crc & 0xff]!) >>> 0
    }
    out.push(table)
  }
  return out
}

/**
 * CRC-32C of `bytes`. Pass the result of a previous call as `crcPrevious` to continue over
 * several pieces: crc32c(b, crc32c(a)) === crc32c(a ‖ b).
 */
export function crc32c(bytes: Uint8Array, crcPrevious = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = ~crcPrevious >>> 0
  let i = 0
  const blocksEnd = bytes.length - (bytes.length % 8)
  for (; i < blocksEnd; i += 8) {
    const low = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))
    const high = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24)
    crc =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[high & 0xff]! ^
      t2[(high >>> 8) & 0xff]! ^
      t1[(high >>> 16) & 0xff]! ^
      t0[high >>> 24]!
  }
  for (; i < bytes.length; i++) crc = t0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
