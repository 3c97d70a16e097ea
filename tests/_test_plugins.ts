/**
 * Test plugins: a stack's default plugins with options, a one-off plugin from a partial manifest, and a probe plugin that records what reaches it.
 *
 * @module
 */
import { DEFAULT_PLUGINS } from "../mod.ts";
import type { PluginEntry } from "../stack/boot.ts";
import {
  CONSUMED,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolManifest,
  type ProtocolPlugin,
} from "../stack/manifest.ts";
import { formatIpKey } from "../stack/wire/address.ts";

// ---- plugins -------------------------------------------------------------------

/** Option overrides per built-in plugin name: `{ arp: { retries: 5 } }`. */
export type PluginOptions = Readonly<
  Record<string, Readonly<Record<string, number | string | boolean>>>
>;

/**
 * The default plugin list with `options` applied, plus `extra` plugins; an
 * extra plugin that provides a service a default provides replaces that
 * default (a test's `neighbor.ipv6` stand-in replaces ndp).
 *
 * @throws {TypeError} When `options` names a plugin that is not loaded.
 * @example
 * ```ts
 * import { pluginsWith } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const entries = pluginsWith({ icmp: { echoIgnoreBroadcasts: false } });
 * assert.deepEqual(entries.find((e) => e.plugin.manifest.name === "icmp")?.options, {
 *   echoIgnoreBroadcasts: false,
 * });
 * ```
 */
export function pluginsWith(
  options: PluginOptions = {},
  extra: readonly ProtocolPlugin[] = [],
): PluginEntry[] {
  // A plugin the defaults already hold (ipv6 since it became a default) is not loaded twice,
  // and an extra plugin that provides a default's service (a `neighbor.ipv6` stand-in) takes
  // that default's place (ndp's, since it became a default).
  const added = extra.filter((p) => !DEFAULT_PLUGINS.includes(p));
  const provided = new Set(added.flatMap((p) => p.manifest.provides ?? []));
  const defaults = DEFAULT_PLUGINS.filter((d) =>
    !(d.manifest.provides ?? []).some((service) => provided.has(service))
  );
  const all = [...defaults, ...added];
  for (const name of Object.keys(options)) {
    if (!all.some((p) => p.manifest.name === name)) {
      throw new TypeError(`Cannot set options of plugin "${name}": it is not loaded`);
    }
  }
  return all.map((plugin) => {
    const o = options[plugin.manifest.name];
    return o === undefined ? { plugin } : { plugin, options: o };
  });
}

/** What {@linkcode testPlugin} takes: a name and any manifest fields. */
export type TestManifest = Partial<ProtocolManifest> & { readonly name: string };

/**
 * A plugin with a valid default manifest (version 1.0.0, api ^1.0.0, layer
 * "service", no bindings, no counters, description `test plugin <name>`)
 * overridden by `manifest`; `setup` defaults to one whose `receive`
 * consumes everything.
 *
 * @example
 * ```ts
 * import { testPlugin } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = testPlugin({ name: "x", layer: "transport" });
 * assert.equal(p.manifest.description, "test plugin x");
 * assert.equal(p.manifest.layer, "transport");
 * assert.equal(p.manifest.api, "^1.0.0");
 * ```
 */
export function testPlugin(
  manifest: TestManifest,
  setup: (ctx: PluginContext) => ProtocolHandlers = () => ({ receive: () => CONSUMED }),
): ProtocolPlugin {
  return {
    manifest: {
      version: "1.0.0",
      api: "^1.0.0",
      description: `test plugin ${manifest.name}`,
      layer: "service",
      binds: [],
      counters: [],
      ...manifest,
    },
    setup,
  };
}
// ---- probe plugin -------------------------------------------------------------------------

/** What a {@linkcode probePlugin} saw of one packet. */
export interface ProbeRecord {
  /** The table and key that reached the probe. */
  readonly table: string;
  /** The key. */
  readonly key: number;
  /** The data window (from `pkt.start`), copied. */
  readonly data: Uint8Array;
  /** `pkt.flags` ({@linkcode PacketFlags} bits). */
  readonly flags: number;
  /** `pkt.etherType`. */
  readonly etherType: number;
  /** The network-layer source (`pkt.srcKey()`), text; 0.0.0.0 when unset. */
  readonly src: string;
  /** The network-layer destination (`pkt.dstKey()`), text; 0.0.0.0 when unset. */
  readonly dst: string;
  /** `pkt.ttl`. */
  readonly ttl: number;
  /** Interface index. */
  readonly ifindex: number;
}

/** A plugin that consumes and records what reaches its bindings. */
export interface Probe {
  /** Load it with `extraPlugins`. */
  readonly plugin: ProtocolPlugin;
  /** Packets seen, oldest first. */
  readonly seen: ProbeRecord[];
}

/**
 * A plugin bound to `bindings` (e.g. `{ table: "ip.protocol", key: 253 }`)
 * that records every packet reaching it and consumes it.
 *
 * @example
 * ```ts
 * import { ethernetFrame, makeHost, probePlugin } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const probe = probePlugin([{ table: "ethertype", key: 0x88b5 }]);
 * const h = makeHost({ extraPlugins: [probe.plugin] });
 * h.inject(ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:09", etherType: 0x88b5 }, new Uint8Array([1, 2])));
 * assert.deepEqual(probe.seen[0]!.data, new Uint8Array([1, 2]));
 * h.finish();
 * ```
 */
export function probePlugin(
  bindings: readonly { readonly table: string; readonly key: number }[],
  name = "probe",
): Probe {
  const seen: ProbeRecord[] = [];
  const plugin: ProtocolPlugin = {
    manifest: {
      name,
      version: "1.0.0",
      api: "^1.0.0",
      description: "test probe: records and consumes",
      layer: "service",
      binds: bindings.map((b) => ({ table: b.table, key: b.key })),
      counters: [],
    },
    setup() {
      return {
        receive(pkt, rx) {
          seen.push({
            table: rx.table.name,
            key: rx.key,
            data: pkt.data.slice(), // copy: kept after receive()
            flags: pkt.flags,
            etherType: pkt.etherType,
            src: pkt.srcAt < 0 ? "0.0.0.0" : formatIpKey(pkt.srcKey()),
            dst: pkt.dstAt < 0 ? "0.0.0.0" : formatIpKey(pkt.dstKey()),
            ttl: pkt.ttl,
            ifindex: pkt.ifindex,
          });
          return 0; // CONSUMED
        },
      };
    },
  };
  return { plugin, seen };
}
