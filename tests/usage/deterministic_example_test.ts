/**
 * The deterministic-test recipe of `docs/TESTING.md`, as a user would check
 * it: `examples/deterministic_transfer.ts` run as a program in two fresh
 * processes with the same seed prints the same capture hash (and the same
 * timing and retransmissions), another seed gives another capture, every
 * byte arrives whatever the faults, and tshark reads the capture cleanly.
 */
import assert from "node:assert/strict";
import { LOSSY, sha256Hex, uploadOverLossyLink } from "../../examples/deterministic_transfer.ts";
import { assertTsharkClean, tsharkUnavailable } from "../_tshark.ts";
import { cannotCheck } from "../_require.ts";

const EXAMPLE = new URL("../../examples/deterministic_transfer.ts", import.meta.url).pathname;

/** Runs the example as a program (no permissions) and returns its one line. */
async function runExample(seed: number): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", EXAMPLE, String(seed)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).output();
  const d = new TextDecoder();
  assert.equal(r.code, 0, d.decode(r.stderr));
  return d.decode(r.stdout).trim();
}

Deno.test("the deterministic example: same seed, same capture hash in two processes; another seed, another", async () => {
  const [first, second, other] = [await runExample(7), await runExample(7), await runExample(8)];
  assert.match(
    first,
    /^seed 7: 65536 bytes in \d+ µs, \d+ retransmissions, capture sha256 [0-9a-f]{64}$/,
  );
  assert.equal(second, first);
  const hash = (line: string) => line.slice(line.lastIndexOf(" ") + 1);
  assert.notEqual(hash(other), hash(first));
  // The program's hash is the in-process one: the capture does not depend on the process.
  assert.equal(hash(first), await sha256Hex((await uploadOverLossyLink(7)).capture));
});

Deno.test("the deterministic example delivers every byte under its faults, and the faults happen", async () => {
  let retransmissions = 0;
  for (const seed of [1, 2, 3, 4]) {
    const r = await uploadOverLossyLink(seed, LOSSY, 32 * 1024);
    assert.deepEqual(r.received, r.sent, `seed ${seed}`);
    retransmissions += r.retransmissions;
  }
  assert.ok(retransmissions > 0, "3% loss made TCP send something again");
  const clean = await uploadOverLossyLink(1, { delay: 1_000 }, 32 * 1024);
  assert.equal(clean.retransmissions, 0, "no faults, no retransmission");
});

Deno.test("the deterministic example's capture opens in tshark without problems", async () => {
  const why = await tsharkUnavailable();
  if (why !== undefined) return cannotCheck("the example's capture with tshark", why);
  const { capture } = await uploadOverLossyLink(7);
  await assertTsharkClean(capture, {
    // Loss and duplication: TCP's retransmissions, D-SACKs and duplicate ACKs are the point.
    allowWarnings: [/^D-SACK Sequence$/, /^Previous segment/, /^ACKed segment/, /^Duplicate ACK/],
  });
});
