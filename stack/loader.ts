/**
 * Stack manifests: a stack described as data (a TS object or a JSON file)
 * naming its plugins by built-in name, file path or URL. Paths and URLs are
 * loaded with dynamic `import()`; the module must export the plugin as
 * `default` or as `plugin`.
 *
 * A plugin that cannot be loaded throws {@linkcode PluginLoadError}, whose
 * one-line message names the plugin as written and what went wrong, with a
 * stable `reason`: `unknown_name`, `not_found`, `import_failed`,
 * `no_export` or `bad_manifest`.
 *
 * @module
 */
import type { PluginEntry } from "./boot.ts";
import { PluginManifestError, StackError } from "./errors.ts";
import { type ProtocolPlugin, validateManifest } from "./manifest.ts";

/** Why {@linkcode PluginLoadError} was thrown. */
export type PluginLoadReason =
  | "unknown_name"
  | "not_found"
  | "import_failed"
  | "no_export"
  | "bad_manifest";

/**
 * A plugin of a stack manifest could not be loaded. The message is one line:
 * `Cannot load plugin "<as written>": <what went wrong>`.
 *
 * @example
 * ```ts
 * import { PluginLoadError } from "./loader.ts";
 * import assert from "node:assert/strict";
 * const e = new PluginLoadError("./x.ts", "not_found", "no such file /tmp/x.ts");
 * assert.equal(e.message, 'Cannot load plugin "./x.ts": no such file /tmp/x.ts');
 * assert.equal(e.code, "EPLUGINLOAD");
 * ```
 */
export class PluginLoadError extends StackError {
  /** The plugin as the manifest names it (built-in name, path or URL). */
  readonly plugin: string;
  /** What went wrong. */
  readonly reason: PluginLoadReason;
  /** Creates the error; `detail` is made one line. */
  constructor(plugin: string, reason: PluginLoadReason, detail: string, options?: ErrorOptions) {
    super(
      "EPLUGINLOAD",
      `Cannot load plugin "${plugin}": ${detail.replace(/\s*\n\s*/g, "; ")}`,
      options,
    );
    this.plugin = plugin;
    this.reason = reason;
  }
}

/** One plugin in a stack manifest: a name/path/URL, or one with options. */
export type PluginRef = string | {
  /** Built-in name, file path (relative to the manifest) or URL. */
  readonly use: string;
  /** Option values for the plugin. */
  readonly options?: Readonly<Record<string, number | string | boolean>>;
};

/** A stack described as data. */
export interface StackManifest {
  /** A name for logs. */
  readonly name?: string;
  /** Plugins in order. */
  readonly plugins: readonly PluginRef[];
}

function isPlugin(v: unknown): v is ProtocolPlugin {
  return typeof v === "object" && v !== null && "manifest" in v && "setup" in v;
}

/**
 * The `file:` URL of an absolute path. Unlike string concatenation, a folder
 * named `a#b`, `50%` or `my dir` still gives the right URL.
 */
function fileUrl(path: string): URL {
  const url = new URL("file:///");
  url.pathname = path.replaceAll("%", "%25").replaceAll("\\", "%5C");
  return url;
}

/**
 * Whether a plugin reference names a module (a relative or absolute path, or
 * a URL) rather than a built-in plugin: it starts with `.` or `/`, or with a
 * URL scheme (`https:`, `file:`).
 *
 * @example
 * ```ts
 * import { looksLikePath } from "./loader.ts";
 * import assert from "node:assert/strict";
 * assert.ok(looksLikePath("./plugins/reverse_lines/mod.ts"));
 * assert.ok(looksLikePath("https://example.com/svc/mod.ts"));
 * assert.ok(!looksLikePath("echo"));
 * ```
 */
export function looksLikePath(s: string): boolean {
  return s.startsWith(".") || s.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(s);
}

/**
 * Resolves every entry of `manifest` to a plugin: built-ins by name from
 * `builtins`, others by `import()` relative to `base`.
 *
 * @throws {PluginManifestError} when the manifest itself is malformed.
 * @throws {PluginLoadError} when a plugin is unknown, missing, fails to
 * import, exports no plugin or has an invalid manifest.
 */
