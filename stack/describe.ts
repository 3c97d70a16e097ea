/**
 * Prints a stack's data path Click-style, one line per path from an interface
 * to a leaf plugin, e.g.
 * `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp`,
 * then the link output of each interface (`eth0 <- ethernet (link output;
 * neighbor.ipv4 <- arp)`), hook chains and services.
 *
 * @module
 */

const HEX_TABLES = new Set(["ethertype"]);

function formatKey(table: string, key: number): string {
  return HEX_TABLES.has(table) ? `0x${key.toString(16).padStart(4, "0")}` : String(key);
}

/**
 * The data-path lines of a description.
 *
 * @example
 * ```ts
 * import { formatGraph } from "./describe.ts";
 * import assert from "node:assert/strict";
 * const text = formatGraph({
 *   name: "h", counters: {}, hooks: {},
 *   interfaces: [{ index: 0, name: "eth0", linkType: 1, mtu: 1500, up: true, addresses: [] }],
 *   plugins: [
 *     { name: "ethernet", version: "1.0.0", layer: "link", description: "", binds: [{ table: "link", key: 1 }],
 *       exposes: ["ethertype"], provides: [], requires: [], hooks: [], counters: [], quarantined: false, faults: 0 },
 *     { name: "arp", version: "1.0.0", layer: "network", description: "", binds: [{ table: "ethertype", key: 0x806 }],
 *       exposes: [], provides: [], requires: [], hooks: [], counters: [], quarantined: false, faults: 0 },
 *   ],
 *   tables: [
 *     { name: "link", entries: [{ key: 1, plugin: "ethernet" }] },
 *     { name: "ethertype", entries: [{ key: 0x806, plugin: "arp" }] },
 *   ],
 * });
 * assert.match(text, /eth0 -> ethernet -\[ethertype 0x0806\]-> arp/);
 * ```
 */
export function formatGraph(d: StackDescription): string {
  const exposes = new Map(d.plugins.map((p) => [p.name, p.exposes]));
  const emits = new Map(d.plugins.map((p) => [p.name, p.emits]));
  const families = new Map(d.plugins.map((p) => [p.name, p.family]));
  const tables = new Map(d.tables.map((t) => [t.name, t.entries]));
  const lines: string[] = [];
  // `family`: the IP version of the path so far (the last plugin declaring one).
  const walk = (plugin: string, path: string, seen: Set<string>, family?: 4 | 6) => {
    let leaf = true;
    const fam = families.get(plugin) ?? family;
    for (const t of exposes.get(plugin) ?? []) {
      const only = emits.get(plugin)?.[t];
      for (const e of tables.get(t) ?? []) {
        if (seen.has(e.plugin) || (only !== undefined && !only.includes(e.key))) continue;
        if (e.family !== undefined && fam !== undefined && e.family !== fam) continue;
        leaf = false;
        walk(
          e.plugin,
          `${path} -[${t} ${formatKey(t, e.key)}]-> ${e.plugin}`,
          new Set([...seen, e.plugin]),
          fam,
        );
      }
    }
    if (leaf) lines.push(path);
  };
  for (const iface of d.interfaces) {
    const root = (tables.get("link") ?? []).find((e) => e.key === iface.linkType);
    const state = iface.up ? "" : " (down)";
    if (!root) {
      lines.push(`${iface.name}${state} -> (no plugin for link type ${iface.linkType})`);
      continue;
    }
    walk(root.plugin, `${iface.name}${state} -> ${root.plugin}`, new Set([root.plugin]));
  }
  lines.push(...formatLinkOutputs(d));
  const hookLines = Object.entries(d.hooks).filter(([, c]) => c.length > 0).map(([p, c]) =>
    `hook ${p}: ${c.join(" -> ")}`
  );
  const services = d.plugins.flatMap((p) => p.provides.map((s) => `service ${s} <- ${p.name}`));
  const quarantined = d.plugins.filter((p) => p.quarantined).map((p) => `quarantined ${p.name}`);
  return [...lines, ...hookLines, ...services, ...quarantined].join("\n");
}

