/**
 * The frames of a capture fixture, for unit tests that check header
 * accessors against known bytes: {@linkcode captureFrames}.
 *
 * @example
 * ```ts
 * import { captureFrames } from "./_frames.ts";
 * import assert from "node:assert/strict";
 * const frames = captureFrames("dns_query_response.pcapng");
 * assert.equal(frames.length, 2);
 * assert.equal(frames[0]![12], 0x08); // EtherType 0x0800
 * ```
 *
 * @module
 */
import { parseCapture } from "../drivers/pcapfile/mod.ts";
import { pcapPath } from "./_fixtures.ts";

/**
 * The captured bytes of every frame of the fixture `name` (relative to the
 * fixture folder), in order.
 *
 * @throws {Error} When the file cannot be read or parsed to its end.
 */
export function captureFrames(name: string): Uint8Array[] {
  const { records, error } = parseCapture(Deno.readFileSync(pcapPath(name)));
  if (error !== null) throw new Error(`Cannot read capture fixture ${name}: ${error.message}`);
  return records.map((r) => r.data);
}
