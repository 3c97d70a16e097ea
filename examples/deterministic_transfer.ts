/**
 * A deterministic test of networked code, to copy: a TCP upload across a
 * link that loses, delays, jitters, reorders and duplicates frames, recorded
 * by a capture tap, on virtual time. The same seed gives the same capture,
 * byte for byte, in any process on any machine; another seed gives other
 * faults (and other bytes) but the same data delivered.
 *
 * What makes it reproducible (see `docs/TESTING.md`):
 *
 * - every random choice comes from a seed: the network's (the faults) and
 *   each stack's (ports, sequence numbers, timers' jitter);
 * - every wait is on the network's virtual clock (`net.run`, `net.at`),
 *   never `setTimeout` or `Date.now()`;
 * - the capture's timestamps are virtual time too (`epochOffset` 0).
 *
 * Run as a program it prints the capture's SHA-256 for a seed, so two
 * processes can be compared: `deno run examples/deterministic_transfer.ts 7`
 * (no permissions; `--out FILE` needs `--allow-write` and writes the pcapng).
 * `tests/usage/deterministic_example_test.ts` does exactly that.
 *
 * @example
 * ```ts
 * import { sha256Hex, uploadOverLossyLink } from "./deterministic_transfer.ts";
 * import assert from "node:assert/strict";
 * const first = await uploadOverLossyLink(7);
 * const again = await uploadOverLossyLink(7);
 * assert.deepEqual(first.received, first.sent); // every byte arrived, in order
 * assert.equal(await sha256Hex(first.capture), await sha256Hex(again.capture));
 * assert.ok(first.retransmissions > 0); // the faults did happen
 * ```
 *
 * @module
 */
import {
  CaptureTap,
  createStack,
  type Faults,
  MILLISECOND,
  PcapngWriter,
  VirtualNetwork,
} from "../mod.ts";

/** The faults of each direction of the link unless the caller gives others. */
export const LOSSY: Faults = {
  delay: 10 * MILLISECOND, // one way
  jitter: 2 * MILLISECOND, // ± on each frame's delay; frames keep their order…
  reorder: 0.02, // …unless held back: 2% of frames, by `reorderDelay` (default 1 ms)
  loss: 0.03,
  duplicate: 0.01,
};

/** What {@linkcode uploadOverLossyLink} observed. */
export interface UploadResult {
  /** The bytes the client wrote. */
  readonly sent: Uint8Array;
  /** The bytes the server read, up to the client's FIN. */
  readonly received: Uint8Array;
  /** Every frame on the client's side of the link, as pcapng (virtual timestamps). */
  readonly capture: Uint8Array;
  /** TCP segments the client sent again (its `tcp.retrans_segs` counter). */
  readonly retransmissions: number;
  /** Virtual µs from the start to the server's end of stream. */
  readonly elapsed: number;
}

/**
 * Uploads `size` bytes from 10.0.0.1 to 10.0.0.2:9000 across one link with
 * `faults` on both directions; everything is decided by `seed`.
 *
 * @param seed Seeds the network (faults) and, derived from it, both stacks.
 * @param faults The link's faults (default {@linkcode LOSSY}).
 * @param size How many bytes to upload (default 64 KiB).
 * @returns What was sent, received and captured.
 * @throws {Deno.errors.TimedOut} If the connection cannot be made (100% loss, say).
 *
 * @example
 * ```ts
 * import { uploadOverLossyLink } from "./deterministic_transfer.ts";
 * import assert from "node:assert/strict";
 * const r = await uploadOverLossyLink(1, { delay: 1_000 }, 1000); // no loss
 * assert.equal(r.received.length, 1000);
 * assert.equal(r.retransmissions, 0);
 * ```
 */
export async function uploadOverLossyLink(
  seed: number,
  faults: Faults = LOSSY,
  size = 64 * 1024,
): Promise<UploadResult> {
  const net = new VirtualNetwork({ seed });
  const link = net.link({ faults });
  const client = net.addNode(createStack({ clock: net.clock, seed: seed * 2 + 1 }));
  const server = net.addNode(createStack({ clock: net.clock, seed: seed * 2 + 2 }));
  // In memory (`sink` writes to a file instead). The tap records as interface 0, which the
  // writer must describe; a frame the writer then fails to take is counted (`tap.errors`).
  const writer = new PcapngWriter({ interfaces: [{ linkType: link.a.linkType, name: "eth0" }] });
  const tap = new CaptureTap(link.a, { writer });
  client.addInterface({
    driver: tap,
    addresses: ["10.0.0.1/24"],
  });
  server.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });

  // The payload is a function of the size alone (random data would come from net.rng).
  const sent = new Uint8Array(size).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
  const listener = server.listen({ port: 9000 });
  const started = net.now();
  const received = await net.run(async () => {
    const serving = (async () => {
      const conn = await listener.accept();
      const bytes = new Uint8Array(await new Response(conn.readable).arrayBuffer());
      return bytes; // the stream closes the connection at the end
    })();
    const conn = await client.connect({ hostname: "10.0.0.2", port: 9000 });
    await conn.write(sent);
    await conn.closeWrite(); // FIN: the server's stream ends
    const bytes = await serving;
    conn.close();
    return bytes;
  });
  if (tap.errors > 0) throw new Error(`${tap.errors} frames could not be captured`);
  const elapsed = net.now() - started;
  const retransmissions = client.counters.snapshot()["tcp.retrans_segs"] ?? 0;
  listener.close();
  client.close();
  server.close();
  net.close();
  return { sent, received, capture: writer.bytes(), retransmissions, elapsed };
}

/**
 * The SHA-256 of `bytes` as lowercase hex.
 *
 * @param bytes What to hash.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./deterministic_transfer.ts";
 * import assert from "node:assert/strict";
 * assert.equal((await sha256Hex(new Uint8Array())).slice(0, 8), "e3b0c442");
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // slice(): digest() takes an ArrayBuffer-backed view, and a capture's may be shared.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const [seedText, flag, out] = Deno.args;
  const seed = Number(seedText ?? 1);
  if (!Number.isSafeInteger(seed) || (flag !== undefined && (flag !== "--out" || !out))) {
    // deno-lint-ignore no-console -- a program's usage line
    console.error("usage: deno run [--allow-write] deterministic_transfer.ts [SEED] [--out FILE]");
    Deno.exit(2);
  }
  const r = await uploadOverLossyLink(seed);
  if (out !== undefined) await Deno.writeFile(out, r.capture);
  // deno-lint-ignore no-console -- a program's output
  console.log(
    `seed ${seed}: ${r.received.length} bytes in ${r.elapsed} µs, ` +
      `${r.retransmissions} retransmissions, capture sha256 ${await sha256Hex(r.capture)}`,
  );
}
