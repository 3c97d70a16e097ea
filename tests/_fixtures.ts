/**
 * Where the repository's capture fixtures live: `tests/fixtures/pcaps/`
 * (see its `INDEX.md` for each file's origin and licence), resolved relative
 * to this module, so tests find them from any working directory and in a
 * fresh clone with nothing beside it.
 *
 * @example
 * ```ts
 * import { FIXTURE_PCAPS, pcapPath } from "./_fixtures.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pcapPath("linux-probes/tun-ping4.pcap"), `${FIXTURE_PCAPS}/linux-probes/tun-ping4.pcap`);
 * assert.ok(Deno.statSync(pcapPath("linux-probes/tun-ping4.pcap")).isFile);
 * ```
 *
 * @module
 */

/** The folder of the capture fixtures, an absolute path without a trailing slash. */
export const FIXTURE_PCAPS: string = decodeURIComponent(
  new URL("./fixtures/pcaps", import.meta.url).pathname,
);

/**
 * The absolute path of the capture fixture `name` (relative to
 * {@linkcode FIXTURE_PCAPS}, e.g. `"linux-probes/tun-ping4.pcap"`).
 *
 * @throws {RangeError} When `name` is absolute or climbs out of the folder.
 */
export function pcapPath(name: string): string {
  if (name.startsWith("/") || name.split("/").includes("..")) {
    throw new RangeError(`Cannot resolve capture fixture "${name}": not a path inside the folder`);
  }
  return `${FIXTURE_PCAPS}/${name}`;
}

/**
 * Every pcap and pcapng fixture (the top folder and `linux-probes/`), as
 * absolute paths, sorted.
 *
 * @throws {Deno.errors.NotFound} When the fixture folder is missing (a broken checkout).
 */
export function fixtureCaptures(): string[] {
  const files: string[] = [];
  for (const dir of [FIXTURE_PCAPS, `${FIXTURE_PCAPS}/linux-probes`]) {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && /\.pcap(ng)?$/.test(e.name)) files.push(`${dir}/${e.name}`);
    }
  }
  return files.sort();
}
