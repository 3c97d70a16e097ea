/**
 * Pieces the commands share: building a stack's plugin list from the
 * built-ins, a stack manifest, `--plugin` flags and the chosen services.
 *
 * @module
 */
import type { PluginEntry } from "../stack/boot.ts";
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
