/**
 * The cold echo (issue #13): one ICMP echo through the stack in memory,
 * timed warm (right after the previous one) and cold (after the CPU caches
 * were flushed by walking a large buffer, after a 100 ms sleep, or both), so
 * that what an idle ping costs in JavaScript can be measured without TUN,
 * without ping and with less sensitivity to the machine's load.
 *
 * The stack is `up`'s: `createStack` with the default plugins and a
 * `SystemClock`, one raw-IP interface 10.0.0.2/24. The driver does what the
 * TUN loop does per frame (`drivers/tun/io.ts`): `beginBatch`, `pool.alloc`,
 * the bytes copied in where `read()` would put them, `receive`, `endBatch`;
 * the reply's `transmit` takes its length and releases it. Timed: from
 * `beginBatch` to the reply's `transmit` (the reply is written inside
 * `receive`).
 *
 * ```sh
 * deno run -A bench/cold_echo_bench.ts [RUNS] [MODES] [BASE_DIR] [--family 4|6|4,6]
 * ```
 * - RUNS (default 3): fresh processes per mode; with BASE_DIR, the same
 *   number for that checkout, interleaved with this tree's;
 * - `--family` (default 4): the echo's IP version, ICMP to 10.0.0.2 or
 *   ICMPv6 to fd00::2 (the interface has both addresses either way), each
 *   family a row of its own;
 * - MODES (default all but `alloc`), comma-separated: `warm` (echoes back to back),
 *   `evict` (a 64 MiB buffer walked between echoes), `block` (the JS thread
 *   asleep 100 ms in `Atomics.wait`, as `up --wait block` sleeps in
 *   `poll()`), `sleep` (100 ms in the event loop: `setTimeout`), `spin`
 *   (100 ms busy-waiting on `performance.now()`); `MODE@MS` away MS ms
 *   instead of 100 (e.g. `block@5`); `MODE@MS+shadowK`: while away, every
 *   K ms one echo of each family through a second stack (`up --keep-warm`'s
 *   shadow; before 2026-12-07 only an IPv4 one),
 *   `+selfK` the same through the measured stack (the best warming could
 *   do, with its side effects); `alloc`: bytes of JavaScript heap
 *   allocated per echo, warm (after 30,000 more echoes, the heap's growth
 *   over 20 rounds of 1,000 echoes, a round with a scavenge in it left out;
 *   median and largest);
 * - each process warms the stack with 2,000 echoes (as `bench/tun_floor.ts`
 *   does over TUN), then times 300 echoes (`warm`: 5,000).
 * Prints, per mode and tree, the median (range) of the runs' medians and
 * p99s in µs, and the load average.
 *
 * `--child MODE [ROOT]` runs one process (prints one JSON line).
 *
 * What it showed (session 15, load 3-4, 2 runs each): warm 1.0 µs; evict
 * 12-17 µs; block, sleep and spin alike, 45-60 µs. So it is the time away,
 * not the sleep, that makes the echo cold: 10 ms of spinning already gives
 * 27-57 µs on this shared machine (other processes run on the core
 * meanwhile), and walking 64 MiB of data evicts less than they do (code,
 * TLBs, branch predictors). An echo through a second, warm stack just
 * before the cold one (same code, other objects) leaves 12 µs of the 60:
 * most of the cold cost is code, not the stack's data.
 *
 * Session 16, the decay (3 runs, median (range) of the run medians, µs;
 * load 0.5 rising to 6 during the spin rows):
 * | away, ms | 0.1 | 0.5 | 1 | 2 | 5 | 10 | 20 | 50 | 100 |
 * |---|---|---|---|---|---|---|---|---|---|
 * | asleep (`block@MS`) | 2.2 | 3.4 | 3.4 | 3.7 | 4.0 (3.6-4.5) | 20 (6-23) | 16 (9-18) | 54 (35-63) | 63 (61-64) |
 * | spinning (`spin@MS`) | 3.1 | 3.4 | 3.4 | 4.5 | 7.1 (6.7-7.2) | 8.9 (8-10) | 38 (10-45) | 63 (12-63) | 60 (57-61) |
 * Warm up to 5 ms away, cold from 50. Kept warm while 100 ms away (load
 * 6-9): `block@100` 63 (59-65), `+shadow5` 27 (24-30), `+shadow10` 43
 * (42-44), `+self5` 19 (19-20), `+self10` 28 (26-30): a shadow stack
 * every 5 ms keeps most of the code warm; the 8 µs more of `self` is the
 * stack's own data and feedback.
 *
 * 2026-12-07, IPv6 against IPv4 (`--family 4,6`, 5 runs interleaved with
 * a96cdd2, µs; warm at load 3.5, cold 07:53-08:03 at load 1.9 rising to
 * 6.6): a96cdd2's ICMPv6 echo cost more than ICMP's, warm 0.9 (0.8-0.9)
 * against 0.7, `block` 74.9 (72.9-79.3) against 68.0 (62.5-82.5),
 * `block@100+shadow5` 35.0 (31.4-35.3) against 29.4 (21.4-30.6); it built
 * two address strings per echo (112 bytes, `alloc`), hashed a fresh one in
 * `isAssigned` (11% of a warm echo's samples, `--cpu-prof`), and summed the
 * reply again with its pseudo-header. Without them (e3e5081): warm 0.7
 * (0.7-0.7), `block` 67.5 (60.8-76.9) against IPv4's 67.3, `+shadow5` 30.5
 * (28.2-32.4) against 30.0; 0 bytes per echo either family (IPv4's 144
 * were a subarray and a closure context, 607de44).
 *
 * @module
 */
