/**
 * The scenarios `close_like_deno_test.ts` runs on real Deno sockets
 * (`_deno_close_probe.ts`) and on ours: one sequence of calls over
 * {@linkcode CaseNet}, which each side implements, so both run exactly the
 * same steps and write their outcomes in the same form.
 *
 * @module
 */

/** Scenario names, the keys of both sides' results. */
export const CASES = {
  pendingRead: "tcp: a read waiting when the conn is closed",
  pendingWrite: "tcp: a write waiting when the conn is closed",
  readAfter: "tcp: read after close",
  writeAfter: "tcp: write after close",
  closeWriteAfter: "tcp: closeWrite after close",
  closeTwice: "tcp: close twice",
  pendingAccept: "tcp: an accept waiting when the listener is closed",
  acceptAfter: "tcp: accept after close",
  forAwaitListener: "tcp: for await over a listener, closed",
  pendingReceive: "udp: a receive waiting when the socket is closed",
  receiveAfter: "udp: receive after close",
  sendAfter: "udp: send after close",
  forAwaitDatagram: "udp: for await over a DatagramConn, closed",
  pendingReadReset: "tcp: a read waiting when the peer resets",
  readAfterReset: "tcp: read after the peer reset",
} as const;

/** What the scenarios use of a connection (Deno's `TcpConn` and ours both have it). */
export interface CaseConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** What the scenarios use of a listener. */
export interface CaseListener extends AsyncIterable<unknown> {
  accept(): Promise<unknown>;
  close(): void;
}

/** What the scenarios use of a datagram socket. */
export interface CaseDatagram extends AsyncIterable<unknown> {
  receive(): Promise<unknown>;
  send(p: Uint8Array, to: { transport: "udp"; hostname: string; port: number }): Promise<number>;
  close(): void;
}

/** One side's sockets: real Deno on loopback, or ours on a virtual link. */
export interface CaseNet {
  /** The peer's address, for sends. */
  readonly peer: string;
  /** A connected pair; `done` closes what else it opened (`s` included). */
  pair(): Promise<{ c: CaseConn; s: CaseConn; done: () => void }>;
  /** A pair whose other end `reset()` aborts with an RST (SO_LINGER 0); `done` closes `s` too. */
  pairToReset(): Promise<{ s: CaseConn; reset: () => Promise<void>; done: () => void }>;
  /** A new listener. */
  listen(): CaseListener;
  /** A new datagram socket. */
  listenDatagram(): CaseDatagram;
  /** Lets `ms` milliseconds pass. */
  sleep(ms: number): Promise<void>;
}

/**
 * How a call ended: `"ok"` (resolved, or a loop that ended), or the
 * error's class and message (`"Interrupted: operation canceled"`).
 *
 * @example
 * ```ts
 * import { outcome } from "./_close_cases.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await outcome(Promise.reject(new Deno.errors.BadResource("x"))), "BadResource: x");
 * assert.equal(await outcome(Promise.resolve(3)), "ok");
 * ```
 */
export function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "ok",
    (e) => e instanceof Error ? `${e.constructor.name}: ${e.message}` : `thrown ${String(e)}`,
  );
}

/**
 * The class part of an outcome (`"Interrupted"`, `"ok"`).
 *
 * @example
 * ```ts
 * import { errorClass } from "./_close_cases.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorClass("BadResource: Bad resource ID"), "BadResource");
 * ```
 */
export function errorClass(o: string): string {
  return o.split(":")[0]!;
}

/** Loops over `it` until it ends (nothing arrives here). */
async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) { /* none come */ }
}

/**
 * Runs every scenario of {@linkcode CASES} on `net`, in order; each
 * scenario's outcome by its name.
 */
export async function runCases(net: CaseNet): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  {
    const { c, done } = await net.pair();
    const read = outcome(c.read(new Uint8Array(10)));
    await net.sleep(10);
    c.close();
    out[CASES.pendingRead] = await read;
    out[CASES.readAfter] = await outcome(c.read(new Uint8Array(1)));
    out[CASES.writeAfter] = await outcome(c.write(new Uint8Array(1)));
    out[CASES.closeWriteAfter] = await outcome(c.closeWrite());
    out[CASES.closeTwice] = await outcome(Promise.resolve().then(() => c.close()));
    done();
  }
  {
    // The peer reads nothing: a write waits once windows and buffers are full.
    const { c, done } = await net.pair();
    const big = new Uint8Array(16 << 20);
    let write: Promise<string> | undefined;
    for (let i = 0; i < 64 && write === undefined; i++) {
      let settled = false;
      const w = c.write(big).finally(() => settled = true);
      await net.sleep(20);
      if (!settled) write = outcome(w);
    }
    c.close();
    out[CASES.pendingWrite] = write === undefined ? "never waited" : await write;
    done();
  }
  {
    const l = net.listen();
    const accept = outcome(l.accept());
    await net.sleep(10);
    l.close();
    out[CASES.pendingAccept] = await accept;
    out[CASES.acceptAfter] = await outcome(l.accept());
    const l2 = net.listen();
    const loop = outcome(drain(l2));
    await net.sleep(10);
    l2.close();
    out[CASES.forAwaitListener] = await loop;
  }
  {
    const u = net.listenDatagram();
    const receive = outcome(u.receive());
    await net.sleep(10);
    u.close();
    out[CASES.pendingReceive] = await receive;
    out[CASES.receiveAfter] = await outcome(u.receive());
    out[CASES.sendAfter] = await outcome(
      u.send(new Uint8Array(1), { transport: "udp", hostname: net.peer, port: 9 }),
    );
    const u2 = net.listenDatagram();
    const loop = outcome(drain(u2));
    await net.sleep(10);
    u2.close();
    out[CASES.forAwaitDatagram] = await loop;
  }
  for (const pending of [true, false]) {
    const { s, reset, done } = await net.pairToReset();
    const read = pending ? outcome(s.read(new Uint8Array(10))) : undefined;
    await reset();
    if (read !== undefined) out[CASES.pendingReadReset] = await read;
    else out[CASES.readAfterReset] = await outcome(s.read(new Uint8Array(10)));
    done();
  }
  return out;
}
