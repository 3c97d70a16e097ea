/**
 * Issue 16, finding 1: the capture readers keep memory bounded by the block
 * length whatever the chunking of the source, and cap the interface list.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CaptureReader,
  CaptureReaderSync,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_INTERFACES,
} from "../../drivers/pcapfile/mod.ts";
import { concat, idb, shb } from "../../drivers/pcapfile/_testing.ts";

/** A section header, then the header of a block that declares 16 MiB. */
function hugeBlockPrefix(): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, 6, true); // Enhanced Packet Block
  dv.setUint32(4, 16 * 1024 * 1024, true);
  return concat(shb(true), h);
}

const DRIPS = 5000;
/** The prefix, then `DRIPS` more bytes: the 16 MiB block never completes. */
const dripBytes = concat(hugeBlockPrefix(), new Uint8Array(DRIPS).fill(0x55));
/** What may stay buffered: the bytes themselves plus two 64 KiB buffers. */
const BOUND = dripBytes.length + 2 * DEFAULT_CHUNK_SIZE;

/**
 * A `read`/`readSync` source giving one byte per read, counting the bytes the
 * reader allocated to read into (each new buffer counted once) and sampling
 * what the reader keeps buffered.
 */
class DripSource {
  allocated = 0;
  maxBuffered = 0;
  reader: { bufferedBytes: number } | null = null;
  #at = 0;
  #last: ArrayBufferLike | null = null;
  readSync(p: Uint8Array): number | null {
    if (p.buffer !== this.#last) {
      this.#last = p.buffer;
      this.allocated += p.buffer.byteLength;
    }
    if (this.#at % 500 === 0 && this.reader !== null) {
      this.maxBuffered = Math.max(this.maxBuffered, this.reader.bufferedBytes);
    }
    if (this.#at >= dripBytes.length) return null;
    p[0] = dripBytes[this.#at++]!;
    return 1;
  }
  read(p: Uint8Array): Promise<number | null> {
    return Promise.resolve(this.readSync(p));
  }
}

Deno.test("CaptureReaderSync over 1-byte readSync() keeps memory bounded by the block", () => {
  const src = new DripSource();
  const reader = new CaptureReaderSync(src);
  src.reader = reader;
  assert.equal(reader.next(), null);
  assert.equal(reader.error?.code, "truncated");
  // Before the fix: a fresh 64 KiB buffer per 1-byte read, each one pinned
  // (5,028 reads: 330 MB allocated and kept).
  assert.ok(src.allocated <= BOUND, `allocated ${src.allocated} bytes, bound ${BOUND}`);
  assert.equal(typeof reader.bufferedBytes, "number");
  assert.ok(src.maxBuffered > 0 && src.maxBuffered <= BOUND, `buffered ${src.maxBuffered}`);
});

Deno.test("CaptureReader over 1-byte read() keeps memory bounded by the block", async () => {
  const src = new DripSource();
  const reader = new CaptureReader({ read: (p: Uint8Array) => src.read(p) });
  src.reader = reader;
  assert.equal(await reader.next(), null);
  assert.equal(reader.error?.code, "truncated");
  assert.ok(src.allocated <= BOUND, `allocated ${src.allocated} bytes, bound ${BOUND}`);
  assert.equal(typeof reader.bufferedBytes, "number");
  assert.ok(src.maxBuffered > 0 && src.maxBuffered <= BOUND, `buffered ${src.maxBuffered}`);
});

Deno.test("CaptureReader over a ReadableStream of 1-byte chunks buffers about the bytes", async () => {
  const bytes = concat(hugeBlockPrefix(), new Uint8Array(200_000));
  let i = 0;
  let maxBuffered = 0;
  let reader: CaptureReader | null = null;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i % 1000 === 0 && reader !== null) {
        maxBuffered = Math.max(maxBuffered, reader.bufferedBytes);
      }
      if (i >= bytes.length) c.close();
      else c.enqueue(bytes.slice(i, ++i)); // a fresh 1-byte chunk each time
    },
  });
  reader = new CaptureReader(stream);
  assert.equal(await reader.next(), null);
  assert.equal(reader.error?.code, "truncated");
  // Before the fix every 1-byte chunk stayed a separate object (196 MiB RSS).
  assert.ok(maxBuffered > 100_000, `buffered ${maxBuffered}`);
  assert.ok(maxBuffered <= bytes.length + 2 * 65536, `buffered ${maxBuffered}`);
});

Deno.test("CaptureReaderSync ends an endless stream of interface descriptions", () => {
  const one = idb(true, 1);
  let n = 0;
  function* blocks(): Generator<Uint8Array> {
    yield shb(true);
    for (; n < 1_000_000; n++) yield one;
  }
  const reader = new CaptureReaderSync(blocks());
  assert.equal(reader.next(), null);
  assert.equal(reader.error?.code, "too_many_interfaces");
  assert.equal(reader.interfaces.length, DEFAULT_MAX_INTERFACES);
  assert.ok(n <= DEFAULT_MAX_INTERFACES + 1, `read ${n} blocks`);
});

Deno.test("CaptureReaderSync honours a smaller maxInterfaces", () => {
  const file = concat(shb(true), idb(true, 1), idb(true, 1), idb(true, 1));
  const reader = new CaptureReaderSync(file, { maxInterfaces: 2 });
  assert.equal(reader.next(), null);
  assert.equal(reader.error?.code, "too_many_interfaces");
  assert.equal(reader.interfaces.length, 2);
  assert.equal(new CaptureReaderSync(file, { maxInterfaces: 3 }).next(), null);
});
