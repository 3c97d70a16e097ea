import assert from "node:assert/strict";
import { tcpHeader, transportPacket } from "../conntrack/_conntrack.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

/** P's next sequence number and the public port of its last TCP segment from port 9000 (read from P's capture). */
function lastFromP(frames: readonly Uint8Array[]): { sndNxt: number; port: number } {
  const fromP = frames.filter((f) =>
    f[23] === 6 && f[26] === 198 && f[29] === 10 && ((f[34]! << 8) | f[35]!) === 9000
  );
  const last = fromP[fromP.length - 1]!;
  const dv = new DataView(last.buffer, last.byteOffset);
  const dataLen = dv.getUint16(16) - 20 - ((last[46]! >> 4) << 2);
  return { sndNxt: (dv.getUint32(38) + dataLen) >>> 0, port: dv.getUint16(36) };
}

Deno.test("nat TCP ESTABLISHED + spoofed RSTs from outside (old, and in-window but not exact) → the flow and its mapping stay", async () => {
  const n = makeNatNet();
  const l = n.p.listen({ port: 9000 });
  const [c, s] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: P, port: 9000 }), l.accept()])
  );
  await n.run(async () => {
    await s.write(new Uint8Array(20000));
    const b = new Uint8Array(65536);
    let got = 0;
    while (got < 20000) got += (await c.read(b))!;
  });
  n.runFor(1_000_000);
  const { sndNxt, port } = lastFromP(n.far.frames());
  const invalid = count(n.nat, "conntrack.track.invalid");
  // Below what H1 acknowledged: an old RST (Linux: "invalid rst").
  n.p.sendRawIpv4(
    transportPacket(P, PUBLIC, 6, tcpHeader(9000, port, (sndNxt - 5000) >>> 0, 0, 0x04)),
  );
  n.runFor(10_000);
  assert.deepEqual(n.nat.conntrack().map((r) => r.state), ["ESTABLISHED"]);
  assert.equal(count(n.nat, "conntrack.track.invalid"), invalid + 1);
  // In the window but not at H1's ACK: H1 answers with a challenge ACK (RFC 5961 §3.2); the flow stays.
  n.p.sendRawIpv4(
    transportPacket(P, PUBLIC, 6, tcpHeader(9000, port, (sndNxt + 1000) >>> 0, 0, 0x04)),
  );
  n.runFor(10_000);
  assert.deepEqual(n.nat.conntrack().map((r) => r.state), ["ESTABLISHED"]);
  n.runFor(20_000_000); // past the CLOSE timeout (10 s)
  await n.run(async () => {
    await s.write(new Uint8Array([1, 2, 3]));
    assert.equal(await c.read(new Uint8Array(8)), 3);
  });
  c.close();
  s.close();
  l.close();
  n.runFor(200_000_000);
  n.finish();
});
