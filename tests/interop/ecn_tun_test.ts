/**
 * ECN (RFC 3168) against Linux over a real TUN device, with
 * `net.ipv4.tcp_ecn=1` set inside the test's namespace only (the sysctl is
 * per network namespace):
 *
 * - Linux → stack: curl's SYN asks for ECN (ECE+CWR), the stack's SYN-ACK
 *   agrees (ECE alone: accepted by default), and the data both ways is
 *   ECT(0) while pure ACKs and SYNs are Not-ECT.
 * - stack → Linux: `connect({ ecn: true })` sends ECE+CWR, Linux's SYN-ACK
 *   answers ECE, and the connection reports `ecn`.
 *
 * The tcpdump capture of the device is read back with tshark
 * (`ip.dsfield.ecn`, `tcp.flags.ece`, `tcp.flags.cwr`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  STACK_ADDRESS,
  waitListening,
  withDevice,
} from "./_netns.ts";
import { acceptEach, curlSize, serveHttp, setSysctl } from "./_tcp_interop.ts";
import { gated, type Requirement } from "../_require.ts";
import {
  assertTsharkClean,
  CAPTURE_GAP_WARNINGS,
  tsharkRows,
  tsharkTrue as on,
} from "../_tshark.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "curl", "socat", "tshark"];
const BODY = 50_000;

/** tshark rows: src, dst port, ECN field, ECE, CWR, SYN, ACK, payload length, retransmission. */
function rows(pcap: string): Promise<string[][]> {
  return tsharkRows(pcap, "tcp", [
    "ip.src",
    "tcp.dstport",
    "ip.dsfield.ecn",
    "tcp.flags.ece",
    "tcp.flags.cwr",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.len",
    "tcp.analysis.retransmission",
  ]);
}

Deno.test(gated(NEEDS, {
  name: "tun ECN: Linux (tcp_ecn=1) ↔ stack: negotiated on SYN / SYN-ACK both ways, ECT(0) on data",
  async fn() {
    let pcapRows: string[][] = [];
    let clientEcn: boolean | undefined;
    await withDevice({
      mode: "tun",
      checkCapture: async (pcap) => {
        // Allowed: tcpdump on a loaded machine missing some of a burst.
        await assertTsharkClean(pcap, { allowWarnings: CAPTURE_GAP_WARNINGS });
        pcapRows = await rows(pcap);
      },
    }, async (h) => {
      await setSysctl(h, "net.ipv4.tcp_ecn=1");
      // Linux → stack.
      const l = h.stack.listen({ port: 80 });
      const body = new Uint8Array(BODY).fill(0x61);
      const accepting = acceptEach(l, (conn) => serveHttp(conn, body));
      const r = await h.exec(curlSize(`http://${STACK_ADDRESS}/`), 15);
      assert.equal(r.stdout.trim(), String(BODY), r.stderr);
      l.close();
      await accepting;
      // stack → Linux: socat reads a line, answers one and closes.
      const server = h.exec([
        "socat",
        "-T",
        "5",
        "TCP-LISTEN:7000,reuseaddr",
        "SYSTEM:read line; echo hello-from-linux",
      ], 10);
      // Connect once socat listens (an earlier SYN would be refused with a RST).
      await waitListening(h.netns, 7000);
      const conn = await h.stack.connect({ hostname: LINUX_ADDRESS, port: 7000, ecn: true });
      clientEcn = h.stack.sockets().find((s) => s.remote === `${LINUX_ADDRESS}:7000`)?.ecn;
      await conn.write(new TextEncoder().encode("hello-from-stack\n"));
      const buf = new Uint8Array(100);
      let text = "";
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.equal(text.trim(), "hello-from-linux");
      conn.close();
      await server;
    });
    assert.equal(clientEcn, true, "the stack's connection to Linux uses ECN");
    const linux = (r: string[]) => r[0] === LINUX_ADDRESS;
    const synOnly = (r: string[]) => on(r[5]) && !on(r[6]);
    const synAck = (r: string[]) => on(r[5]) && on(r[6]);
    // Linux → stack :80.
    const toHttp = pcapRows.filter((r) => (linux(r) ? r[1] === "80" : true));
    const linuxSyn = pcapRows.find((r) => linux(r) && r[1] === "80" && synOnly(r));
    assert.ok(
      linuxSyn && on(linuxSyn[3]) && on(linuxSyn[4]),
      `Linux SYN with ECE+CWR: ${linuxSyn}`,
    );
    const stackSynAck = pcapRows.find((r) => !linux(r) && synAck(r) && r[1] !== "7000");
    assert.ok(
      stackSynAck && on(stackSynAck[3]) && !on(stackSynAck[4]),
      `SYN-ACK ECE: ${stackSynAck}`,
    );
    assert.ok(toHttp.length > 0);
    // stack → Linux :7000.
    const stackSyn = pcapRows.find((r) => !linux(r) && r[1] === "7000" && synOnly(r));
    assert.ok(
      stackSyn && on(stackSyn[3]) && on(stackSyn[4]),
      `stack SYN with ECE+CWR: ${stackSyn}`,
    );
    const linuxSynAck = pcapRows.find((r) => linux(r) && synAck(r));
    assert.ok(
      linuxSynAck && on(linuxSynAck[3]) && !on(linuxSynAck[4]),
      `Linux SYN-ACK ECE: ${linuxSynAck}`,
    );
    // ECT(0) on the stack's data, Not-ECT on its SYNs and pure ACKs.
    // Retransmissions (a real-time run may have some) are Not-ECT (§6.1.5).
    const fresh = (r: string[]) => (r[8] ?? "") === "";
    const stackData = pcapRows.filter((r) => !linux(r) && r[7] !== "0" && fresh(r));
    const stackRetrans = pcapRows.filter((r) => !linux(r) && r[7] !== "0" && !fresh(r));
    assert.ok(stackRetrans.every((r) => r[2] === "0"), "retransmissions Not-ECT");
    // At least one: tcpdump on a loaded machine may miss most of a burst (CI once kept <= 10 of ~35).
    assert.ok(
      stackData.length > 0,
      `no data segment of the stack's in the capture (${pcapRows.length} rows)`,
    );
    assert.ok(
      stackData.every((r) => r[2] === "2"),
      `stack data ECT(0): ${stackData.filter((r) => r[2] !== "2").join(" / ")}`,
    );
    const stackBare = pcapRows.filter((r) => !linux(r) && r[7] === "0");
    assert.ok(stackBare.every((r) => r[2] === "0"), "stack SYNs and ACKs Not-ECT");
    const linuxData = pcapRows.filter((r) => linux(r) && r[7] !== "0" && fresh(r));
    assert.ok(linuxData.length > 0 && linuxData.every((r) => r[2] === "2"), "Linux data ECT(0)");
  },
}));
