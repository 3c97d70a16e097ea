/**
 * A Fast Open SYN carrying more data than the default MSS (536, what the
 * connection's send MSS is until the SYN-ACK): the client sizes the data to
 * the server's cached MSS, and the SYN goes out as one segment with a whole
 * checksum. It was marked a TSO super-segment (`gsoSize` 536, the checksum
 * left partial without the in-memory mark that vouches for it): the server
 * counted a bad checksum, dropped the SYN, and never took Fast Open data
 * above 536 bytes (session 12's audit).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { fastOpenRequest } from "./_tcp.ts";

for (const size of [537, 1000, 1400]) {
  Deno.test(`tcp Fast Open: a SYN with ${size} bytes of data is one whole segment, taken by the server`, async () => {
    const env = makeLink({ seed: 44, faults: { delay: ms(5) }, capture: true });
    await env.run(() => env.a.ping("10.0.0.2"));
    const l = env.b.listen({ port: 80, fastOpen: 4 });
    for (const data of ["cookie, please", "y".repeat(size)]) {
      await fastOpenRequest(env, l, data);
    }
    const b = env.b.counters;
    assert.equal(b.value("tcp.rx.bad_checksum"), 0);
    assert.equal(b.value("tcp.tfo_syn_data_accepted"), 1, "the second SYN's data taken");
    assert.equal(env.a.counters.value("tcp.tfo_fallback"), 0, "nothing sent again");
    // On the wire: one SYN with all the data (IPv4 total length = 20 + TCP header + data).
    const syns = env.capture!.frames().filter((f) =>
      f.length > 54 && f[23] === 6 && (f[47]! & 0x12) === 0x02
    );
    const withData = syns.filter((f) => ((f[16]! << 8) | f[17]!) - 20 - (f[46]! >> 4) * 4 > 0);
    assert.equal(withData.length, 1);
    const f = withData[0]!;
    assert.equal(((f[16]! << 8) | f[17]!) - 20 - (f[46]! >> 4) * 4, size);
    l.close();
    env.runFor(ms(70_000));
    env.finish();
  });
}
