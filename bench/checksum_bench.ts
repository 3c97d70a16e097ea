/**
 * Internet checksum throughput: `deno bench bench/checksum_bench.ts`.
 *
 * Packets are views into one 1 MiB slab, as the drivers hand them out, at
 * several start offsets (aligned, 2-aligned after an Ethernet header, odd) so
 * the measured function sees the mix a real stack gives it. Throughput in GB/s
 * is bytes / (time per iteration): 1500 B in 100 ns is 15 GB/s.
 *
 * `internetChecksum` uses WebAssembly SIMD where available
 * (`CHECKSUM_BACKEND`); the `plain` rows measure the portable TypeScript path.
 *
 * @module
 */

import {
  CHECKSUM_BACKEND,
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  sumBytes,
  sumBytesPlain,
} from "../stack/wire/checksum.ts";

const SLAB = new ArrayBuffer(1 << 20);
{
  const bytes = new Uint8Array(SLAB);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
}

/** `count` views of `len` bytes spread over the slab, at 8-aligned bases plus `offsets` (cycled). */
function views(len: number, count: number, offsets: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  const stride = Math.floor((SLAB.byteLength - len - 8) / count) & ~7;
  for (let k = 0; k < count; k++) {
    out.push(new Uint8Array(SLAB, k * stride + offsets[k % offsets.length]!, len));
  }
  return out;
}

const ALIGNED = [0];
const MIXED = [0, 2, 14, 1, 3]; // 14: IP header after a 14-byte Ethernet header

/** The checksums are folded into `sink` so the work cannot be optimised away. */
export let sink = 0;

function bench(
  name: string,
  group: string,
  packets: Uint8Array[],
  sum: (bytes: Uint8Array) => number,
  baseline = false,
): void {
  let k = 0;
  Deno.bench({
    name,
    group,
    baseline,
    fn() {
      sink ^= sum(packets[k]!);
      k = (k + 1) % packets.length;
    },
  });
}

function plain(bytes: Uint8Array): number {
  return finishChecksum(sumBytesPlain(bytes));
}

const B = CHECKSUM_BACKEND;
for (const [label, len, count] of [["1500 B", 1500, 64], ["64 KiB", 65536, 10]] as const) {
  bench(
    `internetChecksum ${label}, aligned (${B})`,
    label,
    views(len, count, ALIGNED),
    internetChecksum,
    true,
  );
  bench(
    `internetChecksum ${label}, mixed offsets (${B})`,
    label,
    views(len, count, MIXED),
    internetChecksum,
  );
  bench(`plain ${label}, aligned`, label, views(len, count, ALIGNED), plain);
  bench(`plain ${label}, mixed offsets`, label, views(len, count, MIXED), plain);
}

bench("internetChecksum 20 B IPv4 header", "small", views(20, 64, [14]), internetChecksum, true);
bench("internetChecksum 576 B", "small", views(576, 64, MIXED), internetChecksum);

{
  const segments = views(1480, 64, MIXED);
  bench("TCP segment 1480 B with IPv4 pseudo-header", "small", segments, (s) => {
    return finishChecksum(sumBytes(s, pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, s.length)));
  });
}
