/**
 * What the fuzz tests share: their settings from the environment
 * (`FUZZ_CASES`, `FUZZ_SEED`), a seeded generator, byte mutations, the
 * capture fixtures as Ethernet frames, the check that a frame the stack
 * sent decodes cleanly, and the receive fuzz's loop.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseCapture } from "../../drivers/pcapfile/mod.ts";
import { decodeFrame } from "../../stack/wire/decode.ts";
import { kernelOf } from "../../stack/stack.ts";
import type { Host } from "../_harness.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: the defaults
  }
}

/** Cases to run (`FUZZ_CASES`, else `defaultCases`) and the seed (`FUZZ_SEED`, else 16). */
export function fuzzSettings(defaultCases: number): { cases: number; seed: number } {
  return {
    cases: Number(env("FUZZ_CASES") ?? defaultCases),
    seed: Number(env("FUZZ_SEED") ?? 16),
  };
}

/** mulberry32: numbers in [0, 1). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random bytes. */
export function bytes(n: number, r: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** An Ethernet II frame of `payload`. */
export function ether(
  payload: Uint8Array,
  type: number,
  dst: readonly number[],
  src: readonly number[],
): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

/** The bytes of every capture file under `dir` (subdirectories too). */
export function captureFiles(dir: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...captureFiles(path));
    else if (/\.pcap(ng)?$/.test(e.name)) out.push(Deno.readFileSync(path));
  }
  return out;
}

/** Ethernet frames of the fixtures under `dir` (raw IP ones get an Ethernet header). */
export function corpus(dir: string, dst: readonly number[], src: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const file of captureFiles(dir)) {
    for (const r of parseCapture(file).records) {
      if (r.linkType === 1) out.push(r.data);
      else if (r.linkType === 101 || r.linkType === 228 || r.linkType === 229) {
        const v6 = r.data.length > 0 && r.data[0]! >> 4 === 6;
        out.push(ether(r.data, v6 ? 0x86dd : 0x0800, dst, src));
      }
    }
  }
  return out;
}

/** One to four mutations of `src` (a copy). */
export function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = src.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = Math.floor(r() * b.length);
    switch (Math.floor(r() * 6)) {
      case 0:
        b[at]! ^= 1 << Math.floor(r() * 8);
        break;
      case 1:
        b[at] = [0, 1, 0x7f, 0x80, 0xff][Math.floor(r() * 5)]!;
        break;
      case 2:
        b[at] = Math.floor(r() * 256);
        break;
      case 3: // cut
        b = b.subarray(0, at);
        break;
      case 4: { // grow
        const g = new Uint8Array(b.length + 1 + Math.floor(r() * 32));
        g.set(b);
        g.set(bytes(g.length - b.length, r), b.length);
        b = g;
        break;
      }
      default: // a 16-bit field: a length, often
        if (at + 2 <= b.length) {
          const v = [0, 1, 8, 20, 0x7fff, 0xffff][Math.floor(r() * 6)]!;
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
    }
  }
  return b;
}

/** Why an Ethernet frame the stack sent is not valid, or undefined. */
export function invalid(f: Uint8Array): string | undefined {
  const d = decodeFrame(f, 1);
  if (d.problem !== undefined) return d.problem;
  for (const l of d.layers) {
    if (!l.quoted && l.notes.checksum === "incorrect") return `${l.name} checksum`;
  }
  return undefined;
}

/** What {@linkcode fuzzReceive} asks of its test. */
export interface ReceiveFuzz {
  /** Cases to run. */
  readonly cases: number;
  /** The seed (named in failure messages). */
  readonly seed: number;
  /** The frame of the next case. */
  next(): Uint8Array;
  /** Every 64 cases, after the frame: time passes (retransmits, reassembly, reports). */
  tick(): void;
  /** Every 16 cases: the application reads its sockets. */
  read(): void;
}

/**
 * Hands `fuzz.cases` frames to `h`'s stack and checks after each that
 * nothing escaped `inject`, some counter moved (every drop is counted), no
 * plugin faulted, and every frame the stack sent decodes with correct
 * checksums; at the end, that no plugin is quarantined and the buffers held
 * at once stayed bounded (queues and reassembly hold at most their caps,
 * far below 4096).
 */
export function fuzzReceive(h: Host, fuzz: ReceiveFuzz): void {
  const s = h.stack;
  const total = () => Object.values(s.counters.snapshot()).reduce((a, b) => a + b, 0);
  let maxHeld = 0;
  for (let i = 0; i < fuzz.cases; i++) {
    const f = fuzz.next();
    const where = `case ${i} (seed ${fuzz.seed}): ${
      Array.from(f, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
    const before = total();
    kernelOf(s).inject(h.iface.index, f); // must not throw
    assert.ok(total() > before, `${where}: no counter moved`);
    if (i % 64 === 0) fuzz.tick();
    assert.equal(s.counters.value("dispatcher.plugin_fault"), 0, `${where}: plugin fault`);
    for (const sent of h.take()) {
      const why = invalid(sent);
      assert.equal(why, undefined, `${where}: sent an invalid frame (${why})`);
    }
    if (i % 16 === 0) fuzz.read();
    maxHeld = Math.max(maxHeld, s.pool.outstanding);
  }
  for (const name of s.pluginNames) assert.ok(!s.isQuarantined(name), `${name} quarantined`);
  assert.ok(maxHeld < 4096, `${maxHeld} buffers held at once`);
}
