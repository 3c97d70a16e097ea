import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  CHECKSUM_BACKEND,
  checksumArena,
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumBytes,
  sumBytesPlain,
  sumHeaderRange,
  sumRange,
  updateChecksum16,
  updateChecksum32,
} from "./checksum.ts";

// ---------------------------------------------------------------------------
// Reference implementation: RFC 1071 taken literally, one big-endian word at a
// time with an end-around carry after every addition.

function naiveSum(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    if (s > 0xffff) s -= 0xffff;
  }
  return s;
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Copies `bytes` into a fresh buffer at `offset`, surrounded by 0xa5 guard bytes. */
function placed(bytes: Uint8Array, offset: number, slack = 8): Uint8Array {
  const buf = new Uint8Array(offset + bytes.length + slack).fill(0xa5);
  buf.set(bytes, offset);
  return buf.subarray(offset, offset + bytes.length);
}

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Fixtures captured from Linux 127.0.0.1 / ::1 traffic (kernel-generated
// packets, whose checksums are computed in software and so are complete).

// IPv4 + TCP RST, ACK: 127.0.0.1:9998 > 127.0.0.1:53074, reply to a SYN to a closed port.
const TCP_RST_V4 = hex(
  "45 00 00 28 00 00 40 00 40 06 3c ce 7f 00 00 01 7f 00 00 01" + // IPv4, checksum 0x3cce
    "27 0e cf 52 00 00 00 00 fa b5 d3 91 50 14 00 00 ed 25 00 00", // TCP, checksum 0xed25
);

// IPv4 (TOS 0xc0) + ICMP port unreachable quoting a UDP datagram to port 9999.
const ICMP_UNREACH_V4 = hex(
  "45 c0 00 46 fb 63 00 00 40 01 80 91 7f 00 00 01 7f 00 00 01" + // IPv4, checksum 0x8091
    "03 03 50 8e 00 00 00 00" + // ICMP type 3 code 3, checksum 0x508e
    "45 00 00 2a 4e 2c 40 00 40 11 ee 94 7f 00 00 01 7f 00 00 01" + // quoted IPv4
    "88 87 27 0f 00 16 fe 29 68 65 6c 6c 6f 20 6e 65 74 73 74 61 63 6b", // quoted UDP "hello netstack"
);

// IPv6 + ICMPv6 port unreachable (::1 > ::1) quoting a UDP datagram.
const ICMP_UNREACH_V6 = hex(
  "60 06 83 c6 00 40 3a 40" + // IPv6, payload length 64, next header 58
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01" + // src ::1
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01" + // dst ::1
    "01 04 a6 18 00 00 00 00" + // ICMPv6 type 1 code 4, checksum 0xa618
    "60 0e 7b 7b 00 10 11 40" + // quoted IPv6
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01" +
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01" +
    "8a 20 27 0f 00 10 00 23 68 65 6c 6c 6f 20 76 36", // quoted UDP "hello v6"
);

// ---------------------------------------------------------------------------
// Known vectors

Deno.test("sumBytes() gives 0xddf2 for the RFC 1071 example", () => {
  const bytes = hex("00 01 f2 03 f4 f5 f6 f7");
  assert.equal(sumBytes(bytes), 0xddf2);
  assert.equal(internetChecksum(bytes), 0x220d);
});

Deno.test("sumBytes() gives 0xddf2 for the RFC 1071 example at every offset 0..7", () => {
  for (let off = 0; off < 8; off++) {
    assert.equal(sumBytes(placed(hex("00 01 f2 03 f4 f5 f6 f7"), off)), 0xddf2, `offset ${off}`);
  }
});

Deno.test("internetChecksum() validates to 0 over a captured IPv4 header", () => {
  assert.equal(internetChecksum(TCP_RST_V4.subarray(0, 20)), 0);
  assert.equal(internetChecksum(ICMP_UNREACH_V4.subarray(0, 20)), 0);
});

Deno.test("internetChecksum() recomputes the checksum of a captured IPv4 header", () => {
  const header = TCP_RST_V4.slice(0, 20);
  header[10] = 0;
  header[11] = 0;
  assert.equal(internetChecksum(header), 0x3cce);
});

Deno.test("internetChecksum() validates to 0 over a captured ICMP message", () => {
  assert.equal(internetChecksum(ICMP_UNREACH_V4.subarray(20)), 0);
});

Deno.test("pseudoHeaderSumV4() validates a captured TCP segment", () => {
  const segment = TCP_RST_V4.subarray(20);
  const pseudo = pseudoHeaderSumV4(0x7f000001, 0x7f000001, 6, segment.length);
  assert.equal(finishChecksum(sumBytes(segment, pseudo)), 0);
});

Deno.test("pseudoHeaderSumV6() validates a captured ICMPv6 message", () => {
  const message = ICMP_UNREACH_V6.subarray(40);
  const pseudo = pseudoHeaderSumV6(
    ICMP_UNREACH_V6.subarray(8, 24),
    ICMP_UNREACH_V6.subarray(24, 40),
    58,
    message.length,
  );
  assert.equal(finishChecksum(sumBytes(message, pseudo)), 0);
});

Deno.test("pseudoHeaderSumV4() equals the sum of the 12-byte pseudo-header", () => {
  fc.assert(
    fc.property(
      fc.nat(0xffffffff),
      fc.nat(0xffffffff),
      fc.nat(255),
      fc.nat(0xffff),
      (src, dst, protocol, length) => {
        const ph = new Uint8Array(12);
        const view = new DataView(ph.buffer);
        view.setUint32(0, src);
        view.setUint32(4, dst);
        view.setUint8(9, protocol);
        view.setUint16(10, length);
        assert.equal(pseudoHeaderSumV4(src, dst, protocol, length), naiveSum(ph));
      },
    ),
  );
});

Deno.test("pseudoHeaderSumV6() equals the sum of the 40-byte pseudo-header", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.nat(255),
      fc.nat(0xffffffff),
      fc.nat(3),
      (src, dst, nextHeader, length, off) => {
        const ph = new Uint8Array(40);
        ph.set(src, 0);
        ph.set(dst, 16);
        new DataView(ph.buffer).setUint32(32, length);
        ph[39] = nextHeader;
        const got = pseudoHeaderSumV6(placed(src, off), placed(dst, off + 1), nextHeader, length);
        assert.equal(got, naiveSum(ph));
      },
    ),
  );
});

