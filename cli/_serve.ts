/**
 * `--serve` words: a service's registry name, or `NAME:PORT` to run it on
 * another port (`--serve iperf3,iperf3:5202` runs two iperf3 servers, as
 * `iperf3 -s -p 5202` next to `iperf3 -s`). A service on a port other than
 * its default is loaded as its own plugin named `NAME-PORT`, so its counters
 * are `NAME-PORT.*` and it runs beside the default one.
 *
 * A word may also name a module of one's own, by path (`./my_service.ts`,
 * relative to the working directory) or URL: a module exporting, as
 * `default` or `plugin`, a plugin of layer "service" (what `defineService`
 * returns); `./my_service.ts:7100` moves it as `NAME:PORT` does.
 *
 * @module
 */
import {
  checkInputPath,
  type PluginLike,
  pluginOf,
  unknownServices,
  UsageError,
} from "./_common.ts";
import { looksLikePath, resolveManifest } from "../stack/loader.ts";

/** What a registry entry must have for `--serve` (cli/up.ts's `UpService`). */
interface ServiceLike {
  readonly plugins?: readonly PluginLike[];
  readonly start?: unknown;
}

/** One `--serve` word, split. */
export interface ServeWord {
  /** The registry name. */
  readonly name: string;
  /** The port after `:`, or undefined for the service's own. */
  readonly port: number | undefined;
}

/**
 * Splits `NAME[:PORT]`; the port must be a whole number in 1..65535.
 *
 * @example
 * ```ts
 * import { parseServeWord } from "./_serve.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseServeWord("iperf3:5202"), { name: "iperf3", port: 5202 });
 * assert.deepEqual(parseServeWord("echo"), { name: "echo", port: undefined });
 * assert.throws(() => parseServeWord("echo:0"), RangeError);
 * assert.deepEqual(parseServeWord("./rev.ts:7100"), { name: "./rev.ts", port: 7100 });
 * assert.deepEqual(parseServeWord("https://h:8443/rev.ts"), {
 *   name: "https://h:8443/rev.ts",
 *   port: undefined,
 * });
 * ```
 *
 * @throws {RangeError} When the port is not a port.
 */
export function parseServeWord(word: string): ServeWord {
  const colon = word.lastIndexOf(":");
  // A module's URL has colons of its own (`https://host:8443/x.ts`): a port only after its path.
  if (colon < 0 || (looksLikePath(word) && colon < word.lastIndexOf("/"))) {
    return { name: word, port: undefined };
  }
  const text = word.slice(colon + 1);
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    throw new RangeError(`--serve ${word}: the port "${text}" is not a port (1..65535)`);
  }
  return { name: word.slice(0, colon), port };
}

/** The plugin of `entry` that listens on a port (declares a `port` option), if exactly one. */
function portPlugin(word: string, entry: ServiceLike): { index: number; port: number } {
  const plugins = entry.plugins ?? [];
  const withPort = plugins.flatMap((p, index) => {
    const spec = pluginOf(p).manifest.options?.port;
    return spec === undefined ? [] : [{ index, port: Number(spec.default) }];
  });
  if (withPort.length !== 1) {
    throw new RangeError(`--serve ${word}: this service takes no port`);
  }
  return withPort[0]!;
}

/**
 * The usage error for a `--serve` list: unknown names, bad ports, a port
 * on a service that takes none, or one service on one port twice.
 * Undefined when the list is good.
 *
 * @example
 * ```ts
 * import { serveProblem } from "./_serve.ts";
 * import { SERVICES } from "../plugins/services/mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(serveProblem(["iperf3", "iperf3:5202"], SERVICES), undefined);
 * assert.equal(
 *   serveProblem(["iperf3", "iperf3:5201"], SERVICES),
 *   "--serve iperf3:5201: iperf3 already runs on port 5201",
 * );
 * ```
 */
