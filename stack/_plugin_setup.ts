/**
 * Loading one plugin at boot: its options checked against the manifest,
 * its `setup()` called with a context, and what setup returned checked and
 * registered (services, table bindings, link output). Private to
 * `dispatcher.ts`; runs once per plugin, never on the packet path.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import { PluginDependencyError, PluginSetupError } from "./errors.ts";
import { LINK_TABLE, type LinkOutput, type ProtocolHandlers } from "./manifest.ts";
import type { PluginEntry } from "./boot.ts";
import { type PluginRecord, type TableImpl } from "./_plugin_record.ts";
import { type ContextHost, pluginContext } from "./_plugin_context.ts";
import { dropIndexOf } from "./_drops.ts";
import { setupFailure } from "./_setup_failure.ts";

/** The link output of one link type, with its plugin (for faults and quarantine). */
export interface LinkOutputEntry {
  readonly rec: PluginRecord;
  readonly out: LinkOutput;
}

/** The dispatcher's registries a plugin's setup fills in (the dispatcher owns them). */
export interface PluginRegistry {
  readonly counters: Counters;
  readonly host: ContextHost;
  /** Tables some plugin exposes (`checkBindings`): bindings to others are optional and skipped. */
  readonly exposed: ReadonlySet<string>;
  table(name: string): TableImpl;
  readonly services: Map<string, unknown>;
  readonly linkOutputs: Map<number, LinkOutputEntry>;
}

/**
 * Sets up the plugin of `e` and registers its services, bindings and link
 * output in `reg`; returns its record, which the caller adds to its list.
 *
 * @throws {PluginDependencyError | PluginSetupError}
 */
export function setupPlugin(reg: PluginRegistry, e: PluginEntry): PluginRecord {
  const m = e.plugin.manifest;
  const rec: PluginRecord = {
    name: m.name,
    manifest: m,
    handlers: {},
    faults: 0,
    quarantined: false,
    dropIndex: dropIndexOf(m),
    undeclared: null,
    flushRequested: false,
  };
  // Zero until counted: no object per declared counter (most are never counted).
  reg.counters.declare(`${m.name}.`, RECORD_COUNTERS);
  reg.counters.declare(`${m.name}.`, m.counters);
  const options: Record<string, number | string | boolean> = {};
  for (const [k, spec] of Object.entries(m.options ?? {})) options[k] = spec.default;
  const given = Object.entries(e.options ?? {});
  for (const [k, v] of given) {
    if (!(k in options)) {
      throw new PluginDependencyError(m.name, `unknown option "${k}"`);
    }
    if (typeof v !== typeof options[k]) {
      throw new PluginDependencyError(m.name, `option "${k}" must be a ${typeof options[k]}`);
    }
    options[k] = v;
  }
  let handlers: ProtocolHandlers;
  try {
    handlers = e.plugin.setup(pluginContext(reg.host, rec, defaultOptions(m, given, options)));
  } catch (err) {
    throw setupFailure(m.name, err);
  }
  if (typeof handlers !== "object" || handlers === null) {
    throw new PluginSetupError(
      m.name,
      "setup",
      new TypeError(
        `setup() returned ${handlers === null ? "null" : typeof handlers}, not handlers`,
      ),
    );
  }
  rec.handlers = handlers;
  for (const s of m.provides ?? []) {
    if (!handlers.services || !(s in handlers.services)) {
      throw new PluginDependencyError(
        m.name,
        `it declares service "${s}" but setup did not return it`,
      );
    }
    reg.services.set(s, handlers.services[s]);
  }
  for (const b of m.binds) {
    if (!reg.exposed.has(b.table)) continue; // an optional binding whose table nobody exposes
    const fn = handlers.receivers?.[b.table] ?? handlers.receive;
    if (fn === undefined) {
      throw new PluginDependencyError(
        m.name,
        `it binds ${b.table} ${b.key} but has no receive handler`,
      );
    }
    reg.table(b.table).bind(b.key, { rec, fn, handlers });
  }
  registerLinkOutput(reg.linkOutputs, rec, handlers);
  if ((m.hooks ?? []).length > 0 && typeof handlers.hook !== "function") {
    throw new PluginDependencyError(
      m.name,
      `it joins hook ${m.hooks![0]!.point} but setup returned no hook handler`,
    );
  }
  return rec;
}

/** A link plugin's transmit side serves every link type it binds. */
function registerLinkOutput(
  linkOutputs: Map<number, LinkOutputEntry>,
  rec: PluginRecord,
  handlers: ProtocolHandlers,
): void {
  const out = handlers.linkOutput;
  if (out === undefined) return;
  const types = rec.manifest.binds.filter((b) => b.table === LINK_TABLE).map((b) => b.key);
  if (typeof out !== "object" || out === null || typeof out.output !== "function") {
    throw new PluginDependencyError(rec.name, "its linkOutput has no output function");
  }
  if (types.length === 0) {
    throw new PluginDependencyError(rec.name, "it has a linkOutput but binds no link type");
  }
  for (const t of types) linkOutputs.set(t, { rec, out });
}

/** The counters the dispatcher keeps for every plugin: its faults and its undeclared drop reasons. */
const RECORD_COUNTERS: readonly string[] = ["fault", "undeclared"];

/** Frozen default options by manifest: stacks that change none share one object. */
const DEFAULT_OPTIONS = new WeakMap<object, Readonly<Record<string, number | string | boolean>>>();

function defaultOptions(
  m: object,
  given: readonly unknown[],
  options: Record<string, number | string | boolean>,
): Readonly<Record<string, number | string | boolean>> {
  if (given.length !== 0) return Object.freeze(options);
  let shared = DEFAULT_OPTIONS.get(m);
  if (shared === undefined) DEFAULT_OPTIONS.set(m, shared = Object.freeze(options));
  return shared;
}
