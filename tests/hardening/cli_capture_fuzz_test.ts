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
import { captureFiles, fuzzSettings, mutate, prng } from "./_fuzz.ts";
import { block, concat, epb, idb, pcapFile, shb } from "../../drivers/pcapfile/_testing.ts";

const { cases: CASES, seed: SEED } = fuzzSettings(60);

const FRAME = Uint8Array.from(
  [...Array(12).fill(2), 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0]
    .concat([10, 0, 0, 1, 10, 0, 0, 2]),
);

/** A little-endian pcap of Ethernet (or `linkType`) records. */
function pcap(
  records: readonly { caplen?: number; originalLength?: number }[],
  o: { snaplen?: number; linkType?: number; le?: boolean; nano?: boolean } = {},
): Uint8Array {
  return pcapFile(
    {
      le: o.le ?? true,
      nano: o.nano ?? false,
      linkType: o.linkType ?? 1,
      snaplen: o.snaplen ?? 65535,
    },
    records.map((r) => ({ seconds: 1, fraction: 0, data: FRAME, ...r })),
  );
}

const SHB = shb(true);
const IDB = idb(true, 1);
const packet = (interfaceId: number) => epb(true, { interfaceId, high: 0, low: 1, data: FRAME });
/** A pcapng block of `type` whose length field says `length`. */
const lying = (type: number, length: number) =>
  block(true, type, new Uint8Array(8), { length, trailer: length });

/** Hand-made malformed captures, by name. */
const HAND_MADE: Record<string, Uint8Array> = {
  "empty": new Uint8Array(0),
  "a global header cut short": pcap([]).subarray(0, 10),
  "only a global header": pcap([]),
  "snaplen 0, a record of 34": pcap([{}], { snaplen: 0 }),
  "a record longer than the snaplen": pcap([{}], { snaplen: 20 }),
  "caplen 2^32-1": pcap([{ caplen: 0xffffffff, originalLength: 0xffffffff }]),
  "a record past the end of the file": pcap([{ caplen: 100 }]),
  "a record header cut short": pcap([{}]).subarray(0, 24 + 9),
  "caplen above origlen": pcap([{ originalLength: 10 }]),
  "link type 9999": pcap([{}], { linkType: 9999 }),
  "nanosecond big-endian magic": pcap([{}], { le: false, nano: true }),
  "pcapng block of length 0": concat(SHB, lying(6, 0)),
  "pcapng block of length 2^31": concat(SHB, lying(6, 0x80000000)),
  "pcapng block length not a multiple of 4": concat(SHB, lying(6, 18)),
  "pcapng packet of an interface never described": concat(SHB, IDB, packet(5)),
  "pcapng packet before any interface": concat(SHB, packet(0)),
  "pcapng section header of length 2^32-4": lying(0x0a0d0d0a, 0xfffffffc),
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

Deno.test("cli decode and replay: hand-made malformed captures give one-line errors, exit 1 (or 0), never a throw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuzz19_cli_" });
  try {
    let failed = 0;
    for (const [name, bytes] of Object.entries(HAND_MADE)) {
      const path = `${dir}/case.pcap`;
      await Deno.writeFile(path, bytes);
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
  // Small ones: many cases, quickly.
  const seeds = captureFiles(FIXTURE_PCAPS).filter((c) => c.length < 200_000);
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