export async function resolveManifest(
  manifest: StackManifest,
  options: { builtins: Readonly<Record<string, ProtocolPlugin>>; base?: URL | string },
): Promise<PluginEntry[]> {
  if (!manifest || !Array.isArray(manifest.plugins)) {
    throw new PluginManifestError("(stack)", "a stack manifest needs a plugins array");
  }
  const base = options.base ?? fileUrl(`${Deno.cwd()}/`);
  const out: PluginEntry[] = [];
  for (const ref of manifest.plugins) {
    const use = typeof ref === "string" ? ref : ref?.use;
    if (typeof use !== "string") {
      throw new PluginManifestError("(stack)", "each plugin entry is a string or { use, options }");
    }
    // Own keys only: "constructor" or "toString" are not plugins.
    let plugin: ProtocolPlugin | undefined = Object.hasOwn(options.builtins, use)
      ? options.builtins[use]
      : undefined;
    if (plugin === undefined) {
      if (!looksLikePath(use)) {
        const hint = /[/\\]|\.[jt]sx?$/.test(use) ? ` (for a file, write ./${use})` : "";
        throw new PluginLoadError(
          use,
          "unknown_name",
          `no built-in plugin has this name${hint} (built-ins: ${
            Object.keys(options.builtins).join(", ")
          })`,
        );
      }
      plugin = await importPlugin(use, new URL(use, base));
    }
    const opts = typeof ref === "string" ? undefined : ref.options;
    out.push(opts ? { plugin, options: opts } : { plugin });
  }
  return out;
}

/** Imports the plugin module at `url` (written `use` in the manifest). */
async function importPlugin(use: string, url: URL): Promise<ProtocolPlugin> {
  if (url.protocol === "file:") {
    const path = decodeURIComponent(url.pathname);
    try {
      await Deno.stat(url);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new PluginLoadError(use, "not_found", `no such file ${path}`);
      }
      // No permission to stat: let import() say what it can.
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(url.href);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const notFound = /^Module not found/.test(message);
    throw new PluginLoadError(
      use,
      notFound ? "not_found" : "import_failed",
      notFound ? message.split("\n")[0]! : `importing ${url.href} threw: ${message.split("\n")[0]}`,
      { cause: err },
    );
  }
  const found = mod.default ?? mod.plugin;
  if (!isPlugin(found)) {
    const names = Object.keys(mod);
    throw new PluginLoadError(
      use,
      "no_export",
      `${url.href} exports no plugin as default or "plugin" (its exports: ${
        names.length === 0 ? "none" : names.join(", ")
      })`,
    );
  }
  try {
    validateManifest(found.manifest);
  } catch (err) {
    throw new PluginLoadError(use, "bad_manifest", `bad manifest: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return found;
}

/**
 * Reads a JSON stack manifest from `path`; plugin paths in it are relative to
 * the file.
 */
export async function readManifestFile(
  path: string,
): Promise<{ manifest: StackManifest; base: URL }> {
  const text = await Deno.readTextFile(path);
  return parseManifestText(text, path, path.startsWith("/") ? path : `${Deno.cwd()}/${path}`);
}

/**
 * A JSON stack manifest's `text`, read from `source` (a file name, or
 * "standard input", for the error), with plugin paths relative to the
 * absolute `path` (a file, or a directory ending in `/`).
 *
 * @throws {PluginManifestError} When the text is not JSON.
 *
 * @example
 * ```ts
 * import { parseManifestText } from "./loader.ts";
 * import assert from "node:assert/strict";
 * const { manifest, base } = parseManifestText('{"plugins":["ipv4"]}', "standard input", "/srv/");
 * assert.deepEqual(manifest.plugins, ["ipv4"]);
 * assert.equal(new URL("./p/mod.ts", base).href, "file:///srv/p/mod.ts");
 * ```
 */
export function parseManifestText(
  text: string,
  source: string,
  path: string,
): { manifest: StackManifest; base: URL } {
  let manifest: StackManifest;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new PluginManifestError(
      "(stack)",
      `${source} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return { manifest, base: fileUrl(path) };
}
