import assert from "node:assert/strict";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  framesMatching,
  icmpEcho,
  makeLan,
  ms,
  withEnv,
} from "../_harness.ts";
import { assertTsharkClean, tsharkProblems } from "../_tshark.ts";
import { Ipv4SendFlags, type Ipv4Service } from "../../stack/services.ts";
import { gated } from "../_require.ts";

Deno.test(
  gated(["tshark"], {
    name:
      "tshark: a capture of ARP, pings and a broadcast echo has no malformed packets or bad checksums",
    fn: async () => {
      const lan = makeLan({
        hosts: 3,
        seed: 41,
        capture: { hosts: [0, 1, 2], transmit: true, receive: false },
        plugins: { icmp: { echoIgnoreBroadcasts: false } },
      });
      await withEnv(lan, async () => {
        const [h1, h2, h3] = lan.hosts;
        await lan.run(() => h1!.ping("10.0.0.2"));
        await lan.run(() => h3!.ping("10.0.0.1", { size: 1000 }));
        await lan.run(() => h2!.ping("10.0.0.2")); // to itself: never on the wire
        // A broadcast echo request, answered by the two other hosts.
        const ipv4 = h1!.service<Ipv4Service>("ipv4.send")!;
        const err = ipv4.send(
          h1!.pool.copyOf(icmpEcho({ identifier: 0x4242, sequence: 1 })),
          0,
          0xffffffff,
          1,
          0,
          Ipv4SendFlags.BROADCAST,
        );
        assert.equal(err, undefined);
        lan.runFor(ms(100));
        const frames = lan.capture!.frames();
        assert.equal(
          framesMatching(
            frames,
            checkEthernet({ dst: "ff:ff:ff:ff:ff:ff" }, checkIpv4({ dst: "255.255.255.255" })),
          ).length,
          1,
        );
        assert.equal(
          framesMatching(
            frames,
            checkEthernet(
              {},
              checkIpv4({ dst: "10.0.0.1" }, checkIcmp({ type: 0, identifier: 0x4242 })),
            ),
          ).length,
          2,
        );
        const path = await Deno.makeTempFile({ prefix: "netstack-lan-", suffix: ".pcap" });
        try {
          lan.capture!.writeFile(path);
          const r = await assertTsharkClean(path);
          assert.equal(r.frames, frames.length);
        } finally {
          await Deno.remove(path);
        }
      });
    },
  }),
);

Deno.test(
  gated(["tshark"], {
    name: "tshark: the checker flags a bad ICMP checksum in a capture",
    fn: async () => {
      const lan = makeLan({ hosts: 2, seed: 42, capture: true });
      await withEnv(lan, async () => {
        await lan.run(() => lan.hosts[0]!.ping("10.0.0.2"));
        // Corrupt the echo request's ICMP checksum in a copy of the file.
        const file = lan.capture!.bytes().slice();
        const frames = lan.capture!.records();
        const echo = frames.find((r) =>
          checkEthernet({}, checkIpv4({}, checkIcmp({ type: 8 }))).matches(r.data)
        )!;
        file[echo.fileOffset + 16 + 14 + 20 + 2]! ^= 0xff;
        const r = await tsharkProblems(file);
        assert.deepEqual(r.problems.map((p) => [p.frame, p.kind]), [[echo.index, "checksum"]]);
      });
    },
  }),
);
