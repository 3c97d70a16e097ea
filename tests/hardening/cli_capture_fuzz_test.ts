/**
 * `cli.ts decode` and `cli.ts replay` on malformed capture files, run in
 * this process: hand-made ones (empty, a header cut short, snaplen 0, a
 * record longer than the snaplen or than the file, caplen 2³²−1, link
 * type 9999, pcapng blocks of length 0, of 2³¹ or not a multiple of 4, a
 * packet naming an interface never described, random bytes) and seeded
 * mutations of the fixture captures. Checked: nothing is thrown; the exit
 * code is 0 or 1, and 1 exactly when an error line was printed; every line
 * printed (packets, warnings, errors) is one line with no control
 * character a terminal would act on, and errors and warnings name the
 * command; no stack trace.
 *
 * ```sh
 * FUZZ_CASES=2000 FUZZ_SEED=3 deno test -A tests/hardening/cli_capture_fuzz_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { runDecode } from "../../cli/decode.ts";
import { runReplay } from "../../cli/replay.ts";
import { FIXTURE_PCAPS } from "../_fixtures.ts";
import { fuzzSettings, mutate, prng } from "./_fuzz.ts";

const { cases: CASES, seed: SEED } = fuzzSettings(60);

/** A little-endian pcap global header (magic, 2.4, snaplen, link type). */
function pcapHeader(snaplen: number, linkType: number, magic = 0xa1b2c3d4): number[] {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, magic, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, linkType, true);
  return [...b];
}

/** A pcap record header (seconds 1, caplen, origlen). */
function record(caplen: number, origlen: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(8, caplen, true);
  dv.setUint32(12, origlen, true);
  return [...b];
}

/** A pcapng block of `type` whose length field says `len` (body `body`). */
function block(type: number, len: number, body: number[]): number[] {
  const b = new Uint8Array(8 + body.length + 4);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, len, true);
  b.set(body, 8);
  dv.setUint32(8 + body.length, len, true);
  return [...b];
}

const SHB_BODY = [
  0x4d,
  0x3c,
  0x2b,
  0x1a,
  1,
  0,
  0,
  0,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
];
const SHB = block(0x0a0d0d0a, 28, SHB_BODY);
const IDB = block(1, 20, [1, 0, 0, 0, 0, 0, 0, 0]); // Ethernet, snaplen 0
/** An Enhanced Packet Block of interface `iface` holding `data` (padded to 4). */
function epb(iface: number, data: number[]): number[] {
  const padded = [...data, ...Array((4 - (data.length % 4)) % 4).fill(0)];
  const head = new Uint8Array(20);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, iface, true);
  dv.setUint32(12, data.length, true);
  dv.setUint32(16, data.length, true);
  return block(6, 32 + padded.length, [...head, ...padded]);
}

const FRAME = [...Array(12).fill(2), 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0]
  .concat([10, 0, 0, 1, 10, 0, 0, 2]);