import { median, percentile } from "./_stats.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
const WARMUP = 2_000;
const EVICT_BYTES = 64 << 20;
const SLEEP_MS = 100;
const MODES = ["warm", "evict", "block", "sleep", "spin", "alloc"] as const;
/** What runs when no MODES are given (`alloc` measures bytes, not time). */
const DEFAULT_MODES = ["warm", "evict", "block", "sleep", "spin"];
const FAMILIES = [4, 6] as const;
type Family = typeof FAMILIES[number];
/** Echo rounds of `alloc` mode, and echoes in each. */
const ALLOC_ROUNDS = 20;
const ALLOC_ECHOES = 1_000;
/** Echoes `alloc` mode adds to the warm-up before it counts. */
const ALLOC_WARMUP = 30_000;
type Mode = typeof MODES[number];

/**
 * A mode as given: `block`, `block@5` (5 ms away instead of 100), `block@100+shadow10`
 * (while away, every 10 ms an echo through a second, throwaway stack: the
 * TUN loop's keep-warm), `block@100+self10` (the same through the measured
 * stack itself: what warming could do at best, with its side effects).
 */
interface ModeSpec {
  mode: Mode;
  awayMs: number;
  keep: "shadow" | "self" | null;
  keepMs: number;
}

function parseMode(text: string): ModeSpec {
  const m = /^(\w+)(?:@([\d.]+))?(?:\+(shadow|self)([\d.]+))?$/.exec(text);
  if (m === null || !MODES.includes(m[1] as Mode)) throw new TypeError(`Unknown mode ${text}`);
  const awayMs = m[2] === undefined ? SLEEP_MS : Number(m[2]);
  const keepMs = m[4] === undefined ? 0 : Number(m[4]);
  if (!(awayMs > 0) || (m[3] !== undefined && !(keepMs > 0))) {
    throw new TypeError(`Bad times in mode ${text}`);
  }
  return { mode: m[1] as Mode, awayMs, keep: (m[3] ?? null) as ModeSpec["keep"], keepMs };
}

/** An ICMPv6 echo request fd00::1 → fd00::2 with 56 data bytes (as ping -6 sends). */
function echoRequest6(id: number, seq: number): Uint8Array {
  const f = new Uint8Array(104);
  f.set([0x60, 0, 0, 0, 0, 64, 58, 64, 0xfd]);
  f[23] = 1;
  f[24] = 0xfd;
  f[39] = 2;
  f.set([128, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff], 40);
  for (let i = 48; i < 104; i++) f[i] = i;
  // The pseudo-header (RFC 8200 §8.1) as words after the message: summed with it.
  const p = new Uint8Array(104 - 40 + 40);
  p.set(f.subarray(40), 0);
  p.set(f.subarray(8, 40), 64);
  p[64 + 32 + 3] = 64; // upper-layer length
  p[64 + 32 + 7] = 58; // next header
  putChecksum(p, 0, p.length, 2);
  f[42] = p[2]!;
  f[43] = p[3]!;
  return f;
}

/** An echo request of `family` with identifier `id`, sequence `seq`. */
function request(family: Family, id: number, seq: number): Uint8Array {
  return family === 4 ? echoRequest(id, seq) : echoRequest6(id, seq);
}

