/**
 * The named scenarios whose capture bytes are pinned by `hashes.json`: each
 * builds its network from fixed seeds on virtual time and returns the bytes
 * of the capture file it records. `run.ts` runs one in its own process.
 *
 * @module
 */
import { runDemo } from "../../cli/demo.ts";
import { createStack, ManualClock } from "../../mod.ts";
import { PcapWriter, replayCapture, ReplayDriver } from "../../drivers/pcapfile/mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { pcapPath } from "../_fixtures.ts";
import { exchangeBoth, SOAK_FAULTS } from "../tcp/_transfer.ts";
import { runIpv6Lan } from "../ipv6/_lan.ts";

/** The faults of the TCP scenarios (those of tests/tcp/integrity_test.ts). */
const FAULTS = SOAK_FAULTS;

/** `cli.ts demo` with its defaults (seed 1, 3 hosts): the capture it writes. */
async function demo(): Promise<Uint8Array> {
  const r = await runDemo(["--out", "-"], () => {});
  if (r.code !== 0) throw new Error(`demo exited with ${r.code}`);
  return r.capture;
}

/**
 * 256 KiB each way between two stacks over a lossy, reordering, corrupting
 * link, IPv4 only: IPv6's autoconfiguration (DAD, RS, MLD) is left out, since
 * its frames would draw from the link's faults and move every loss.
 */
async function tcpUnderLoss(seed: number): Promise<Uint8Array> {
  const env = makeLink({
    seed,
    faults: FAULTS,
    capture: true,
    withoutPlugins: ["ndp", "mld", "slaac"],
  });
  try {
    const l = env.b.listen({ port: 9000 });
    await env.run(async () => {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: 9000 }),
        l.accept(),
      ]);
      await exchangeBoth(c, s, seed, 256 * 1024);
      c.close();
      s.close();
    }, { timeout: 3_600_000_000 });
    l.close();
    env.runFor(ms(200_000));
    const bytes = env.capture!.bytes().slice();
    env.finish();
    return bytes;
  } finally {
    env.close();
  }
}

/**
 * The fixture linux-probes/tun-curl4.pcap (Linux SYNs to a closed port)
 * replayed into a host at 10.77.0.2 on a `ManualClock`: the answers (RSTs)
 * it writes.
 */
async function replayCurl4(): Promise<Uint8Array> {
  const stack = createStack({ clock: new ManualClock(), seed: 1 });
  try {
    const driver = new ReplayDriver({ linkType: 101, mac: new Uint8Array([2, 0, 0, 0, 0, 2]) });
    stack.addInterface({ driver, addresses: ["10.77.0.2/24"] });
    const output = new PcapWriter({ linkType: 101 });
    const s = await replayCapture(pcapPath("linux-probes/tun-curl4.pcap"), {
      stack,
      drivers: [driver],
      output,
    });
    if (s.replayed === 0) throw new Error("nothing replayed");
    return output.bytes();
  } finally {
    stack.close();
  }
}

/** Every scenario by name. */
export const SCENARIOS: Readonly<Record<string, () => Promise<Uint8Array>>> = {
  "demo": demo,
  "tcp-loss-seed-1": () => tcpUnderLoss(1),
  "tcp-loss-seed-2": () => tcpUnderLoss(2),
  "tcp-loss-seed-3": () => tcpUnderLoss(3),
  "replay-tun-curl4": replayCurl4,
  // SLAAC from a virtual router, DAD, NDP, MLD, echoes, UDP and TCP over IPv6 (tests/ipv6/_lan.ts).
  "ipv6-lan": async () => (await runIpv6Lan(1, true)).capture!,
};
