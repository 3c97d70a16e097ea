/**
 * The capture fixtures on disk: whether one exists, the corpus, and the records of one.
 *
 * @module
 */
import { type CaptureRecord, parseCapture } from "../drivers/pcapfile/mod.ts";
import { FIXTURE_PCAPS, fixtureCaptures, pcapPath } from "./_fixtures.ts";

/**
 * Where the reference captures live: the repository's fixture folder
 * `tests/fixtures/pcaps` (see {@linkcode FIXTURE_PCAPS}; kept under this name
 * for the tests that import it).
 */
export const SHARED_PCAPS: string = FIXTURE_PCAPS;

/**
 * Whether the capture fixture `name` (relative to {@linkcode SHARED_PCAPS})
 * exists. The fixtures are part of the repository, so tests should not
 * skip on it: a missing file is a broken checkout and must fail.
 *
 * @example
 * ```ts
 * import { hasPcap } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hasPcap("no/such/file.pcap"), false);
 * assert.equal(hasPcap("linux-probes/tun-ping4.pcap"), true);
 * ```
 */
export function hasPcap(name: string): boolean {
  try {
    return Deno.statSync(pcapPath(name)).isFile;
  } catch {
    return false;
  }
}

/**
 * The corpus: paths of every pcap and pcapng file in {@linkcode SHARED_PCAPS}
 * and its `linux-probes/`, sorted.
 *
 * @throws {Deno.errors.NotFound} When the fixture folder is missing.
 * @example
 * ```ts
 * import { SHARED_PCAPS, sharedCaptures } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const files = sharedCaptures();
 * assert.equal(files.length, 44);
 * assert.ok(files.every((f) => f.startsWith(`${SHARED_PCAPS}/`) && /\.pcap(ng)?$/.test(f)));
 * assert.deepEqual(files, [...files].sort());
 * ```
 */
export function sharedCaptures(): string[] {
  return fixtureCaptures();
}

/**
 * The records of the capture fixture `name` (pcap or pcapng).
 *
 * @throws The capture's format error, if it is corrupt.
 * @example
 * ```ts
 * import { pcapRecords } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pcapRecords("arp_gratuitous.pcapng").length, 1);
 * ```
 */
export function pcapRecords(name: string): CaptureRecord[] {
  const r = parseCapture(Deno.readFileSync(pcapPath(name)));
  if (r.error !== null) throw r.error;
  return r.records;
}
