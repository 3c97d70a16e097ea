import assert from "node:assert/strict";
import { describeFrame } from "../../stack/wire/pretty.ts";
import { makeLan, makeLink, withEnv } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { tsharkUdpFields } from "./_uso.ts";
import { gated } from "../_require.ts";

const enc = new TextEncoder();

/** tshark's view of each UDP datagram: "src.port > dst.port len N checksum S". */
async function tsharkUdp(pcap: Uint8Array): Promise<string[]> {
  const fields = ["ip.src", "udp.srcport", "ip.dst", "udp.dstport", "udp.length"];
  const rows = await tsharkUdpFields(pcap, [...fields, "udp.checksum.status"]);
  return rows.map(([src, sport, dst, dport, len, status]) =>
    `${src}.${sport} > ${dst}.${dport} len ${len} checksum ${status}`
  );
}

Deno.test(
  gated(["tshark"], {
    name: "udp echo capture opens cleanly in tshark with good checksums",
    fn: async () => {
      await withEnv(makeLink({ seed: 4, capture: true }), async (env) => {
        const server = env.b.listenDatagram({ transport: "udp", port: 7 });
        const client = env.a.listenDatagram({ transport: "udp", port: 33333 });
        await env.run(async () => {
          const echo = (async () => {
            for await (const [data, from] of server) await server.send(data, from);
          })();
          for (const n of [0, 1, 2, 3, 100, 1472]) {
            await client.send(new Uint8Array(n).fill(n & 0xff), { hostname: "10.0.0.2", port: 7 });
            await client.receive();
          }
          server.close();
          await echo;
        });
        client.close();
        const pcap = env.capture!.bytes();
        // The stack's own printer agrees with tcpdump's -q format.
        const lines = env.capture!.frames().map((f) => describeFrame(f, 1)).filter((l) =>
          l.includes("UDP")
        );
        assert.equal(lines[0], "IP 10.0.0.1.33333 > 10.0.0.2.7: UDP, length 0");
        assert.equal(lines.at(-1), "IP 10.0.0.2.7 > 10.0.0.1.33333: UDP, length 1472");
        await assertTsharkClean(pcap);
        const seen = await tsharkUdp(pcap);
        const expected: string[] = [];
        for (const n of [0, 1, 2, 3, 100, 1472]) {
          expected.push(`10.0.0.1.33333 > 10.0.0.2.7 len ${n + 8} checksum 1`);
          expected.push(`10.0.0.2.7 > 10.0.0.1.33333 len ${n + 8} checksum 1`);
        }
        assert.deepEqual(seen, expected);
      });
    },
  }),
);

Deno.test(
  gated(["tshark"], {
    name: "udp broadcast and port-unreachable capture opens cleanly in tshark",
    fn: async () => {
      await withEnv(makeLan({ hosts: 3, seed: 9, capture: true }), async (env) => {
        const [a, b] = env.hosts;
        const sender = a!.listenDatagram({ transport: "udp", broadcast: true });
        const listener = b!.listenDatagram({ transport: "udp", port: 40123 });
        await env.run(async () => {
          await sender.send(enc.encode("who is there"), { hostname: "10.0.0.255", port: 40123 });
          await listener.receive();
          await sender.send(enc.encode("closed"), { hostname: "10.0.0.3", port: 40124 });
        });
        env.runFor(100_000);
        sender.close();
        listener.close();
        await assertTsharkClean(env.capture!.bytes());
      });
    },
  }),
);
