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
import { INTEROP_NEEDS, LINUX_ADDRESS, STACK_ADDRESS, withDevice } from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean, runTshark } from "../_tshark.ts";
import type { TcpConn } from "../../mod.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "curl", "socat", "tshark"];
const BODY = 50_000;

async function serve(conn: TcpConn): Promise<void> {
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  const body = new Uint8Array(BODY).fill(0x61);
  const msg = new TextEncoder().encode(
    `HTTP/1.0 200 OK\r\nContent-Length: ${BODY}\r\nConnection: close\r\n\r\n`,
  );
  for (const part of [msg, body]) {
    for (let off = 0; off < part.length;) off += await conn.write(part.subarray(off));
  }
  conn.close();
}

/** tshark rows: src, dst port, ECN field, ECE, CWR, SYN, ACK, payload length, retransmission. */
async function rows(pcap: string): Promise<string[][]> {
  const out = await runTshark(pcap, [
    "-Y",
    "tcp",
    "-T",
    "fields",
    "-e",
    "ip.src",
    "-e",
    "tcp.dstport",
    "-e",
    "ip.dsfield.ecn",
    "-e",
    "tcp.flags.ece",
    "-e",
    "tcp.flags.cwr",
    "-e",
    "tcp.flags.syn",
    "-e",
    "tcp.flags.ack",
    "-e",
    "tcp.len",
    "-e",
    "tcp.analysis.retransmission",
  ]);
  return out.trim().split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
}

const on = (v: string | undefined) => v === "1" || v === "True";

Deno.test(gated(NEEDS, {
  name: "tun ECN: Linux (tcp_ecn=1) ↔ stack: negotiated on SYN / SYN-ACK both ways, ECT(0) on data",
  async fn() {
    let pcapRows: string[][] = [];
    let clientEcn: boolean | undefined;
    await withDevice({
      mode: "tun",
      checkCapture: async (pcap) => {
        // Allowed: tcpdump on a loaded machine missing some of a burst.
        await assertTsharkClean(pcap, {
          allowWarnings: [
            /^ACKed segment that wasn't captured/,
            /^Previous segment.* not captured/,
          ],
        });
        pcapRows = await rows(pcap);
      },
    }, async (h) => {
      const sysctl = await h.exec(["sysctl", "-w", "net.ipv4.tcp_ecn=1"], 5);
      assert.equal(sysctl.code, 0, sysctl.stderr);
      // Linux → stack.
      const l = h.stack.listen({ port: 80 });
      const accepting = (async () => {
        for (;;) await serve(await l.accept());
      })().catch(() => {});
      const r = await h.exec([
        "curl",
        "-sS",
        "--noproxy",
        "*",
        "--max-time",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        `http://${STACK_ADDRESS}/`,
      ], 15);
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
      for (let i = 0; i < 50; i++) {
        const ss = await h.exec(["ss", "-ltnH", "sport = :7000"], 5);
        if (ss.stdout.trim() !== "") break;
        await new Promise((res) => setTimeout(res, 50));
      }
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
    assert.ok(
      stackData.length > 10 && stackData.every((r) => r[2] === "2"),
      `stack data ECT(0): ${stackData.filter((r) => r[2] !== "2").join(" / ")}`,
    );
    const stackBare = pcapRows.filter((r) => !linux(r) && r[7] === "0");
    assert.ok(stackBare.every((r) => r[2] === "0"), "stack SYNs and ACKs Not-ECT");
    const linuxData = pcapRows.filter((r) => linux(r) && r[7] !== "0" && fresh(r));
    assert.ok(linuxData.length > 0 && linuxData.every((r) => r[2] === "2"), "Linux data ECT(0)");
  },
}));