Deno.test("finishChecksum() folds carries and complements", () => {
  assert.equal(finishChecksum(0), 0xffff);
  assert.equal(finishChecksum(0xffff), 0);
  assert.equal(finishChecksum(0x1_0000), 0xfffe);
  assert.equal(finishChecksum(0x1234 + 0xfedc), 0xeeee); // 0x1_1110 -> 0x1111
  assert.equal(
    finishChecksum(2 ** 52),
    ~naiveSum(new Uint8Array([0, 0x10, 0, 0, 0, 0, 0, 0])) & 0xffff,
  );
});

// ---------------------------------------------------------------------------
// Agreement with the reference

// Every test in this section runs against both implementations: `sumBytes`
// (WebAssembly SIMD here) and the portable `sumBytesPlain`.
const IMPLEMENTATIONS = [["sumBytes", sumBytes], ["sumBytesPlain", sumBytesPlain]] as const;

Deno.test("sumBytes() uses WebAssembly SIMD where WebAssembly is available", () => {
  assert.equal(CHECKSUM_BACKEND, typeof WebAssembly === "object" ? "wasm-simd" : "plain");
});

for (const [name, sum] of IMPLEMENTATIONS) {
  Deno.test(`${name}() matches the naive sum for odd and even lengths`, () => {
    assert.equal(sum(new Uint8Array(0)), 0);
    assert.equal(sum(hex("ab")), 0xab00);
    assert.equal(sum(hex("ab cd")), 0xabcd);
    assert.equal(sum(hex("ab cd ef")), 0xabcd + 0xef00 - 0xffff);
    for (let n = 0; n < 200; n++) {
      const bytes = randomBytes(n, n + 1);
      assert.equal(sum(bytes), naiveSum(bytes), `length ${n}`);
    }
  });

  Deno.test(`${name}() matches the naive sum at any offset`, () => {
    for (let off = 0; off < 8; off++) {
      for (let n = 0; n <= 70; n++) {
        const bytes = placed(randomBytes(n, off * 100 + n + 7), off);
        assert.equal(sum(bytes), naiveSum(bytes), `offset ${off}, length ${n}`);
      }
    }
  });

  Deno.test(`${name}() matches the naive sum at any offset for packet sizes`, () => {
    for (const n of [64, 127, 1499, 1500, 1501, 9000, 65535, 65536, 65537, 65600, 131073]) {
      const data = randomBytes(n, n);
      const expected = naiveSum(data);
      for (let off = 0; off < 8; off++) {
        assert.equal(sum(placed(data, off)), expected, `offset ${off}, length ${n}`);
      }
    }
  });

  Deno.test(`${name}() handles all-0xff data without losing carries`, () => {
    for (const n of [31, 32, 33, 63, 64, 65, 1500, 65536, (1 << 22) + 3]) {
      for (let off = 0; off < 4; off++) {
        const bytes = placed(new Uint8Array(n).fill(0xff), off);
        // An odd trailing 0xff is the word 0xff00.
        const expected = n % 2 === 0 ? 0xffff : 0xff00;
        assert.equal(sum(bytes), expected, `offset ${off}, length ${n}`);
      }
    }
  });

  Deno.test(`${name}() returns 0 only for all-zero data`, () => {
    for (const n of [0, 1, 2, 20, 64, 1500]) {
      assert.equal(sum(new Uint8Array(n)), 0);
      assert.equal(sum(placed(new Uint8Array(n), 3)), 0);
    }
    // 0x8000 + 0x7fff = 0xffff: a nonzero sum is never folded to 0.
    assert.equal(sum(placed(hex("80 00 7f ff"), 1)), 0xffff);
    assert.equal(
      sum(placed(hex("80 00 7f ff 00 00 00 00 00 00 00 00 00 00 00 00".repeat(4)), 1)),
      0xffff,
    );
  });

  Deno.test(`${name}() sums beyond one accumulator chunk (8 MiB)`, () => {
    const n = (1 << 23) + 10; // 8 MiB + 10: spans two 4 MiB chunks
    const data = randomBytes(n, 99);
    const expected = naiveSum(data);
    for (const off of [0, 1, 2, 3]) {
      assert.equal(sum(placed(data, off)), expected, `offset ${off}`);
    }
  });

  Deno.test(`${name}() adds initial and folds it`, () => {
    const bytes = randomBytes(100, 5);
    const base = naiveSum(bytes);
    for (const initial of [0, 1, 0xfffe, 0xffff, 0x1_0000, 0x3_fffd, 0xffffffff, 2 ** 40 + 17]) {
      assert.equal(sum(bytes, initial), naiveSum(bytes, initial), `initial ${initial}`);
    }
    assert.equal(sum(new Uint8Array(0), 0x1_0001), 2);
    assert.equal(sum(bytes, 0), base);
  });

  Deno.test(`${name}() chains over parts of even length`, () => {
    const data = randomBytes(3000, 11);
    const first = sum(data.subarray(0, 1234));
    assert.equal(sum(data.subarray(1234), first), naiveSum(data));
  });

  Deno.test(`${name}() works on views of many buffers in turn`, () => {
    // Exercises the view cache: alternate between buffers, and between offsets
    // in one slab.
    const slabs = [new ArrayBuffer(1 << 16), new ArrayBuffer(1 << 16), new ArrayBuffer(4099)];
    for (const [k, slab] of slabs.entries()) {
      new Uint8Array(slab).set(randomBytes(slab.byteLength, k + 1));
    }
    for (let round = 0; round < 3; round++) {
      for (const slab of slabs) {
        for (
          const [off, n] of [[0, 1500], [1501, 1500], [3003, 1096], [slab.byteLength - 33, 33]]
        ) {
          const view = new Uint8Array(slab, off!, n!);
          assert.equal(sum(view), naiveSum(view));
        }
      }
    }
  });

  Deno.test(`${name}() works on views of resizable and shared buffers`, () => {
    const resizable = new ArrayBuffer(256, { maxByteLength: 1024 });
    new Uint8Array(resizable).set(randomBytes(256, 3));
    const a = new Uint8Array(resizable, 3, 200);
    assert.equal(sum(a), naiveSum(a));
    resizable.resize(1024);
    const b = new Uint8Array(resizable, 301, 700);
    assert.equal(sum(b), naiveSum(b));

    const shared = new SharedArrayBuffer(4096);
    new Uint8Array(shared).set(randomBytes(4096, 4));
    const c = new Uint8Array(shared, 5, 3000);
    assert.equal(sum(c), naiveSum(c));
  });

  Deno.test(`${name}() matches the naive sum on random bytes and offsets (property)`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat(15),
        fc.nat(0xffff),
        (data, off, initial) => {
          assert.equal(sum(placed(data, off), initial), naiveSum(data, initial));
        },
      ),
      { numRuns: 500 },
    );
  });
}