export function serveProblem(
  words: readonly string[],
  registry: Readonly<Record<string, ServiceLike>>,
): string | undefined {
  try {
    const split = words.map((w) => ({ word: w, ...parseServeWord(w) }));
    const unknown = unknownServices(split.map((s) => s.name), registry);
    if (unknown !== undefined) return unknown;
    // Where each word listens; a name given twice plainly is the same service (as before).
    const ports = new Map<string, string>();
    for (const s of split) {
      const entry = registry[s.name]!;
      const listening = (entry.plugins ?? []).filter((p) => pluginOf(p).manifest.options?.port);
      if (s.port === undefined && listening.length !== 1) continue;
      const own = portPlugin(s.word, entry).port;
      const port = s.port ?? own;
      const key = `${s.name}:${port}`;
      const before = ports.get(key);
      if (before !== undefined && (before !== s.word || s.port !== undefined)) {
        return `--serve ${s.word}: ${s.name} already runs on port ${port}`;
      }
      ports.set(key, s.word);
    }
  } catch (e) {
    if (e instanceof RangeError) return e.message;
    throw e;
  }
  return undefined;
}

/**
 * The registry entries a good `--serve` list (see {@linkcode serveProblem})
 * chooses: `NAME:PORT` off the default port gives the entry with its
 * listening plugin renamed `NAME-PORT` and its `port` option set.
 *
 * @example
 * ```ts
 * import { chosenServices } from "./_serve.ts";
 * import { SERVICES } from "../plugins/services/mod.ts";
 * import assert from "node:assert/strict";
 * const [plain, moved] = chosenServices(["iperf3", "iperf3:5202"], SERVICES);
 * assert.equal(plain, SERVICES.iperf3);
 * const entry = moved!.plugins![0]!;
 * assert.ok("plugin" in entry);
 * assert.equal(entry.plugin.manifest.name, "iperf3-5202");
 * assert.deepEqual(entry.options, { port: 5202 });
 * ```
 */
export function chosenServices<T extends ServiceLike>(
  words: readonly string[],
  registry: Readonly<Record<string, T>>,
): (Omit<T, "plugins"> & { readonly plugins?: readonly PluginLike[] })[] {
  return words.map((w) => {
    const { name, port } = parseServeWord(w);
    const entry = registry[name]!;
    if (port === undefined) return entry;
    const at = portPlugin(w, entry);
    if (port === at.port) return entry;
    const plugins = [...entry.plugins!];
    const old = plugins[at.index]!;
    const plugin = pluginOf(old);
    plugins[at.index] = {
      plugin: {
        ...plugin,
        manifest: { ...plugin.manifest, name: `${plugin.manifest.name}-${port}` },
      },
      options: { ...("plugin" in old ? old.options : {}), port },
    };
    return { ...entry, plugins };
  });
}

/**
 * `registry` with the services of the `--serve` words that name modules
 * (paths or URLs, see the module doc) added under their names as written,
 * each the module's plugin with its manifest's description. A path is
 * checked before anything is imported.
 *
 * @example
 * ```ts
 * import { withServiceModules } from "./_serve.ts";
 * import assert from "node:assert/strict";
 * const path = new URL("../plugins/reverse_lines/mod.ts", import.meta.url).pathname;
 * const registry = await withServiceModules([`${path}:7100`], {});
 * assert.equal(registry[path]!.plugins![0]!, (await import(path)).default);
 * ```
 *
 * @throws {UsageError} When a word's port is not a port, its file is missing,
 * or its plugin is not of layer "service".
 * @throws {PluginLoadError} When the module cannot be imported or exports no plugin.
 */
export async function withServiceModules<T extends ServiceLike>(
  words: readonly string[],
  registry: Readonly<Record<string, T>>,
): Promise<Readonly<Record<string, T | ServiceEntryLike>>> {
  const out: Record<string, T | ServiceEntryLike> = { ...registry };
  for (const word of words) {
    let name: string;
    try {
      name = parseServeWord(word).name;
    } catch (e) {
      throw e instanceof RangeError ? new UsageError(e.message) : e;
    }
    if (!looksLikePath(name) || Object.hasOwn(out, name)) continue;
    if (name.startsWith(".") || name.startsWith("/")) checkInputPath("--serve", name);
    const [entry] = await resolveManifest({ plugins: [name] }, { builtins: {} });
    const plugin = entry!.plugin;
    if (plugin.manifest.layer !== "service") {
      throw new UsageError(
        `--serve ${name}: its plugin ${plugin.manifest.name} is of layer ` +
          `"${plugin.manifest.layer}", not "service" (load other plugins with --plugin)`,
      );
    }
    out[name] = { description: plugin.manifest.description, plugins: [plugin] };
  }
  return out;
}

/** A registry entry made for a module `--serve` names. */
interface ServiceEntryLike {
  readonly description: string;
  readonly plugins: readonly PluginLike[];
}
