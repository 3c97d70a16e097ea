/**
 * Pieces the commands share: building a stack's plugin list from the
 * built-ins, a stack manifest, `--plugin` flags and the chosen services;
 * checking `--serve` against the service registry; writing output lines.
 *
 * @module
 */
import type { PluginEntry } from "../stack/boot.ts";
import type { LogRecord } from "../stack/log.ts";
import type { ProtocolPlugin } from "../stack/manifest.ts";
import { readManifestFile, resolveManifest } from "../stack/loader.ts";
import { BUILTIN_PLUGINS, DEFAULT_PLUGINS } from "../stack/protocols/mod.ts";

/** A plugin as a stack takes it. */
export type PluginLike = ProtocolPlugin | PluginEntry;

/**
 * The plugins of a stack: the defaults (or those of `manifest`, a JSON stack
 * manifest file), then `plugins` (paths or URLs), then `extra` (a service's
 * own plugins), each name once, first come first kept.
 */
export async function pluginList(
  source: { readonly manifest?: string | undefined; readonly plugins: readonly string[] },
  extra: readonly PluginLike[] = [],
): Promise<PluginLike[]> {
  let base: PluginLike[] = [...DEFAULT_PLUGINS];
  if (source.manifest !== undefined) {
    const read = await readManifestFile(source.manifest);
    base = await resolveManifest(read.manifest, { builtins: BUILTIN_PLUGINS, base: read.base });
  }
  const added = source.plugins.length === 0
    ? []
    : await resolveManifest({ plugins: source.plugins }, { builtins: BUILTIN_PLUGINS });
  const out: PluginLike[] = [];
  const seen = new Set<string>();
  for (const p of [...base, ...added, ...extra]) {
    const name = ("plugin" in p ? p.plugin : p).manifest.name;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(p);
  }
  return out;
}

/**
 * {@linkcode pluginList} with the plugins of the chosen `services` last.
 *
 * @example
 * ```ts
 * import { servicePluginList } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const list = await servicePluginList({ plugins: [] }, [{}]);
 * assert.ok(list.length > 0);
 * ```
 */
export function servicePluginList(
  source: { readonly manifest?: string | undefined; readonly plugins: readonly string[] },
  services: readonly { readonly plugins?: readonly PluginLike[] }[],
): Promise<PluginLike[]> {
  return pluginList(source, services.flatMap((s) => s.plugins ?? []));
}

/**
 * A command's `--help` text, followed by the services `registry` offers.
 *
 * @example
 * ```ts
 * import { helpWithServices } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(helpWithServices("Usage: x", { echo: {} }), "Usage: x\nServices available: echo");
 * assert.equal(helpWithServices("Usage: x", {}), "Usage: x");
 * ```
 */
export function helpWithServices(
  help: string,
  registry: Readonly<Record<string, unknown>>,
): string {
  const names = Object.keys(registry);
  return help + (names.length === 0 ? "" : `\nServices available: ${names.join(", ")}`);
}

/**
 * The usage error for the `--serve` names `registry` does not have, or
 * undefined when it has them all.
 *
 * @example
 * ```ts
 * import { unknownServices } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unknownServices(["echo"], { echo: {} }), undefined);
 * assert.equal(
 *   unknownServices(["echo", "gopher"], { echo: {} }),
 *   "error: unknown service gopher for --serve (available: echo)",
 * );
 * ```
 */
export function unknownServices(
  serve: readonly string[],
  registry: Readonly<Record<string, unknown>>,
): string | undefined {
  const unknown = serve.filter((s) => !Object.hasOwn(registry, s));
  if (unknown.length === 0) return undefined;
  const known = Object.keys(registry);
  return `error: unknown service${unknown.length > 1 ? "s" : ""} ${
    unknown.join(", ")
  } for --serve ` +
    `(available: ${known.length === 0 ? "none yet" : known.join(", ")})`;
}

/**
 * A stack log sink printing each record as `seconds level source: message`.
 *
 * @example
 * ```ts
 * import { logLines } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * logLines((l) => lines.push(l))({ time: 1_500_000, level: "warn", source: "arp", message: "hi" });
 * assert.deepEqual(lines, ["1.500000 warn arp: hi"]);
 * ```
 */
export function logLines(print: (line: string) => void): (r: LogRecord) => void {
  return (r) => print(`${(r.time / 1e6).toFixed(6)} ${r.level} ${r.source}: ${r.message}`);
}

const encoder = new TextEncoder();

/**
 * Writes `line` and a newline to `file` (`Deno.stdout`, `Deno.stderr`),
 * all of it.
 *
 * @example
 * ```ts
 * import { writeLine } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const got: number[] = [];
 * writeLine({ writeSync: (p) => (got.push(...p.subarray(0, 2)), Math.min(2, p.length)) }, "ab");
 * assert.deepEqual(got, [97, 98, 10]);
 * ```
 */
export function writeLine(file: { writeSync(p: Uint8Array): number }, line: string): void {
  const bytes = encoder.encode(line + "\n");
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
}
