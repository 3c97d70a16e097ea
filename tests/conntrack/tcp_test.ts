import assert from "node:assert/strict";
import { count } from "../routing/_topology.ts";
import {
  rows,
  tcpHeader,
  tcpState,
  tcpStateRecorder,
  trackedNet,
  transportPacket,
} from "./_conntrack.ts";

Deno.test("conntrack TCP: handshake, data and close move SYN_SENT → SYN_RECV → ESTABLISHED → … → TIME_WAIT", async () => {
  const seen: string[] = [];
  const n = trackedNet({}, [tcpStateRecorder(seen)]);
  const l = n.h3.listen({ port: 80 });
  await n.run(async () => {
    const [c, s] = await Promise.all([
      n.h1.connect({ hostname: "10.3.0.30", port: 80 }),
      l.accept(),
    ]);
    await c.write(new Uint8Array(3000));
    const buf = new Uint8Array(4096);
    let got = 0;
    while (got < 3000) got += (await s.read(buf)) ?? 0;
    await c.closeWrite(); // h1 closes first
    assert.equal(await s.read(buf), null);
    s.close();
    assert.equal(await c.read(buf), null);
    c.close();
  });
  assert.deepEqual(seen.slice(0, 3), [">S SYN_SENT", "<S. SYN_RECV", ">. ESTABLISHED"]);
  assert.deepEqual(seen.slice(-4), [
    ">.F FIN_WAIT",
    "<. CLOSE_WAIT",
    "<.F LAST_ACK",
    ">. TIME_WAIT",
  ]);
  assert.equal(tcpState(n.r1), "TIME_WAIT");
  assert.match(
    rows(n.r1)[0]!,
    /^tcp TIME_WAIT 10\.1\.0\.10:\d+>10\.3\.0\.30:80 10\.3\.0\.30:80>10\.1\.0\.10:\d+ \[ASSURED\]$/,
  );
  assert.equal(count(n.r1, "conntrack.track.invalid"), 0);
  l.close();
  n.finish();
});

/** Connects H1 to H3:80 through R1 and returns both ends, established. */
async function established(n: ReturnType<typeof trackedNet>) {
  const l = n.h3.listen({ port: 80 });
  const [c, s] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: "10.3.0.30", port: 80 }), l.accept()])
  );
  l.close();
  return { c, s };
}

Deno.test("conntrack TCP: an out-of-window RST is invalid and leaves ESTABLISHED; an in-window one closes", async () => {
  const n = trackedNet();
  const { c, s } = await established(n);
  assert.equal(tcpState(n.r1), "ESTABLISHED");
  const port = Number(rows(n.r1).find((r) => r.startsWith("tcp"))!.split(" ")[2]!.split(/[:>]/)[1]);
  // A RST "from H3" whose sequence number is a gigabyte away from the window.
  n.h3.sendRawIpv4(
    transportPacket("10.3.0.30", "10.1.0.10", 6, tcpHeader(80, port, 0x40000000, 0, 0x04)),
  );
  n.runFor(10_000);
  assert.equal(tcpState(n.r1), "ESTABLISHED");
  assert.equal(count(n.r1, "conntrack.track.invalid"), 1);
  // The connection still works both ways.
  await n.run(async () => {
    await c.write(new Uint8Array([1, 2, 3]));
    assert.equal(await s.read(new Uint8Array(8)), 3);
  });
  // H3 aborts (SO_LINGER 0): its RST is in the window.
  s.setLinger(0);
  s.close();
  n.runFor(10_000);
  assert.equal(tcpState(n.r1), "CLOSE");
  c.close();
  n.runFor(1_000_000);
  n.finish();
});

Deno.test("conntrack TCP: a segment of no known flow (no SYN) is passed untracked and counted invalid", () => {
  const n = trackedNet();
  n.h1.sendRawIpv4(transportPacket("10.1.0.10", "10.3.0.30", 6, tcpHeader(4000, 80, 1, 1, 0x10)));
  n.runFor(10_000);
  assert.deepEqual(rows(n.r1), []);
  // The ACK, and H3's RST answering it.
  assert.equal(count(n.r1, "conntrack.track.invalid"), 2);
  assert.equal(count(n.r1, "ipv4.fwd.forwarded") >= 1, true);
  n.finish();
});

Deno.test("conntrack TCP: ESTABLISHED lasts 5 days idle, TIME_WAIT 120 s (virtual time)", async () => {
  const n = trackedNet();
  const { c, s } = await established(n);
  n.runFor(4 * 86_400_000_000);
  assert.equal(tcpState(n.r1), "ESTABLISHED");
  n.runFor(86_400_000_000 + 1_000_000);
  assert.deepEqual(rows(n.r1).filter((r) => r.startsWith("tcp")), []);
  assert.equal(count(n.r1, "conntrack.track.expired") >= 1, true);
  c.close();
  s.close();
  n.runFor(1_000_000);
  n.finish();
});

Deno.test("conntrack TCP: TIME_WAIT expires after tcpTimeWaitTimeout", async () => {
  const n = trackedNet({ tcpTimeWaitTimeout: 5_000_000 });
  const { c, s } = await established(n);
  c.close();
  s.close();
  n.runFor(1_000_000);
  assert.equal(tcpState(n.r1), "TIME_WAIT");
  n.runFor(4_500_000);
  assert.deepEqual(rows(n.r1).filter((r) => r.startsWith("tcp")), []);
  n.runFor(200_000_000);
  n.finish();
});
