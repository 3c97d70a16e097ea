/**
 * Boot-time checks (Fastify's validator): manifest shape, unique names,
 * dependencies and required services present, no cycles, bindings exclusive,
 * hook orders resolvable. Everything here runs once; every failure throws a
 * coded error naming the plugin and the problem.
 *
 * @module
 */
import { BindingConflictError, PluginDependencyError, PluginManifestError } from "./errors.ts";
import {
  type HookPoint,
  LINK_TABLE,
  type ProtocolManifest,
  type ProtocolPlugin,
  requirementsOf,
  validateManifest,
} from "./manifest.ts";

/** A plugin with the options the stack manifest gives it. */
export interface PluginEntry {
  /** The plugin. */
  readonly plugin: ProtocolPlugin;
  /** Option values overriding the manifest's defaults. */
  readonly options?: Readonly<Record<string, number | string | boolean>>;
}

/**
 * Orders plugins so each comes after its dependencies and after the providers
 * of its required (non-optional) services; ties keep the given order.
 */
export function resolveOrder(entries: readonly PluginEntry[]): PluginEntry[] {
  const byName = new Map<string, PluginEntry>();
  entries.forEach((e, i) => {
    const m = validateManifest(e?.plugin?.manifest, i);
    if (typeof e.plugin.setup !== "function") {
      throw new PluginManifestError(m.name, "setup must be a function");
    }
    if (byName.has(m.name)) {
      throw new PluginManifestError(m.name, "two plugins have this name");
    }
    byName.set(m.name, e);
  });
  const provider = new Map<string, string>();
  for (const e of entries) {
    for (const s of e.plugin.manifest.provides ?? []) {
      const other = provider.get(s);
      if (other !== undefined) {
        throw new PluginManifestError(
          e.plugin.manifest.name,
          `service "${s}" is already provided by "${other}"`,
        );
      }
      provider.set(s, e.plugin.manifest.name);
    }
  }
  const deps = new Map<string, string[]>();
  for (const e of entries) {
    const m = e.plugin.manifest;
    const d: string[] = [];
    for (const dep of m.dependencies ?? []) {
      if (!byName.has(dep)) {
        throw new PluginDependencyError(m.name, `it depends on "${dep}", which is not loaded`);
      }
      d.push(dep);
    }
    for (const r of requirementsOf(m)) {
      const p = provider.get(r.service);
      if (p === undefined) {
        if (!r.optional) {
          throw new PluginDependencyError(
            m.name,
            `it requires service "${r.service}", which no loaded plugin provides`,
          );
        }
        continue;
      }
      if (!r.optional && p !== m.name) d.push(p);
    }
    deps.set(m.name, d);
  }
  // Depth-first, post-order, with an explicit stack: a chain of 20,000
  // dependencies must not overflow the call stack (issue 16).
  const order: PluginEntry[] = [];
  const state = new Map<string, 1 | 2>(); // 1 visiting (on the stack), 2 done
  const stack: { name: string; next: number }[] = [];
  for (const e of entries) {
    const root = e.plugin.manifest.name;
    if (state.has(root)) continue;
    state.set(root, 1);
    stack.push({ name: root, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ds = deps.get(top.name)!;
      if (top.next < ds.length) {
        const d = ds[top.next++]!;
        const s = state.get(d);
        if (s === 2) continue;
        if (s === 1) {
          const path = stack.map((f) => f.name);
          const cycle = [...path.slice(path.indexOf(d)), d].join(" -> ");
          throw new PluginDependencyError(d, `dependency cycle ${cycle}`);
        }
        state.set(d, 1);
        stack.push({ name: d, next: 0 });
        continue;
      }
      stack.pop();
      state.set(top.name, 2);
      order.push(byName.get(top.name)!);
    }
  }
  return order;
}

/**
 * Checks that bindings are exclusive and name tables some plugin exposes;
 * returns the set of exposed tables (optional bindings elsewhere are skipped).
 */
export function checkBindings(manifests: readonly ProtocolManifest[]): Set<string> {
  const exposed = new Set<string>([LINK_TABLE]);
  for (const m of manifests) for (const t of m.exposes ?? []) exposed.add(t);
  const owner = new Map<string, string>();
  for (const m of manifests) {
    for (const b of m.binds) {
      if (!exposed.has(b.table)) {
        if (b.optional) continue;
        throw new PluginDependencyError(
          m.name,
          `it binds table "${b.table}", which no loaded plugin exposes`,
        );
      }
      const k = `${b.table}\u0000${b.key}`;
      const first = owner.get(k);
      if (first !== undefined) throw new BindingConflictError(b.table, b.key, first, m.name);
      owner.set(k, m.name);
    }
  }
  return exposed;
}

/**
 * Orders the plugins joining one hook point by their `before`/`after`
 * constraints (names not loaded are ignored); ties keep boot order.
 */
export function orderHooks(point: HookPoint, manifests: readonly ProtocolManifest[]): string[] {
  const members = manifests.filter((m) => m.hooks?.some((h) => h.point === point));
  const names = members.map((m) => m.name);
  const edges = new Map<string, Set<string>>(names.map((n) => [n, new Set()])); // a -> must run before b
  for (const m of members) {
    for (const h of m.hooks!.filter((h) => h.point === point)) {
      for (const b of h.before ?? []) if (edges.has(b)) edges.get(m.name)!.add(b);
      for (const a of h.after ?? []) if (edges.has(a)) edges.get(a)!.add(m.name);
    }
  }
  const indeg = new Map(names.map((n) => [n, 0]));
  for (const s of edges.values()) for (const t of s) indeg.set(t, indeg.get(t)! + 1);
  const out: string[] = [];
  const ready = names.filter((n) => indeg.get(n) === 0);
  while (ready.length > 0) {
    const n = ready.shift()!;
    out.push(n);
    for (const t of edges.get(n)!) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) {
        ready.push(t);
        ready.sort((a, b) => names.indexOf(a) - names.indexOf(b));
      }
    }
  }
  if (out.length !== names.length) {
    const stuck = names.filter((n) => !out.includes(n));
    throw new PluginDependencyError(
      stuck[0]!,
      `hook order at ${point} has a cycle among ${stuck.join(", ")}`,
    );
  }
  return out;
}
