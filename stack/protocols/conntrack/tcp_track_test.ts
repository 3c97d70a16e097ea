import assert from "node:assert/strict";
import { TCP_CT_STATE_NAMES, TcpFlow, TcpMove } from "./tcp_track.ts";

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

/** A flow after SYN (seq 1000), SYN-ACK (seq 5000), ACK; windows 65535, no scaling. */
function established(): TcpFlow {
  const f = new TcpFlow();
  assert.equal(f.segment(0, SYN, 1000, 0, 65535, 0, -1, null, 0), TcpMove.OK);
  assert.equal(f.segment(1, SYN | ACK, 5000, 1001, 65535, 0, -1, null, 0), TcpMove.OK);
  assert.equal(f.segment(0, ACK, 1001, 5001, 65535, 0, -1, null, 0), TcpMove.OK);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "ESTABLISHED");
  assert.ok(f.assured);
  return f;
}

Deno.test("conntrack tcp ESTABLISHED + RST far outside the window → invalid, still ESTABLISHED", () => {
  const f = established();
  assert.equal(f.segment(1, RST, 5001 + 0x40000000, 0, 0, 0, -1, null, 0), TcpMove.INVALID);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "ESTABLISHED");
  assert.equal(f.segment(1, RST, 5001, 0, 0, 0, -1, null, 0), TcpMove.OK);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "CLOSE");
});

Deno.test("conntrack tcp ESTABLISHED + data beyond the receiver's window → invalid", () => {
  const f = established();
  assert.equal(f.segment(0, ACK, 1001 + 200_000, 5001, 65535, 100, -1, null, 0), TcpMove.INVALID);
  assert.equal(f.segment(0, ACK, 1001, 5001, 65535, 1000, -1, null, 0), TcpMove.OK);
  // An acknowledgment of data never sent is invalid too.
  assert.equal(f.segment(1, ACK, 5001, 1001 + 50_000, 65535, 0, -1, null, 0), TcpMove.INVALID);
});

Deno.test("conntrack tcp close: FIN, ACK, FIN, ACK → FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT; a new SYN reopens", () => {
  const f = established();
  const names: string[] = [];
  for (
    const [dir, flags, seq, ack] of [[0, FIN | ACK, 1001, 5001], [1, ACK, 5001, 1002], [
      1,
      FIN | ACK,
      5001,
      1002,
    ], [0, ACK, 1002, 5002]] as const
  ) {
    assert.equal(f.segment(dir, flags, seq, ack, 65535, 0, -1, null, 0), TcpMove.OK);
    names.push(TCP_CT_STATE_NAMES[f.state]!);
  }
  assert.deepEqual(names, ["FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT"]);
  assert.equal(f.segment(0, SYN, 9000, 0, 65535, 0, -1, null, 0), TcpMove.REOPEN);
});

Deno.test("conntrack tcp: window scaling applies only when both SYNs carry the option", () => {
  const f = new TcpFlow();
  f.segment(0, SYN, 1, 0, 1000, 0, 7, null, 0);
  f.segment(1, SYN | ACK, 100, 2, 1000, 0, 7, null, 0);
  f.segment(0, ACK, 2, 101, 1000, 0, -1, null, 0);
  // A window field of 1000 scaled by 2^7 (128,000): a segment 50 KB ahead starts inside it.
  assert.equal(f.segment(1, ACK, 101 + 50_000, 2, 1000, 100, -1, null, 0), TcpMove.OK);
  const g = new TcpFlow();
  g.segment(0, SYN, 1, 0, 1000, 0, 7, null, 0);
  g.segment(1, SYN | ACK, 100, 2, 1000, 0, -1, null, 0); // no option: no scaling
  g.segment(0, ACK, 2, 101, 1000, 0, -1, null, 0);
  assert.equal(g.segment(1, ACK, 101 + 50_000, 2, 1000, 100, -1, null, 0), TcpMove.INVALID);
});

Deno.test("conntrack tcp: a SYN-ACK nobody asked for and a segment with no flags are invalid", () => {
  const f = new TcpFlow();
  assert.equal(f.segment(0, SYN | ACK, 1, 1, 1000, 0, -1, null, 0), TcpMove.INVALID);
  const g = established();
  assert.equal(g.segment(0, 0, 1001, 0, 1000, 0, -1, null, 0), TcpMove.INVALID);
});

/** An established flow where the client sent 20,000 bytes and the server acknowledged them. */
function afterBulk(): TcpFlow {
  const f = established();
  assert.equal(f.segment(0, ACK, 1001, 5001, 65535, 20000, -1, null, 0), TcpMove.OK);
  assert.equal(f.segment(1, ACK, 5001, 21001, 65535, 0, -1, null, 0), TcpMove.OK);
  return f;
}

Deno.test("conntrack tcp ESTABLISHED + RST below the peer's highest ACK → invalid, still ESTABLISHED", () => {
  const f = afterBulk();
  // The server acknowledged 21001: a client RST at 11001 is old (Linux: "invalid rst").
  assert.equal(f.segment(0, RST, 11001, 0, 0, 0, -1, null, 0), TcpMove.INVALID);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "ESTABLISHED");
});

Deno.test("conntrack tcp ESTABLISHED + in-window RST not at the peer's ACK → accepted, still ESTABLISHED (RFC 5961)", () => {
  const f = afterBulk();
  assert.equal(f.segment(0, RST, 21001 + 30000, 0, 0, 0, -1, null, 0), TcpMove.OK);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "ESTABLISHED");
  // Exactly at the server's ACK: closes.
  assert.equal(f.segment(0, RST, 21001, 0, 0, 0, -1, null, 0), TcpMove.OK);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "CLOSE");
});

Deno.test("conntrack tcp ESTABLISHED + data then RST right after it (a RST train) → CLOSE", () => {
  const f = afterBulk();
  // The server sends 100 bytes the client has not acknowledged yet, then resets.
  assert.equal(f.segment(1, ACK, 5001, 21001, 65535, 100, -1, null, 0), TcpMove.OK);
  assert.equal(f.segment(1, RST, 5101, 0, 0, 0, -1, null, 0), TcpMove.OK);
  assert.equal(TCP_CT_STATE_NAMES[f.state], "CLOSE");
});