/** An IPv4 ICMP echo request 10.0.0.1 → 10.0.0.2 with 56 data bytes (as ping sends). */
function echoRequest(id: number, seq: number): Uint8Array {
  const f = new Uint8Array(84);
  f.set([0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  f[4] = seq >> 8;
  f[5] = seq & 0xff;
  putChecksum(f, 0, 20, 10);
  f.set([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff], 20);
  for (let i = 28; i < 84; i++) f[i] = i;
  putChecksum(f, 20, 84, 22);
  return f;
}

function putChecksum(f: Uint8Array, from: number, to: number, at: number): void {
  let s = 0;
  for (let i = from; i < to; i += 2) s += (f[i]! << 8) | (f[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  f[at] = s >> 8;
  f[at + 1] = s & 0xff;
}

/** The TUN loop's per-frame work, with the `read()` a copy. */
class EchoDriver {
  readonly linkType = 101;
  readonly mtu = 1500;
  port: Any = null;
  /** Echo replies sent (84 bytes over IPv4, 104 over IPv6: the requests' lengths). */
  replies = 0;
  repliedAt = 0;
  attach(port: Any): void {
    this.port = port;
  }
  transmit(pkt: Any): void {
    this.repliedAt = performance.now();
    const len = pkt.end - pkt.start;
    if (len === 84 || len === 104) this.replies++;
    pkt.release();
  }
  close(): void {}
  /** One frame as the TUN loop hands it over; returns the µs to the reply. */
  echo(frame: Uint8Array): number {
    const t0 = performance.now();
    this.hand(frame);
    return (this.repliedAt - t0) * 1000;
  }
  /** The frame handed over, untimed. */
  hand(frame: Uint8Array): void {
    const port = this.port;
    port.beginBatch?.();
    const pkt = port.pool.alloc(1500 + 14);
    pkt.buf.set(frame, pkt.start);
    pkt.end = pkt.start + frame.length;
    port.receive(pkt);
    port.endBatch?.();
  }
}

/** Touches every cache line of a 64 MiB buffer (and so most of the L3 and the TLB). */
function evict(buf: Int32Array): number {
  let s = 0;
  for (let i = 0; i < buf.length; i += 16) s += buf[i]! + (buf[i] = i);
  return s;
}

/**
 * Bytes of JavaScript heap one warm echo allocates: the heap's growth over
 * {@linkcode ALLOC_ROUNDS} rounds of {@linkcode ALLOC_ECHOES} echoes, less
 * that of a round without echoes; a round that shrank the heap (a
 * scavenge) is left out. Returns the median and the largest.
 */
function allocPerEcho(driver: EchoDriver, frames: Uint8Array[]): { median: number; max: number } {
  const used = () => Deno.memoryUsage().heapUsed;
  const empty: number[] = [];
  for (let r = 0; r < 5; r++) {
    const h0 = used();
    empty.push(used() - h0);
  }
  const idle = median(empty);
  const per: number[] = [];
  let seq = 0;
  // Past the tiers' first versions: baseline code boxes numbers an optimized version does not.
  for (let i = 0; i < ALLOC_WARMUP; i++) driver.hand(frames[seq++ & 255]!);
  for (let r = 0; r < ALLOC_ROUNDS; r++) {
    const h0 = used();
    for (let i = 0; i < ALLOC_ECHOES; i++) driver.hand(frames[seq++ & 255]!);
    const grew = used() - h0 - idle;
    if (grew >= 0) per.push(grew / ALLOC_ECHOES);
  }
  if (per.length < ALLOC_ROUNDS / 2) throw new Error("Too many scavenges to count allocations");
  return { median: median(per), max: Math.max(...per) };
}

async function child(spec: ModeSpec, family: Family, root: string): Promise<void> {
  const { mode, awayMs, keep, keepMs } = spec;
  const mod: Any = await import(`${root}mod.ts`);
  const driver = new EchoDriver();
  const addresses = ["10.0.0.2/24", "fd00::2/64"];
  const stack = mod.createStack({ seed: 1, clock: new mod.SystemClock() });
  stack.addInterface({ name: "tun0", driver, addresses });
  // The keep-warm's target: a second stack (shadow) or the measured one (self).
  let warmDriver = driver;
  if (keep === "shadow") {
    warmDriver = new EchoDriver();
    const shadow = mod.createStack({ seed: 2, clock: new mod.SystemClock() });
    shadow.addInterface({ name: "tun0", driver: warmDriver, addresses });
  }
  // As `up --keep-warm` does, every tick warms both families.
  const warmFrames = [request(4, 0x4321, 1), request(6, 0x4321, 1)];
  let warmups = 0;
  // Time away: asleep (or spinning) until `until`, every keepMs an echo of each family to warmDriver.
  const away = (until: number, sleepFor: (ms: number) => void) => {
    for (;;) {
      const left = until - performance.now();
      if (left <= 0) return;
      if (keep === null || left <= keepMs) return sleepFor(left);
      sleepFor(keepMs);
      for (const f of warmFrames) warmDriver.hand(f);
      warmups += warmFrames.length;
    }
  };
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 256; i++) frames.push(request(family, 0x1234, i));
  let seq = 0;
  const big = new Int32Array(EVICT_BYTES / 4);
  let sink = 0;
  const gate = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < WARMUP; i++) {
    driver.echo(frames[seq++ & 255]!);
    if ((i & 63) === 0) stack.poll();
  }
  if (mode === "alloc") {
    const before = driver.replies;
    const { median, max } = allocPerEcho(driver, frames);
    const sent = ALLOC_WARMUP + ALLOC_ROUNDS * ALLOC_ECHOES;
    if (driver.replies - before !== sent) {
      throw new Error(`${sent - driver.replies + before} echoes not answered`);
    }
    line(JSON.stringify({ median, p99: max, sink: 0, warmups: 0 }));
    stack.close();
    return;
  }
  const n = mode === "warm" ? 5_000 : awayMs >= 50 ? 150 : 300;
  const times: number[] = [];
  const before = driver.replies;
  for (let i = 0; i < n; i++) {
    if (mode === "evict") sink += evict(big);
    if (mode === "sleep") await new Promise((r) => setTimeout(r, awayMs));
    else if (mode === "block") {
      away(performance.now() + awayMs, (ms) => Atomics.wait(gate, 0, 0, ms));
    } else if (mode === "spin") {
      away(performance.now() + awayMs, (ms) => {
        const until = performance.now() + ms;
        while (performance.now() < until);
      });
    } else if ((i & 63) === 0) stack.poll();
    times.push(driver.echo(frames[seq++ & 255]!));
  }
  const expected = n + (keep === "self" ? warmups : 0);
  if (driver.replies - before !== expected) {
    throw new Error(`${expected - driver.replies + before} echoes not answered`);
  }
  times.sort((a, b) => a - b);
  const p99 = percentile(times, 0.99);
  line(JSON.stringify({ median: median(times), p99, sink: sink & 1, warmups }));
  stack.close();
}

function fmt(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${median(s).toFixed(1)} (${s[0]!.toFixed(1)}-${s[s.length - 1]!.toFixed(1)})`;
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  let families: Family[] = [4];
  const f = args.indexOf("--family");
  if (f >= 0) {
    families = (args[f + 1] ?? "").split(",").map(Number) as Family[];
    if (families.length === 0 || families.some((x) => !FAMILIES.includes(x))) {
      throw new TypeError(`Unknown family ${args[f + 1]}: 4, 6 or 4,6`);
    }
    args.splice(f, 2);
  }
  if (args[0] === "--child") {
    const root = args[2] === undefined ? new URL("..", import.meta.url).href : `file://${args[2]}/`;
    return await child(parseMode(args[1]!), families[0]!, root);
  }
  const runs = Number(args[0] ?? 3);
  const modes = (args[1] ?? DEFAULT_MODES.join(",")).split(",");
  for (const m of modes) parseMode(m);
  const base = args[2];
  const trees: (string | undefined)[] = base === undefined ? [undefined] : [undefined, base];
  const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  line(`load ${load()} at ${new Date().toISOString()}`);
  const self = new URL(import.meta.url).pathname;
  for (const m of modes) {
    // Runs interleaved: each round runs every family in every tree once.
    const rows = families.flatMap((family) => trees.map((tree) => ({ family, tree })));
    const res = rows.map(() => ({ med: [] as number[], p99: [] as number[] }));
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < rows.length; i++) {
        const { family, tree } = rows[i]!;
        const args = ["run", "-A", "--no-check", self, "--child", m];
        if (tree !== undefined) args.push(tree);
        args.push("--family", String(family));
        const out = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
        if (!out.success) throw new Error(`child ${m} failed`);
        const j = JSON.parse(new TextDecoder().decode(out.stdout));
        res[i]!.med.push(j.median);
        res[i]!.p99.push(j.p99);
      }
    }
    const alloc = parseMode(m).mode === "alloc";
    rows.forEach(({ family, tree }, i) => {
      const r = res[i]!;
      const what = alloc
        ? `bytes/echo ${fmt(r.med)}, largest round ${fmt(r.p99)}`
        : `median ${fmt(r.med)} µs, p99 ${fmt(r.p99)} µs`;
      line(
        `${m.padEnd(18)} IPv${family} ${(tree ?? "this tree").padEnd(20)} ${what} (${runs} runs)`,
      );
    });
  }
  line(`load ${load()} at ${new Date().toISOString()}`);
}

await main();