/** Hand-made malformed captures, by name. */
const HAND_MADE: Record<string, number[]> = {
  "empty": [],
  "a global header cut short": pcapHeader(65535, 1).slice(0, 10),
  "only a global header": pcapHeader(65535, 1),
  "snaplen 0, a record of 34": [...pcapHeader(0, 1), ...record(34, 34), ...FRAME],
  "a record longer than the snaplen": [...pcapHeader(20, 1), ...record(34, 34), ...FRAME],
  "caplen 2^32-1": [...pcapHeader(65535, 1), ...record(0xffffffff, 0xffffffff), ...FRAME],
  "a record past the end of the file": [...pcapHeader(65535, 1), ...record(100, 100), ...FRAME],
  "a record header cut short": [...pcapHeader(65535, 1), ...record(34, 34).slice(0, 9)],
  "caplen above origlen": [...pcapHeader(65535, 1), ...record(34, 10), ...FRAME],
  "link type 9999": [...pcapHeader(65535, 9999), ...record(34, 34), ...FRAME],
  "nanosecond big-endian magic": [
    ...pcapHeader(65535, 1, 0x4d3cb2a1),
    ...record(34, 34),
    ...FRAME,
  ],
  "pcapng block of length 0": [...SHB, ...block(6, 0, [])],
  "pcapng block of length 2^31": [...SHB, ...block(6, 0x80000000, [])],
  "pcapng block length not a multiple of 4": [...SHB, ...block(6, 30, [0, 0, 0, 0, 0, 0])],
  "pcapng packet of an interface never described": [...SHB, ...IDB, ...epb(5, FRAME)],
  "pcapng packet before any interface": [...SHB, ...epb(0, FRAME)],
  "pcapng section header of length 2^32-4": block(0x0a0d0d0a, 0xfffffffc, SHB_BODY),
};

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** Runs `run` on `args`, checking the lines and the exit code as the module doc says. */
async function checkRun(
  command: "decode" | "replay",
  args: string[],
  where: string,
): Promise<number> {
  const out: string[] = [], err: string[] = [];
  const print = (l: string) => void out.push(l);
  const printError = (l: string) => void err.push(l);
  const code = command === "decode"
    ? await runDecode(args, { print, printError })
    : await runReplay(args, { print, printError, handleSignals: false });
  assert.ok(code === 0 || code === 1, `${where}: exit ${code}: ${err.join(" | ")}`);
  for (const l of [...out, ...err]) {
    assert.doesNotMatch(l, CONTROL, `${where}: a control character in ${JSON.stringify(l)}`);
    assert.doesNotMatch(l, /^\s+at /, `${where}: a stack trace`);
  }
  const errors = err.filter((l) => !l.startsWith(`cli.ts ${command}: warning: `));
  if (command === "decode") {
    for (const l of err) assert.ok(l.startsWith("cli.ts decode: "), `${where}: ${l}`);
    assert.equal(code === 1, errors.length > 0, `${where}: exit ${code} with ${err.join(" | ")}`);
  } else if (code === 1) {
    assert.ok(err.some((l) => l.startsWith("cli.ts replay: ")), `${where}: ${err.join(" | ")}`);
  }
  return code;
}

function captures(dir: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...captures(path));
    else if (/\.pcap(ng)?$/.test(e.name)) out.push(Deno.readFileSync(path));
  }
  return out.filter((c) => c.length < 200_000); // small ones: many cases, quickly
}

Deno.test("cli decode and replay: hand-made malformed captures give one-line errors, exit 1 (or 0), never a throw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuzz19_cli_" });
  try {
    let failed = 0;
    for (const [name, bytes] of Object.entries(HAND_MADE)) {
      const path = `${dir}/case.pcap`;
      await Deno.writeFile(path, Uint8Array.from(bytes));
      const code = await checkRun("decode", [path, "-v"], `decode: ${name}`);
      await checkRun("decode", [path, "--filter", "tcp", "--time", "rel"], `decode: ${name}`);
      await checkRun("replay", [path, "--address", "10.0.0.2/24"], `replay: ${name}`);
      failed += code;
    }
    // Most are corrupt; only the odd but readable ones exit 0.
    assert.ok(failed >= 8, `only ${failed} of ${Object.keys(HAND_MADE).length} failed`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`cli decode fuzz: ${CASES} mutated fixture captures (seed ${SEED}) decode or fail in one line`, async () => {
  const r = prng(SEED);
  const seeds = captures(FIXTURE_PCAPS);
  const dir = await Deno.makeTempDir({ prefix: "fuzz19_cli_" });
  try {
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const bytes = mutate(seeds[Math.floor(r() * seeds.length)]!, r);
      const path = `${dir}/case${i}.pcap`;
      await Deno.writeFile(path, bytes);
      const where = `case ${i} (seed ${SEED})`;
      ok += 1 - await checkRun("decode", [path, "-v", "-e"], where);
      if (i % 10 === 0) await checkRun("replay", [path, "--address", "10.0.0.2/24"], where);
      await Deno.remove(path);
    }
    assert.ok(ok > 0 && ok < CASES, `${ok} of ${CASES} read whole`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
