/**
 * The iperf3 control protocol's framing, from the client's side, for the
 * tests that drive the iperf3 service by hand (iperf3_test, iperf3_review_test).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TcpConn } from "../../mod.ts";
import { bytes, readExactly } from "./_services.ts";

/** A JSON message as iperf3 frames it on the control connection: a 32-bit length, then the text. */
export function framed(json: unknown): Uint8Array {
  const body = bytes(JSON.stringify(json));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Reads one state byte from the control connection and checks it (`when` names the step). */
export async function expectState(conn: TcpConn, state: number, when = ""): Promise<void> {
  const [b] = await readExactly(conn, 1);
  assert.equal(b, state, `${when ? `${when}: ` : ""}state ${b}, expected ${state}`);
}

/** Reads one framed JSON message from the control connection. */
export async function readFramed(conn: TcpConn): Promise<Record<string, unknown>> {
  const len = new DataView((await readExactly(conn, 4)).buffer).getUint32(0);
  return JSON.parse(new TextDecoder().decode(await readExactly(conn, len)));
}
