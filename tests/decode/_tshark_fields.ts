/**
 * Field extraction with `tshark -T fields`, for tests that compare our
 * decoders and replay output with Wireshark's. When tshark is not installed
 * it throws under CI and elsewhere returns `skipped` (reason printed once),
 * like `tests/_tshark.ts`.
 *
 * @example
 * ```ts
 * import { tsharkFields } from "./_tshark_fields.ts";
 * import assert from "node:assert/strict";
 * const r = await tsharkFields(new URL("../fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname, ["frame.number"]);
 * if (r.skipped === undefined) assert.deepEqual(r.rows.map((row) => row[0]), ["1", "2", "3", "4", "5"]);
 * ```
 *
 * @module
 */
import { runTshark, tsharkUnavailable } from "../_tshark.ts";
import { cannotCheck } from "../_require.ts";

/** Rows of field values (one per frame, in file order), or why tshark did not run. */
export interface TsharkFields {
  /** Why tshark did not run, when it did not. */
  readonly skipped?: string;
  /** One row per frame; each value as tshark prints it (occurrences joined by ","). */
  readonly rows: readonly string[][];
}

/**
 * Runs `tshark -r capture -n -T fields -e f1 -e f2 … -E separator=/t` with
 * IPv4/IPv6 reassembly and TCP desegmentation off (each frame decoded on its
 * own, as our decoders do), plus `extra` arguments.
 *
 * @throws {Error} When tshark fails to read the capture.
 */
export async function tsharkFields(
  capture: string | Uint8Array,
  fields: readonly string[],
  extra: readonly string[] = [],
): Promise<TsharkFields> {
  const why = await tsharkUnavailable();
  if (why !== undefined) {
    cannotCheck("fields with tshark", why); // throws under CI
    return { skipped: why, rows: [] };
  }
  const text = await runTshark(capture, [
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    ...extra,
    "-T",
    "fields",
    ...fields.flatMap((f) => ["-e", f]),
    "-E",
    "separator=/t",
  ]);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return { rows: lines.map((l) => l.split("\t")) };
}
