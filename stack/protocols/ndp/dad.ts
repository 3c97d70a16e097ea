/**
 * Duplicate Address Detection (RFC 4862 §5.4) for the NDP plugin: an
 * address being checked is `tentative` (not the host's: never a source,
 * not accepted as a destination); `transmits` Neighbor Solicitations from
 * `::` go to its solicited-node group, the first after a random delay of
 * up to `delay` (§5.4.2), one `retransmitTime` apart; `retransmitTime`
 * after the last one it becomes `preferred` (or `deprecated` when its
 * preferred lifetime ran out meanwhile). A conflict on the way makes it
 * `duplicate`: logged, counted, never used (§5.4.5).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { PluginContext } from "../../manifest.ts";
import type { Timer } from "../../timers.ts";
import { formatIpKey, IpAddress, type IpKey } from "../../wire/ip_address.ts";

/** What DAD needs from the NDP plugin. */
export interface DadHost {
  /** Sends one DAD probe (NS from `::` for `key`) out of `ifindex`. */
  probe(ifindex: number, key: IpKey): void;
  /** The address passed: it is usable now (announce it). */
  passed(ifindex: number, key: IpKey): void;
  /** The link's RetransTimer (µs) when it has its own (an RA set it); else `retransmitTime`. */
  retransmitTime?(ifindex: number): number;
}

/** DAD's settings (µs, count). */
export interface DadOptions {
  /** Probes per address (RFC 4862 DupAddrDetectTransmits; 0: DAD off). */
  readonly transmits: number;
  /** Most random delay before the first probe (MAX_RTR_SOLICITATION_DELAY, 1 s). */
  readonly delay: number;
  /** Between probes, and after the last (RetransTimer, 1 s). */
  readonly retransmitTime: number;
}

interface Run {
  readonly ifindex: number;
  readonly key: IpKey;
  sent: number;
  readonly timer: Timer;
}

/**
 * The DAD runs of one stack, one per tentative address (so bounded by the
 * addresses assigned).
 *
 * @example
 * ```ts
 * import { DuplicateAddressDetection } from "./dad.ts";
 * import type { PluginContext } from "../../manifest.ts";
 * import assert from "node:assert/strict";
 * // In the NDP plugin's setup, with its context:
 * const make = (ctx: PluginContext) =>
 *   new DuplicateAddressDetection(ctx, { transmits: 1, delay: 1_000_000, retransmitTime: 1_000_000 }, {
 *     probe() {},
 *     passed() {},
 *   });
 * assert.equal(typeof make, "function");
 * ```
 */
export class DuplicateAddressDetection {
  readonly #ctx: PluginContext;
  readonly #o: DadOptions;
  readonly #host: DadHost;
  readonly #runs = new Map<string, Run>();
  readonly #c;

  /** DAD reporting through `ctx`. */
  constructor(ctx: PluginContext, options: DadOptions, host: DadHost) {
    this.#ctx = ctx;
    this.#o = options;
    this.#host = host;
    this.#c = {
      started: ctx.counter("dad.started"),
      passed: ctx.counter("dad.passed"),
      duplicates: ctx.counter("dad.duplicates"),
    };
  }

  /** Whether `key` on `ifindex` is being checked. */
  running(ifindex: number, key: IpKey): boolean {
    return this.#runs.has(`${ifindex} ${key}`);
  }

  /**
   * Starts checking `key` on `ifindex`: marks it tentative (it may be
   * already) and schedules the first probe. Nothing when it runs already.
   */
  start(ifindex: number, key: IpKey): void {
    const id = `${ifindex} ${key}`;
    if (this.#runs.has(id)) return;
    const run: Run = {
      ifindex,
      key,
      sent: 0,
      timer: this.#ctx.timer((now) => this.#tick(run, now)),
    };
    this.#runs.set(id, run);
    this.#c.started.value++;
    // Before the state change: the address-changed event it publishes finds the run.
    this.#ctx.setAddressState(ifindex, IpAddress.fromKey(key).bytes(), "tentative");
    run.timer.arm(this.#ctx.now() + Math.floor(this.#ctx.rng.nextFloat() * this.#o.delay));
  }

  #tick(run: Run, now: Instant): void {
    if (run.sent < this.#o.transmits) {
      run.sent++;
      this.#host.probe(run.ifindex, run.key);
      run.timer.arm(now + (this.#host.retransmitTime?.(run.ifindex) ?? this.#o.retransmitTime));
      return;
    }
    this.#runs.delete(`${run.ifindex} ${run.key}`);
    const iface = this.#ctx.interfaces.get(run.ifindex);
    const bytes = IpAddress.fromKey(run.key).bytes();
    const a = iface?.ipv6Address(bytes);
    if (a === undefined || a.state !== "tentative") return;
    this.#c.passed.value++;
    this.#ctx.setAddressState(
      run.ifindex,
      bytes,
      a.preferredUntil <= now ? "deprecated" : "preferred",
    );
    this.#host.passed(run.ifindex, run.key);
  }

  /**
   * Another node uses or claims `key` (§5.4.3, §5.4.4): when it is being
   * checked, it becomes `duplicate`, logged and counted; returns whether it was.
   */
  conflict(ifindex: number, key: IpKey, why: string): boolean {
    const id = `${ifindex} ${key}`;
    const run = this.#runs.get(id);
    if (run === undefined) return false;
    run.timer.cancel();
    this.#runs.delete(id);
    this.#c.duplicates.value++;
    const name = this.#ctx.interfaces.get(ifindex)?.name ?? String(ifindex);
    this.#ctx.log.warn(
      `Duplicate address ${
        formatIpKey(key)
      } on ${name}: ${why}; the address is not used (RFC 4862 §5.4.5)`,
    );
    this.#ctx.setAddressState(ifindex, IpAddress.fromKey(key).bytes(), "duplicate");
    return true;
  }

  /** Stops checking `key` on `ifindex` (the address went away). */
  cancel(ifindex: number, key: IpKey): void {
    const id = `${ifindex} ${key}`;
    this.#runs.get(id)?.timer.cancel();
    this.#runs.delete(id);
  }

  /** Stops every run on `ifindex` (the interface went away). */
  cancelInterface(ifindex: number): void {
    for (const run of [...this.#runs.values()]) {
      if (run.ifindex === ifindex) this.cancel(ifindex, run.key);
    }
  }

  /** Stops every run (teardown). */
  close(): void {
    for (const run of this.#runs.values()) run.timer.cancel();
    this.#runs.clear();
  }
}