Deno.test("internetChecksum() stored in the data validates to 0 (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(7), (data, off) => {
      const bytes = placed(data, off);
      bytes[0] = 0;
      bytes[1] = 0;
      const checksum = internetChecksum(bytes);
      bytes[0] = checksum >>> 8;
      bytes[1] = checksum & 0xff;
      assert.equal(internetChecksum(bytes), 0);
    }),
  );
});

// ---------------------------------------------------------------------------
// Incremental update (RFC 1624)

/** A header-like buffer: word 0 is nonzero (as in IPv4, or a pseudo-header protocol), word 1 is the checksum. */
function withChecksum(words: number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 2);
  const view = new DataView(bytes.buffer);
  for (const [i, w] of words.entries()) view.setUint16(i * 2, w);
  view.setUint16(2, 0);
  view.setUint16(2, internetChecksum(bytes));
  return bytes;
}

Deno.test("updateChecksum16() equals recomputation (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(0xffff), { minLength: 3, maxLength: 40 }),
      fc.nat(),
      fc.nat(0xffff),
      (words, pick, newWord) => {
        words[0] ||= 0x4500;
        const bytes = withChecksum(words);
        const view = new DataView(bytes.buffer);
        const index = 2 + (pick % (words.length - 2)); // any word but 0 and the checksum
        const oldWord = view.getUint16(index * 2);
        const updated = updateChecksum16(view.getUint16(2), oldWord, newWord);
        view.setUint16(index * 2, newWord);
        view.setUint16(2, 0);
        assert.equal(updated, internetChecksum(bytes));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("updateChecksum16() handles the edge values of RFC 1624 §3", () => {
  // [words with word 1 the checksum field], index of the changed word, new value.
  const cases: [number[], number, number][] = [
    [[0xcd7a, 0, 0x5555], 2, 0x3285], // new sum 0xffff: checksum 0x0000
    [[0x0001, 0, 0xfffe], 2, 0x0000], // new sum 0x0001
    [[0x8000, 0, 0x7fff], 2, 0x8000], // 0x8000 + 0x8000 wraps to 0x0001
    [[0xffff, 0, 0xffff], 2, 0xffff], // unchanged
    [[0x0001, 0, 0x0000], 2, 0xffff],
  ];
  for (const [words, index, newWord] of cases) {
    const bytes = withChecksum(words);
    const view = new DataView(bytes.buffer);
    const updated = updateChecksum16(view.getUint16(2), view.getUint16(index * 2), newWord);
    view.setUint16(index * 2, newWord);
    view.setUint16(2, 0);
    assert.equal(updated, internetChecksum(bytes), `${words} -> ${newWord}`);
  }
});

Deno.test("updateChecksum16() gives 0x0000, not 0xffff, when the data becomes all zero", () => {
  // The documented limitation: unreachable for IPv4, UDP and TCP.
  const bytes = withChecksum([0x1234, 0]);
  assert.equal(updateChecksum16(new DataView(bytes.buffer).getUint16(2), 0x1234, 0), 0x0000);
  assert.equal(internetChecksum(new Uint8Array(4)), 0xffff);
});

Deno.test("updateChecksum16() decrements the TTL of a captured IPv4 header", () => {
  const header = TCP_RST_V4.slice(0, 20);
  const view = new DataView(header.buffer);
  const oldWord = view.getUint16(8);
  view.setUint8(8, view.getUint8(8) - 1);
  view.setUint16(10, updateChecksum16(view.getUint16(10), oldWord, view.getUint16(8)));
  assert.equal(internetChecksum(header), 0);
});

Deno.test("updateChecksum32() equals recomputation (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(0xffff), { minLength: 4, maxLength: 40 }),
      fc.nat(),
      fc.nat(0xffffffff),
      (words, pick, newValue) => {
        words[0] ||= 0x4500;
        const bytes = withChecksum(words);
        const view = new DataView(bytes.buffer);
        const index = 2 + (pick % (words.length - 3)); // a 32-bit value at words index, index+1
        const oldValue = view.getUint32(index * 2);
        const updated = updateChecksum32(view.getUint16(2), oldValue, newValue);
        view.setUint32(index * 2, newValue);
        view.setUint16(2, 0);
        assert.equal(updated, internetChecksum(bytes));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("updateChecksum32() rewrites the address of a captured TCP segment (NAT)", () => {
  // Source NAT of the RST: 127.0.0.1 -> 10.1.2.3 in the IPv4 header and in the
  // TCP pseudo-header.
  const packet = TCP_RST_V4.slice();
  const view = new DataView(packet.buffer);
  const oldSrc = view.getUint32(12);
  const newSrc = 0x0a010203;
  view.setUint32(12, newSrc);
  view.setUint16(10, updateChecksum32(view.getUint16(10), oldSrc, newSrc));
  view.setUint16(36, updateChecksum32(view.getUint16(36), oldSrc, newSrc));
  assert.equal(internetChecksum(packet.subarray(0, 20)), 0);
  const segment = packet.subarray(20);
  const pseudo = pseudoHeaderSumV4(newSrc, view.getUint32(16), 6, segment.length);
  assert.equal(finishChecksum(sumBytes(segment, pseudo)), 0);
});

Deno.test("sumRange() and sumBytes() in a checksum arena equal the naive sum at every offset and length", () => {
  const arena = checksumArena(65536);
  assert.equal(arena !== null, CHECKSUM_BACKEND === "wasm-simd");
  const buf = new Uint8Array(arena ?? new ArrayBuffer(65536));
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 251 + 17) & 0xff;
  // A view that does not start at the arena's first byte, as a carved packet buffer.
  const view = buf.subarray(2048 + 3, 4096 + 3);
  for (let start = 0; start < 20; start++) {
    for (let len = 0; len <= 300; len++) {
      const want = naiveSum(view.subarray(start, start + len), 7);
      assert.equal(sumRange(view, start, start + len, 7), want, `start ${start}, length ${len}`);
      assert.equal(sumBytes(view.subarray(start, start + len), 7), want);
    }
  }
  // A full-sized segment and the arena's last bytes (nothing read past the end).
  assert.equal(sumRange(buf, 100, 1600), naiveSum(buf.subarray(100, 1600)));
  // And the same ranges of a plain buffer (the copy path).
  const plain = buf.slice(0, 4096);
  for (const [start, end] of [[0, 64], [3, 1500], [1, 4096], [2050, 2051 + 100]] as const) {
    assert.equal(sumRange(plain, start, end, 7), naiveSum(plain.subarray(start, end), 7));
  }
  assert.equal(sumRange(buf, 65536 - 1500, 65536), naiveSum(buf.subarray(65536 - 1500)));
});

Deno.test("sumHeaderRange() equals the naive sum at every offset and length up to 100", () => {
  const buf = new Uint8Array(4096).map((_, i) => (i * 251 + 17) & 0xff);
  for (let start = 0; start < 8; start++) {
    for (let len = 0; len <= 100; len++) {
      const want = naiveSum(buf.subarray(start, start + len));
      assert.equal(sumHeaderRange(buf, start, start + len), want, `start ${start}, length ${len}`);
    }
  }
});

Deno.test("checksumArena() refuses sizes that are not whole wasm pages", () => {
  assert.throws(() => checksumArena(1000), RangeError);
  assert.throws(() => checksumArena(0), RangeError);
  assert.throws(() => checksumArena(65536.5), RangeError);
});

Deno.test("checksumArena() gives null once its bounded number of arenas are alive", () => {
  const held: ArrayBuffer[] = [];
  let refused = false;
  for (let i = 0; i < 40 && !refused; i++) {
    const a = checksumArena(65536);
    if (a === null) refused = true;
    else held.push(a);
  }
  assert.ok(refused, "a bound on live arenas");
  assert.ok(held.length <= 16);
});
