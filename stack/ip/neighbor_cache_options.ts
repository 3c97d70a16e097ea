/**
 * How a neighbour cache (`neighbor_cache.ts`) is configured: its timers and
 * bounds ({@linkcode NeighborCacheOptions}), the counters it reports
 * ({@linkcode NEIGHBOR_CACHE_COUNTERS}), the manifest options ARP and NDP
 * declare for it in one order ({@linkcode neighborCacheManifestOptions}),
 * the options read back from a plugin's context
 * ({@linkcode neighborCacheConfig}), and the check of each value.
 *
 * @module
 */
import type { OptionSpec } from "../manifest.ts";

/** The timers and bounds of a cache (µs, counts, bytes). */
export interface NeighborCacheOptions {
  /** Base of REACHABLE's lifetime, randomised 0.5–1.5× (RFC 4861 BaseReachableTime: 30 s). */
  readonly reachableTime: number;
  /** An unused STALE entry is removed after this (Linux gc_staletime: 60 s). */
  readonly staleTime: number;
  /** Between solicitations (RFC 4861 RetransTimer: 1 s). */
  readonly retransmitTime: number;
  /** Solicitations while INCOMPLETE before FAILED (MAX_MULTICAST_SOLICIT: 3). */
  readonly multicastProbes: number;
  /** Unicast probes in PROBE before FAILED (MAX_UNICAST_SOLICIT: 3). */
  readonly unicastProbes: number;
  /** DELAY's length, from the first use of a STALE entry to its first probe (5 s). */
  readonly delayFirstProbeTime: number;
  /** How long a FAILED entry (resolution failed) drops packets at once before it goes. */
  readonly failedTime: number;
  /** Packets queued per unresolved neighbour. */
  readonly queueLength: number;
  /** Bytes queued per unresolved neighbour (whole pooled buffers; Linux unres_qlen_bytes). */
  readonly queueBytes: number;
  /** Bytes queued for all unresolved neighbours together. */
  readonly totalQueueBytes: number;
  /** Entries in the whole cache. */
  readonly maxEntries: number;
}

/**
 * The counters the cache reports (without the plugin prefix); a plugin that
 * uses a cache lists them in its manifest.
 *
 * @example
 * ```ts
 * import { NEIGHBOR_CACHE_COUNTERS } from "./neighbor_cache_options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(NEIGHBOR_CACHE_COUNTERS.includes("tx.queue_full"));
 * ```
 */
export const NEIGHBOR_CACHE_COUNTERS: readonly string[] = [
  "tx.queue_full",
  "tx.queue_total_full",
  "tx.unresolved",
  "cache.full",
  "cache.evicted",
];

/** The cache's option names a protocol declares in its manifest (the probe counts are the protocol's own). */
export type NeighborCacheOptionName = Exclude<
  keyof NeighborCacheOptions,
  "multicastProbes" | "unicastProbes"
>;

/** How a protocol declares its cache's options: its own words and bounds. */
export interface NeighborCacheManifestOptions {
  /** The options that set `multicastProbes` and `unicastProbes`, placed after `retransmitTime`. */
  readonly probes: Readonly<Record<string, OptionSpec>>;
  /** Default of `maxEntries` (ARP: 4096, NDP: Linux's ndisc gc_thresh3 1024). */
  readonly maxEntries: number;
  /** Descriptions that replace the shared ones. */
  readonly descriptions?: Readonly<Partial<Record<NeighborCacheOptionName, string>>>;
}

const CACHE_OPTION_DEFAULTS: Readonly<Record<NeighborCacheOptionName, OptionSpec>> = {
  reachableTime: { default: 30_000_000, description: "µs an entry stays REACHABLE" },
  staleTime: { default: 60_000_000, description: "µs an unused STALE entry is kept" },
  retransmitTime: { default: 1_000_000, description: "µs between solicitations" },
  delayFirstProbeTime: {
    default: 5_000_000,
    description: "µs from the first use of a STALE entry to its first unicast probe",
  },
  failedTime: { default: 20_000_000, description: "µs a FAILED entry is kept" },
  queueLength: { default: 256, description: "packets queued per unresolved neighbour" },
  queueBytes: {
    default: 524_288,
    description: "bytes queued per unresolved neighbour, as whole pooled buffers",
  },
  totalQueueBytes: {
    default: 1_048_576,
    description: "bytes queued for all unresolved neighbours together",
  },
  maxEntries: { default: 4096, description: "cache size bound (whole stack)" },
};

/**
 * The manifest `options` of a protocol's neighbour cache, in one order for
 * ARP and NDP: the shared timers and bounds with the protocol's
 * descriptions, its probe-count options and its `maxEntries` default.
 *
 * @example
 * ```ts
 * import { neighborCacheManifestOptions } from "./neighbor_cache_options.ts";
 * import assert from "node:assert/strict";
 * const options = neighborCacheManifestOptions({
 *   probes: { retries: { default: 3, description: "requests before FAILED" } },
 *   maxEntries: 4096,
 * });
 * assert.deepEqual(Object.keys(options).slice(0, 4), [
 *   "reachableTime", "staleTime", "retransmitTime", "retries",
 * ]);
 * ```
 */
export function neighborCacheManifestOptions(
  declared: NeighborCacheManifestOptions,
): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(CACHE_OPTION_DEFAULTS)) {
    const key = name as NeighborCacheOptionName;
    out[key] = {
      default: key === "maxEntries" ? declared.maxEntries : spec.default,
      description: declared.descriptions?.[key] ?? spec.description,
    };
    if (key === "retransmitTime") Object.assign(out, declared.probes);
  }
  return out;
}

/**
 * The cache's {@linkcode NeighborCacheOptions} from a plugin's resolved
 * options (`ctx.options`), whose manifest declared them with
 * {@linkcode neighborCacheManifestOptions}; `probes` names the options that
 * give the probe counts (ARP's one `retries` sets both). The cache's
 * constructor validates the values.
 *
 * @example
 * ```ts
 * import { neighborCacheConfig } from "./neighbor_cache_options.ts";
 * import assert from "node:assert/strict";
 * const config = neighborCacheConfig({ retries: 5, maxEntries: 16 }, {
 *   multicast: "retries",
 *   unicast: "retries",
 * });
 * assert.equal(config.multicastProbes, 5);
 * assert.equal(config.unicastProbes, 5);
 * assert.equal(config.maxEntries, 16);
 * ```
 */
export function neighborCacheConfig(
  options: Readonly<Record<string, unknown>>,
  probes: { readonly multicast: string; readonly unicast: string },
): NeighborCacheOptions {
  const config: Record<string, number> = {
    multicastProbes: options[probes.multicast] as number,
    unicastProbes: options[probes.unicast] as number,
  };
  for (const name of Object.keys(CACHE_OPTION_DEFAULTS)) config[name] = options[name] as number;
  return config as unknown as NeighborCacheOptions;
}

/**
 * Checks one option of a neighbour cache (a whole number, at least `min`).
 *
 * @throws {TypeError} When `v` is not a whole number.
 * @throws {RangeError} When `v` is below `min`.
 */
export function checkNeighborCacheOption(name: string, v: number, min: number): void {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`Cannot create neighbour cache: ${name} must be a whole number, got ${v}`);
  }
  if (v < min) throw new RangeError(`Cannot create neighbour cache: ${name} must be ≥ ${min}`);
}
