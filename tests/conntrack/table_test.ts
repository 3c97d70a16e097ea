import assert from "node:assert/strict";
import { CONNTRACK_SERVICE, conntrackPlugin, type ConntrackService } from "../../mod.ts";
import { makeLink } from "../_harness.ts";
import { count } from "../routing/_topology.ts";
import { rows, trackedNet, transportPacket, udpHeader } from "./_conntrack.ts";

const enc = new TextEncoder();

Deno.test("conntrack table: 10,000 new UDP flows stay within maxEntries 4096; the oldest unreplied are dropped early", () => {
  const n = trackedNet({ maxEntries: 4096 });
  for (let i = 0; i < 10_000; i++) {
    const sport = 10_000 + i;
    n.h1.sendRawIpv4(
      transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(sport, 9), enc.encode("x")),
    );
    if (i % 100 === 99) n.runFor(1_000); // within the link's queues
  }
  n.runFor(10_000);
  const table = n.r1.conntrack();
  assert.equal(table.length, 4096);
  assert.equal(count(n.r1, "conntrack.track.new"), 10_000);
  assert.equal(count(n.r1, "conntrack.track.early_drop"), 10_000 - 4096);
  // The newest flows are the ones kept.
  assert.equal(Math.min(...table.map((r) => r.original.srcPort)), 10_000 + 10_000 - 4096);
  n.finish();
});

Deno.test("conntrack table: maxBytes bounds the estimated bytes as well", () => {
  const n = trackedNet({ maxBytes: 100_000 });
  for (let i = 0; i < 1000; i++) {
    n.h1.sendRawIpv4(transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(20_000 + i, 9)));
    if (i % 100 === 99) n.runFor(1_000);
  }
  n.runFor(10_000);
  const size = n.r1.conntrack().length;
  assert.ok(size > 50 && size < 1000, `${size} entries`);
  assert.equal(count(n.r1, "conntrack.track.early_drop"), 1000 - size);
  n.finish();
});

Deno.test("conntrack table: when every entry is assured, a new flow's packet is dropped (postrouting.table_full)", async () => {
  const n = trackedNet({ maxEntries: 2 });
  const server = n.h3.listenDatagram({ transport: "udp", port: 7 });
  const echo = (async () => {
    for (;;) {
      const [d, from] = await server.receive();
      await server.send(d, from);
    }
  })().catch(() => {});
  for (const port of [5001, 5002]) {
    const c = n.h1.listenDatagram({ transport: "udp", port });
    await n.run(async () => {
      await c.send(enc.encode("hi"), { transport: "udp", hostname: "10.3.0.30", port: 7 });
      await c.receive();
    });
    c.close();
  }
  assert.deepEqual(n.r1.conntrack().map((r) => r.flags), ["[ASSURED]", "[ASSURED]"]);
  n.h1.sendRawIpv4(
    transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(5003, 7), enc.encode("x")),
  );
  n.runFor(10_000);
  assert.equal(count(n.r1, "conntrack.postrouting.table_full"), 1);
  assert.equal(count(n.r1, "conntrack.track.early_drop"), 0);
  assert.equal(rows(n.r1).length, 2);
  server.close();
  await echo;
  n.finish();
});

Deno.test("conntrack on a host: its own IPv4 and IPv6 pings are tracked at output and confirmed", async () => {
  const env = makeLink({
    extraPlugins: [conntrackPlugin],
    addresses: [["10.0.0.1/24", "fd00::1/64"], ["10.0.0.2/24", "fd00::2/64"]],
  });
  env.runFor(3_000_000); // duplicate address detection
  await env.run(async () => {
    await env.a.ping("10.0.0.2");
    await env.a.ping("fd00::2");
  });
  const mine = env.a.conntrack().map((r) =>
    `${r.protocol} ${r.original.src}>${r.original.dst} ${r.flags}`
  );
  assert.deepEqual(mine.filter((r) => !r.startsWith("udp")), [
    "icmp 10.0.0.1>10.0.0.2 [ASSURED]",
    "icmpv6 fd00::1>fd00::2 [ASSURED]",
  ]);
  // B tracked the same flows from the other side (prerouting, input).
  assert.equal(env.b.conntrack().filter((r) => r.protocol.startsWith("icmp")).length, 2);
  env.finish();
});

Deno.test("conntrack.table checks its arguments (TypeError for a wrong type, RangeError out of range)", () => {
  const n = trackedNet();
  const ct = n.r1.service<ConntrackService>(CONNTRACK_SERVICE)!;
  assert.throws(() => ct.find(4, 17, { src: "x", srcPort: 1, dst: 2, dstPort: 3 }), TypeError);
  assert.throws(() => ct.find(4, 17, { src: 1, srcPort: 1.5, dst: 2, dstPort: 3 }), TypeError);
  assert.throws(() => ct.find(4, 17, { src: 1, srcPort: 70000, dst: 2, dstPort: 3 }), RangeError);
  assert.equal(ct.find(4, 17, { src: 1, srcPort: 1, dst: 2, dstPort: 3 }), null);
  assert.throws(
    () => ct.changeReply({} as never, { src: 1, srcPort: 1, dst: 2, dstPort: 3 }),
    TypeError,
  );
  assert.throws(() => ct.onRemove(42 as never), TypeError);
  assert.equal(ct.remove({} as never), false);
  n.finish();
});
