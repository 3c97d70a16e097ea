/**
 * Issue 16, finding 7: a fuzz harness for the capture readers. Each case
 * mutates a capture from `tests/fixtures/pcaps` and reads it whole
 * (`parseCapture`, the reference) and streamed with every chunking: 1-byte
 * chunks, random sizes from an iterable, a `readSync` source, a
 * `ReadableStream` and a `read()` source. Checked: nothing throws, every
 * streamed read gives the reference's records, error and warning count, and
 * what the reader keeps buffered stays within its bound.
 *
 * The normal suite runs {@linkcode DEFAULT_CASES} cases; `FUZZ_CASES=1000000`
 * (and optionally `FUZZ_SEED=n`) in the environment runs more:
 *
 * ```sh
 * FUZZ_CASES=1000000 deno test -A tests/hardening/capture_fuzz_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { captureFiles, fuzzSettings, prng } from "./_fuzz.ts";
import {
  type CaptureParseResult,
  CaptureReader,
  CaptureReaderSync,
  type CaptureRecord,
  parseCapture,
} from "../../drivers/pcapfile/mod.ts";
import { FIXTURE_PCAPS } from "../_fixtures.ts";

/** Cases in the normal suite. */
const DEFAULT_CASES = 400;

const { cases: CASES, seed: SEED } = fuzzSettings(DEFAULT_CASES);

const INTERESTING = [0, 1, 4, 8, 12, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x1000000, 0x7fffffff];

/** One to four mutations of `src` (a copy). */
function mutate(src: Uint8Array, all: readonly Uint8Array[], rand: () => number): Uint8Array {
  let b: Uint8Array = src.slice();
  const n = 1 + Math.floor(rand() * 4);
  const at = () => Math.floor(rand() * Math.max(1, b.length));
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rand() * 8);
    if (b.length === 0) break;
    switch (op) {
      case 0: // flip a bit
        b[at()]! ^= 1 << Math.floor(rand() * 8);
        break;
      case 1: { // an interesting 32-bit value (a length field, often) in either byte order
        const o = at() & ~3;
        if (o + 4 <= b.length) {
          const v = INTERESTING[Math.floor(rand() * INTERESTING.length)]!;
          new DataView(b.buffer).setUint32(o, v >>> 0, rand() < 0.5);
        }
        break;
      }
      case 2: // truncate
        b = b.slice(0, at());
        break;
      case 3: { // repeat a region (more blocks, more interface descriptions)
        const s = at();
        const len = Math.min(b.length - s, 1 + Math.floor(rand() * 256));
        const times = 1 + Math.floor(rand() * 16);
        const parts = [b.subarray(0, s + len)];
        for (let i = 0; i < times; i++) parts.push(b.subarray(s, s + len));
        parts.push(b.subarray(s + len));
        b = concat(parts);
        break;
      }
      case 4: { // delete a region
        const s = at();
        const len = Math.floor(rand() * 64);
        b = concat([b.subarray(0, s), b.subarray(Math.min(b.length, s + len))]);
        break;
      }
      case 5: { // splice in another capture's tail (a second section, another format)
        const other = all[Math.floor(rand() * all.length)]!;
        b = concat([b.subarray(0, at()), other.subarray(Math.floor(rand() * other.length))]);
        break;
      }
      case 6: { // the capture body again, 2 to 5 times (past the readers' 64 KiB buffers)
        const ng = b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a;
        const body = ng ? b : b.subarray(Math.min(24, b.length)); // pcapng: a new section
        const times = 2 + Math.floor(rand() * 4);
        b = concat([b, ...Array.from({ length: times }, () => body)]);
        break;
      }
      default: // a random byte
        b[at()] = Math.floor(rand() * 256);
    }
  }
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `bytes` cut into chunks (fresh copies) of 1 byte or of random sizes. */
function chunks(bytes: Uint8Array, rand: () => number, oneByte: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = oneByte ? 1 : 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 9000));
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** A `read`/`readSync` source giving random short reads. */
function shortReads(bytes: Uint8Array, rand: () => number) {
  let at = 0;
  const readSync = (p: Uint8Array): number | null => {
    if (at >= bytes.length) return null;
    const n = Math.min(p.length, bytes.length - at, 1 + Math.floor(rand() * 3000));
    p.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
  return { readSync, read: (p: Uint8Array) => Promise.resolve(readSync(p)) };
}

interface Summary {
  records: string[];
  error: string | null;
  warnings: number;
}

function key(r: CaptureRecord): string {
  return `${r.index} ${r.timestamp} ${r.interfaceId} ${r.originalLength} ${r.fileOffset} ${
    Array.from(r.data, (x) => x.toString(16)).join("")
  }`;
}

function summary(r: CaptureParseResult): Summary {
  return { records: r.records.map(key), error: r.error?.code ?? null, warnings: r.warnings.length };
}

/** Bound on what a reader keeps buffered for a file of `n` bytes (see bufferedBytes). */
function bound(n: number): number {
  return 2 * n + 3 * 65536;
}

// Records are compared after the whole file is read: record data must stay
// valid while the reader reads on (it is never overwritten).

function readSync(reader: CaptureReaderSync, n: number): Summary {
  const records: CaptureRecord[] = [];
  let most = 0;
  for (const r of reader) {
    records.push(r);
    most = Math.max(most, reader.bufferedBytes);
  }
  assert.ok(most <= bound(n), `buffered ${most} for ${n} bytes`);
  const error = reader.error?.code ?? null;
  return { records: records.map(key), error, warnings: reader.warnings.length };
}

async function readAsync(reader: CaptureReader, n: number): Promise<Summary> {
  const records: CaptureRecord[] = [];
  let most = 0;
  for await (const r of reader) {
    records.push(r);
    most = Math.max(most, reader.bufferedBytes);
  }
  assert.ok(most <= bound(n), `buffered ${most} for ${n} bytes`);
  const error = reader.error?.code ?? null;
  return { records: records.map(key), error, warnings: reader.warnings.length };
}

/** Runs one case; throws (with the seed) on any escaped exception or disagreement. */
async function fuzzCase(all: readonly Uint8Array[], seed: number): Promise<void> {
  const rand = prng(seed);
  const bytes = mutate(all[Math.floor(rand() * all.length)]!, all, rand);
  const n = bytes.length;
  try {
    const want = summary(parseCapture(bytes));
    const got: [string, Summary][] = [
      ["1-byte chunks", readSync(new CaptureReaderSync(chunks(bytes, rand, true)), n)],
      ["random chunks", readSync(new CaptureReaderSync(chunks(bytes, rand, false)), n)],
      ["readSync()", readSync(new CaptureReaderSync(shortReads(bytes, rand)), n)],
      [
        "1-byte ReadableStream",
        await readAsync(new CaptureReader(ReadableStream.from(chunks(bytes, rand, true))), n),
      ],
      [
        "random ReadableStream",
        await readAsync(new CaptureReader(ReadableStream.from(chunks(bytes, rand, false))), n),
      ],
      [
        "read()",
        await readAsync(new CaptureReader({ read: shortReads(bytes, rand).read }), n),
      ],
    ];
    for (const [how, s] of got) assert.deepEqual(s, want, how);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`capture fuzz case with seed ${seed} failed (${n} bytes): ${why}`, {
      cause: e,
    });
  }
}

Deno.test(`capture readers agree and never throw on ${CASES} mutated captures`, async () => {
  const all = captureFiles(FIXTURE_PCAPS);
  assert.ok(all.length >= 20, "the fixtures are in the repository");
  for (let i = 0; i < CASES; i++) await fuzzCase(all, SEED * 1_000_003 + i);
});
