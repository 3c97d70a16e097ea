/**
 * Building a {@linkcode StackDescription} from the dispatcher's records.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { StackDescription } from "./describe.ts";
import { HOOK_POINTS, type HookPoint, requirementsOf } from "./manifest.ts";
import type { InterfaceTable } from "./netif.ts";
import { formatIpv4Address, formatIpv6Address } from "./wire/address.ts";
import type { PluginRecord, TableImpl } from "./_plugin_record.ts";

/** What the description is made of. */
export interface DescribedState {
  readonly name: string;
  readonly plugins: readonly PluginRecord[];
  readonly tables: Iterable<TableImpl>;
  readonly hooks: ReadonlyMap<HookPoint, readonly PluginRecord[]>;
  readonly hookDefrag: ReadonlySet<HookPoint>;
  /** Link type -> the plugin whose link output serves it. */
  readonly linkOutputs: ReadonlyMap<number, { readonly rec: PluginRecord }>;
  readonly interfaces: InterfaceTable;
  readonly counters: Counters;
}

/** The plugin graph: plugins, tables and bindings, hook chains, interfaces, counters. */
export function describeStack(s: DescribedState): StackDescription {
  return {
    name: s.name,
    plugins: s.plugins.map((p) => ({
      name: p.name,
      version: p.manifest.version,
      layer: p.manifest.layer,
      description: p.manifest.description,
      binds: p.manifest.binds.map((b) => ({
        table: b.table,
        key: b.key,
        ...(b.family !== undefined ? { family: b.family } : {}),
      })),
      exposes: [...(p.manifest.exposes ?? [])],
      ...(p.manifest.emits ? { emits: p.manifest.emits } : {}),
      ...(p.manifest.family !== undefined ? { family: p.manifest.family } : {}),
      provides: [...(p.manifest.provides ?? [])],
      requires: requirementsOf(p.manifest),
      hooks: (p.manifest.hooks ?? []).map((h) => h.point),
      counters: p.manifest.counters.map((c) => `${p.name}.${c}`),
      quarantined: p.quarantined,
      faults: p.faults,
    })),
    tables: [...s.tables].map((t) => ({
      name: t.name,
      entries: [...t.entries].sort((a, b) => a[0] - b[0]).map(([key, e]) => {
        const family = e.rec.manifest.binds.find((b) => b.table === t.name && b.key === key)
          ?.family;
        return { key, plugin: e.rec.name, ...(family !== undefined ? { family } : {}) };
      }),
    })),
    hooks: Object.fromEntries(
      HOOK_POINTS.map((p) => [p, s.hooks.get(p)!.map((r) => r.name)]),
    ),
    linkOutputs: [...s.linkOutputs].sort((a, b) => a[0] - b[0]).map(([linkType, e]) => ({
      linkType,
      plugin: e.rec.name,
    })),
    defragHooks: HOOK_POINTS.filter((p) => s.hookDefrag.has(p)),
    interfaces: s.interfaces.list().map((i) => ({
      index: i.index,
      name: i.name,
      linkType: i.linkType,
      mtu: i.mtu,
      up: i.up,
      addresses: [
        ...i.ipv4.map((a) => `${formatIpv4Address(a.address)}/${a.prefixLength}`),
        ...i.ipv6.map((a) => `${formatIpv6Address(a.address)}/${a.prefixLength}`),
      ],
    })),
    counters: s.counters.snapshot(),
  };
}