/**
 * The hook points in netfilter's order, each with its chain (run order),
 * drawn as the network layer runs them: `ingress`, `prerouting`, the
 * routing decision, then `input` (local) or `forward` and `postrouting`;
 * locally sent packets through `output`, a second routing decision when a
 * hook changed the destination, and `postrouting`; `egress` at the driver.
 * An empty chain shows as `-`; `(defrag)` marks a point whose chain sees
 * reassembled datagrams.
 *
 * @example
 * ```ts
 * import { formatHookPath } from "./describe.ts";
 * import assert from "node:assert/strict";
 * const text = formatHookPath({
 *   name: "h", counters: {}, plugins: [], tables: [], interfaces: [],
 *   hooks: { prerouting: ["block_source", "ct"], forward: [], postrouting: ["nat"] },
 *   defragHooks: ["prerouting"],
 * });
 * assert.match(text, /\[prerouting \(defrag\): block_source -> ct\]/);
 * assert.match(text, /\[postrouting: nat\]/);
 * ```
 */
export function formatHookPath(d: StackDescription): string {
  const defrag = new Set(d.defragHooks ?? []);
  const at = (p: string) => {
    const chain = d.hooks[p] ?? [];
    return `[${p}${defrag.has(p) ? " (defrag)" : ""}: ${chain.length ? chain.join(" -> ") : "-"}]`;
  };
  const pre = `rx -> ${at("ingress")} -> ${at("prerouting")} -> route? `;
  const pad = " ".repeat(pre.length);
  return [
    "hook points (netfilter order):",
    `${pre}-+- local   -> ${at("input")} -> transport`,
    `${pad} +- forward -> ${at("forward")} -> ${at("postrouting")} -> ${at("egress")} -> link`,
    `transport -> route -> ${at("output")} -> (route again if the destination changed) -> ${
      at("postrouting")
    } -> ${at("egress")} -> link`,
  ].join("\n");
}

/**
 * The transmit side, one line per interface: the plugin whose link output
 * sends on it, and the services it uses that some plugin provides (the
 * neighbour resolvers), e.g. `eth0 <- ethernet (link output; neighbor.ipv4 <- arp)`.
 */
function formatLinkOutputs(d: StackDescription): string[] {
  if (d.linkOutputs === undefined) return [];
  const providers = new Map<string, string>();
  for (const p of d.plugins) for (const s of p.provides) providers.set(s, p.name);
  return d.interfaces.map((iface) => {
    const out = d.linkOutputs!.find((o) => o.linkType === iface.linkType);
    if (out === undefined) {
      return `${iface.name} <- (no link output for link type ${iface.linkType})`;
    }
    const uses = (d.plugins.find((p) => p.name === out.plugin)?.requires ?? [])
      .filter((r) => providers.has(r.service))
      .map((r) => `; ${r.service} <- ${providers.get(r.service)}`);
    return `${iface.name} <- ${out.plugin} (link output${uses.join("")})`;
  });
}

/** What `Dispatcher.describe()` returns. */
export interface StackDescription {
  /** The stack's name. */
  readonly name: string;
  /** Loaded plugins in boot order. */
  readonly plugins: readonly {
    readonly name: string;
    readonly version: string;
    readonly layer: string;
    readonly description: string;
    readonly binds: readonly {
      readonly table: string;
      readonly key: number;
      /** The IP version the binding takes, when only one (see `Binding.family`). */
      readonly family?: 4 | 6;
    }[];
    readonly exposes: readonly string[];
    readonly emits?: Readonly<Record<string, readonly number[]>>;
    /** The IP version it dispatches (see `ProtocolManifest.family`). */
    readonly family?: 4 | 6;
    readonly provides: readonly string[];
    readonly requires: readonly { readonly service: string; readonly optional: boolean }[];
    readonly hooks: readonly string[];
    readonly counters: readonly string[];
    readonly quarantined: boolean;
    readonly faults: number;
  }[];
  /** Dispatch tables and who is bound to which key. */
  readonly tables: readonly {
    readonly name: string;
    readonly entries: readonly {
      readonly key: number;
      readonly plugin: string;
      /** The IP version the binding takes, when only one. */
      readonly family?: 4 | 6;
    }[];
  }[];
  /** Hook chains in run order. */
  readonly hooks: Readonly<Record<string, readonly string[]>>;
  /**
   * Link types with a link output (`ctx.linkOutput` sends through it) and
   * the plugin serving each.
   */
  readonly linkOutputs?: readonly { readonly linkType: number; readonly plugin: string }[];
  /** Hook points where a plugin asked for whole datagrams (`defrag: true`). */
  readonly defragHooks?: readonly string[];
  /** Interfaces. */
  readonly interfaces: readonly {
    readonly index: number;
    readonly name: string;
    readonly linkType: number;
    readonly mtu: number;
    readonly up: boolean;
    readonly addresses: readonly string[];
  }[];
  /** Non-zero counters. */
  readonly counters: Readonly<Record<string, number>>;
}
