/**
 * TCP Fast Open against Linux over a real TUN device: a Linux client
 * (`net.ipv4.tcp_fastopen=1`, set inside the test's namespace only) sends
 * with `MSG_FASTOPEN` from Python twice to a listener with `fastOpen`: the
 * first SYN asks for a cookie, the second carries the cookie and the request
 * in the SYN, which the stack takes and acknowledges in its SYN-ACK. Both
 * requests are answered exactly once. Checked in the tcpdump capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { INTEROP_NEEDS, STACK_ADDRESS, withDevice } from "./_netns.ts";
import { acceptEach, readUntil, setSysctl } from "./_tcp_interop.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean, CAPTURE_GAP_WARNINGS, tsharkRows } from "../_tshark.ts";
import type { TcpConn } from "../../mod.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];

const CLIENT = `
import socket
for i in range(2):
    s = socket.socket()
    # Blocking: with a timeout, sendto() with MSG_FASTOPEN returns EINPROGRESS.
    s.sendto(b"hello %d\\n" % i, socket.MSG_FASTOPEN, ("${STACK_ADDRESS}", 80))
    s.settimeout(5)
    print(s.recv(100).decode().strip())
    s.close()
`;

/** Echoes one line back, upper-cased, then closes. */
async function echo(conn: TcpConn): Promise<void> {
  const line = await readUntil(conn, "\n");
  await conn.write(new TextEncoder().encode(line.toUpperCase()));
  conn.close();
}

Deno.test(gated(NEEDS, {
  name:
    "tun Fast Open: Linux client (tcp_fastopen=1, MSG_FASTOPEN) → stack: the second SYN carries the data",
  async fn() {
    let rows: string[][] = [];
    let accepted = -1;
    await withDevice({
      mode: "tun",
      checkCapture: async (pcap) => {
        await assertTsharkClean(pcap, { allowWarnings: CAPTURE_GAP_WARNINGS });
        rows = await tsharkRows(pcap, "tcp.flags.syn == 1", [
          "ip.src",
          "tcp.flags.ack",
          "tcp.len",
          "tcp.option_kind",
          "tcp.ack",
        ]);
      },
    }, async (h) => {
      await setSysctl(h, "net.ipv4.tcp_fastopen=1");
      const l = h.stack.listen({ port: 80, fastOpen: 8 });
      const serving = acceptEach(l, echo);
      const r = await h.exec(["/usr/bin/python3", "-c", CLIENT], 20);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), ["HELLO 0", "HELLO 1"]);
      accepted = h.stack.counters.get("tcp.tfo_syn_data_accepted").value;
      l.close();
      await serving;
    });
    assert.equal(accepted, 1, "one SYN's data taken");
    const linuxSyns = rows.filter((r) => r[0] !== STACK_ADDRESS && r[1] === "0");
    assert.equal(linuxSyns.length, 2, rows.join("\n"));
    const has34 = (r: string[]) => (r[3] ?? "").split(",").includes("34");
    assert.ok(has34(linuxSyns[0]!) && linuxSyns[0]![2] === "0", `cookie request: ${linuxSyns[0]}`);
    assert.ok(has34(linuxSyns[1]!) && linuxSyns[1]![2] === "8", `SYN with data: ${linuxSyns[1]}`);
    const synAcks = rows.filter((r) => r[0] === STACK_ADDRESS && r[1] === "1");
    assert.ok(has34(synAcks[0]!), `the first SYN-ACK carries a cookie: ${synAcks[0]}`);
    assert.equal(synAcks[1]![4], "9", "the second SYN-ACK acknowledges SYN + 8 bytes");
  },
}));
