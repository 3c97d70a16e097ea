// deno-lint-ignore-file no-console -- run as a script, it prints packets per second
/**
 * Replay throughput: 200 000 ICMP echo requests (raw IPv4, 84 bytes each,
 * 10 µs apart), generated in memory as a pcap, replayed as fast as possible
 * into a host that answers every one; the answers go to an in-memory pcap
 * writer. With and without per-packet accounting (the stack's trace), and
 * the decoders on the same packets.
 *
 * `deno task bench` reports the time per replay (divide 200 000 by it);
 * `deno run -A bench/replay_bench.ts` prints packets per second directly.
 */
import { createStack, finishChecksum, ManualClock, sumBytes } from "../mod.ts";
import {
  parseCapture,
  PcapWriter,
  replayCapture,
  ReplayDriver,
  type ReplaySummary,
} from "../drivers/pcapfile/mod.ts";
import { median } from "./_stats.ts";
import { decodeFrame } from "../stack/wire/decode.ts";
import { describeFrame } from "../stack/wire/pretty.ts";

const COUNT = 200_000;
const T0 = 1_700_000_000_000_000;

/** The pcap of `COUNT` echo requests 10.0.0.1 -> 10.0.0.2, id 1, seq 0.. */
function echoRequests(): Uint8Array {
  const w = new PcapWriter({ linkType: 101 });
  const p = new Uint8Array(84);
  p.set([0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  const ck = finishChecksum(sumBytes(p.subarray(0, 20)));
  p[10] = ck >> 8;
  p[11] = ck & 0xff;
  for (let i = 28; i < 84; i++) p[i] = i;
  for (let seq = 0; seq < COUNT; seq++) {
    p[20] = 8;
    p[21] = 0;
    p[22] = p[23] = 0;
    p[24] = 0;
    p[25] = 1;
    p[26] = seq >> 8;
    p[27] = seq & 0xff;
    const c = finishChecksum(sumBytes(p.subarray(20)));
    p[22] = c >> 8;
    p[23] = c & 0xff;
    w.write({ timestamp: T0 + seq * 10, data: p });
  }
  return w.bytes();
}

const FILE = echoRequests();

async function replayOnce(accounting: boolean, write = true): Promise<ReplaySummary> {
  const stack = createStack({ clock: new ManualClock(), seed: 1 });
  const tun = new ReplayDriver({ linkType: 101 });
  stack.addInterface({ driver: tun, addresses: ["10.0.0.2/24"] });
  const output = write ? { output: new PcapWriter({ linkType: 101 }) } : {};
  const s = await replayCapture(FILE, { stack, drivers: [tun], accounting, ...output });
  stack.close();
  if (s.sent !== COUNT) throw new Error(`expected ${COUNT} echo replies, got ${s.sent}`);
  return s;
}

Deno.bench(`replay ${COUNT} ICMP echo requests, answered, accounting on (per replay)`, {
  group: "replay",
  baseline: true,
  n: 5,
  warmup: 1,
}, async () => {
  await replayOnce(true);
});

Deno.bench(`replay ${COUNT} ICMP echo requests, answered, accounting off (per replay)`, {
  group: "replay",
  n: 5,
  warmup: 1,
}, async () => {
  await replayOnce(false);
});

Deno.bench(`replay ${COUNT} ICMP echo requests, answered, no accounting, no output (per replay)`, {
  group: "replay",
  n: 5,
  warmup: 1,
}, async () => {
  await replayOnce(false, false);
});

const RECORDS = parseCapture(FILE).records.slice(0, 10_000);
let at = 0;

Deno.bench("decodeFrame() of an echo request (per packet)", { group: "decode" }, () => {
  decodeFrame(RECORDS[at++ % RECORDS.length]!.data, 101);
});

Deno.bench("describeFrame() of an echo request (per packet)", { group: "decode" }, () => {
  describeFrame(RECORDS[at++ % RECORDS.length]!.data, 101);
});

if (import.meta.main) {
  const cases = [
    ["accounting on,  answers written to a pcap", true, true],
    ["accounting off, answers written to a pcap", false, true],
    ["accounting off, answers not written      ", false, false],
  ] as const;
  for (const [what, accounting, write] of cases) {
    await replayOnce(accounting, write); // warm up
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) ms.push((await replayOnce(accounting, write)).wallTime);
    const rate = (t: number) => Math.round(COUNT / t * 1000).toLocaleString("en");
    console.log(
      `replay, ${what}: ${COUNT} packets in ${median(ms).toFixed(0)} ms (median of 5), ` +
        `${rate(median(ms))} packets/s (${rate(Math.max(...ms))}–${rate(Math.min(...ms))})`,
    );
  }
}
