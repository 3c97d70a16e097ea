/**
 * Stack manifests: a stack described as data (a TS object or a JSON file)
 * naming its plugins by built-in name, file path or URL. Paths and URLs are
 * loaded with dynamic `import()`; the module must export the plugin as
 * `default` or as `plugin`.
 *
 * @module
 */
import type { PluginEntry } from "./boot.ts";
import { PluginManifestError } from "./errors.ts";
import type { ProtocolPlugin } from "./manifest.ts";

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

function looksLikePath(s: string): boolean {
  return s.startsWith(".") || s.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(s);
}

/**
 * Resolves every entry of `manifest` to a plugin: built-ins by name from
 * `builtins`, others by `import()` relative to `base`.
 *
 * @throws {PluginManifestError} when a name is unknown or a module has no plugin.
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
        throw new PluginManifestError(
          use,
          `no built-in plugin has this name (built-ins: ${
            Object.keys(options.builtins).join(", ")
          })`,
        );
      }
      const url = new URL(use, base).href;
      let mod: Record<string, unknown>;
      try {
        mod = await import(url);
      } catch (err) {
        throw new PluginManifestError(use, `cannot import ${url}: ${(err as Error).message}`);
      }
      const found = mod.default ?? mod.plugin;
      if (!isPlugin(found)) {
        throw new PluginManifestError(
          use,
          `module ${url} exports no plugin as default or "plugin"`,
        );
      }
      plugin = found;
    }
    const opts = typeof ref === "string" ? undefined : ref.options;
    out.push(opts ? { plugin, options: opts } : { plugin });
  }
  return out;
}

/**
 * Reads a JSON stack manifest from `path`; plugin paths in it are relative to
 * the file.
 */
export async function readManifestFile(
  path: string,
): Promise<{ manifest: StackManifest; base: URL }> {
  const text = await Deno.readTextFile(path);
  let manifest: StackManifest;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new PluginManifestError(
      "(stack)",
      `${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return { manifest, base: fileUrl(abs) };
}
