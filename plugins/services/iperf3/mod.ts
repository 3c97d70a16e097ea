/**
 * An iperf3-compatible server on TCP and UDP port 5201, so `iperf3 -c`
 * measures the virtual host with the tool users already have. One test at a
 * time: the control connection's cookie, the JSON parameter exchange, TCP
 * data streams (each connects and sends the cookie) or UDP streams (each
 * "connects" with one datagram and is answered), the client's `TEST_END`,
 * then the results exchange, so the client prints both ends' figures.
 *
 * - **Tests:** TCP and UDP, forward (the client sends) and reverse (`-R`,
 *   this server sends), parallel streams (`-P`), by time (`-t`), bytes
 *   (`-n`) or blocks (`-k`); UDP at the client's `-b` per stream (paced on
 *   the stack clock, 1 ms ticks), with jitter and loss from the 12- or
 *   16-byte UDP header.
 * - **Bounds:** a second client while a test runs gets `ACCESS_DENIED` (as
 *   iperf3; for tests at once, one service per port: `up --serve
 *   iperf3,iperf3:5202`); parameter and results JSON at most `maxJsonBytes`; at most
 *   `maxStreams` streams; every control step has `controlTimeoutMs` on the
 *   stack clock, a running test `-t` + `-O` seconds more (or
 *   `maxTestSeconds` when it runs by bytes or blocks), else it is aborted.
 * - **Options:** `port` (5201), `hostname`, `tcp`/`udp` (true),
 *   `maxConnections` (256), `lingerMs` (10000), `maxStreams` (128),
 *   `maxJsonBytes` (65536), `controlTimeoutMs` (10000), `maxTestSeconds` (3600),
 *   `copyReceived` (false: a forward TCP stream's bytes are consumed with
 *   `TcpConn.discard`, which gives the received packets back to their pool
 *   uncopied; true: read into a 128 KiB buffer, as iperf3's own server
 *   does, one more copy of every byte: ~12% of the stack's CPU over TUN).
 *   The UDP socket queues up to 4096 datagrams (8 MiB) for bursts.
 * - **Counters:** `bytes` (test payload received or sent), `tests`
 *   (finished with results), `busy` (refused with ACCESS_DENIED), `refused`
 *   (parameters refused with SERVER_ERROR), `malformed` (bad cookie, length
 *   or JSON), `timeouts`, `stray_datagrams` (UDP not part of the test),
 *   `aborted` (client terminated or went away mid-test), and the service
 *   counters `connections`, `rejected`, `datagrams`, `loop_drops`, `errors`.
 * - **Not supported:** bidirectional tests (`--bidir`, refused with
 *   "not implemented"), SCTP, authentication (`--rsa-…`), server output
 *   (`--get-server-output` gets nothing), CPU figures (sent as 0: a service
 *   reads no process clock; benchmarks measure the stack's CPU from outside),
 *   retransmission counts (-1: not reported), and omitting (`-O`): the
 *   server's figures include the omitted seconds.
 *
 * Graph: `tcp.sockets / udp.sockets -> iperf3`
 *
 * @example A malformed client is refused and the server stays up
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { iperf3Plugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [iperf3Plugin] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const first = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 5201 });
 *   await conn.write(new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz0123456789\0"));
 *   const b = new Uint8Array(1);
 *   await conn.read(b); // PARAM_EXCHANGE
 *   await conn.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff)); // a 4 GiB "JSON"
 *   await conn.read(b); // SERVER_ERROR
 *   conn.close();
 *   return b[0];
 * });
 * assert.equal(first, 0xfe);
 * assert.equal(server.counters.value("iperf3.malformed"), 1);
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import {
  type DatagramConn,
  defineService,
  MILLISECOND,
  type PluginContext,
  type ProtocolPlugin,
  type TcpConn,
  type Timer,
  writeAll,
} from "../../../mod.ts";
import {
  COOKIE_SIZE,
  IperfError,
  isCookie,
  MAX_BLOCK,
  ParamError,
  parseParams,
  resultsJson,
  State,
  streamId,
  type StreamResult,
  type TestParams,
  UDP_CONNECT_REPLY_BYTES,
  UdpReceiver,
  writeUdpHeader,
} from "./protocol.ts";

export {
  COOKIE_SIZE,
  isCookie,
  parseParams,
  State as Iperf3State,
  streamId,
  UdpReceiver,
} from "./protocol.ts";

/** Bytes read (or discarded) per call from a forward TCP stream. */
const READ_CHUNK = 128 * 1024;
/**
 * Bytes a reverse TCP stream hands one `write`: as many whole blocks (`-l`)
 * as fit in 1 MiB, at least one. A write per 128 KiB block left the send
 * buffer's last bytes, 131,072 mod 1,448 = 752 of every block at MTU 1500,
 * to go as a segment of their own when the block was sent before the next
 * write came: 22% of the TUN writes of `iperf3 -c -R`, each a system call
 * and a wake-up of the client (issue #13).
 */
const SEND_BURST = 1 << 20;
/** UDP datagrams one reverse stream may send per 1 ms tick (bounds a tick's work). */
const UDP_BURST = 64;
/** Datagrams the UDP socket queues (each counted as a 2 KiB buffer: 8 MiB). */
const UDP_QUEUE = 4096;
/** The UDP pacing tick, µs. */
const UDP_TICK = 1000;

interface Stream {
  readonly id: number;
  readonly conn: TcpConn | null;
  readonly addr: Deno.NetAddr | null;
  readonly rx: UdpReceiver | null;
  bytes: number;
  packets: number;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Reads exactly `p.length` bytes; false on end of stream before that. */
async function readExact(conn: TcpConn, p: Uint8Array): Promise<boolean> {
  for (let off = 0; off < p.length;) {
    const n = await conn.read(p.subarray(off));
    if (n === null) return false;
    off += n;
  }
  return true;
}

async function readByte(conn: TcpConn): Promise<number | null> {
  const b = new Uint8Array(1);
  return (await readExact(conn, b)) ? b[0]! : null;
}

function positive(ctx: PluginContext, key: string, min: number, max: number): number {
  const v = ctx.options[key];
  if (typeof v !== "number" || Number.isNaN(v) || !Number.isInteger(v)) {
    throw new TypeError(`Cannot set up ${ctx.name}: ${key} ${String(v)} is not a whole number`);
  }
  if (v < min || v > max) {
    throw new RangeError(`Cannot set up ${ctx.name}: ${key} ${v} is not in ${min}..${max}`);
  }
  return v;
}

/** One test: its control connection, parameters, streams and progress. */
class Session {
  readonly cookie: string;
  readonly control: TcpConn;
  state = 0;
  params: TestParams | null = null;
  readonly streams: Stream[] = [];
  readonly udpPeers = new Map<string, Stream>();
  udpSocket: DatagramConn | null = null;
  startUs = 0;
  endUs = 0;
  /** Test payload bytes sent in reverse mode (all streams: `-n`/`-k` bound the sum). */
  sentBytes = 0;
  sentBlocks = 0;
  stopped = false;
  readonly streamsReady = deferred();
  /** Resolves when the test starts or the session ends. */
  readonly started = deferred();
  constructor(cookie: string, control: TcpConn) {
    this.cookie = cookie;
    this.control = control;
  }

  /** `SEND_BURST` bytes of whole blocks of the test's length (reverse TCP), made on first use. */
  #burst: Uint8Array | null = null;

  /** Whether a reverse sender has reached `-n`/`-k`. */
  sendLimitReached(): boolean {
    const p = this.params!;
    return (p.bytes > 0 && this.sentBytes >= p.bytes) ||
      (p.blocks > 0 && this.sentBlocks >= p.blocks);
  }

  /**
   * The next burst a reverse TCP sender writes, reserved (so parallel
   * streams never pass `-n`/`-k` together): whole blocks of `block`'s
   * first `-l` bytes, as many as `SEND_BURST` holds and `-k` allows, cut
   * at `-n`.
   */
  nextBurst(block: Uint8Array): Uint8Array {
    const p = this.params!;
    const len = p.len;
    if (this.#burst === null) {
      const k = Math.max(1, Math.floor(SEND_BURST / len));
      this.#burst = new Uint8Array(k * len);
      for (let at = 0; at < this.#burst.length; at += len) {
        this.#burst.set(block.subarray(0, len), at);
      }
    }
    let blocks = this.#burst.length / len;
    if (p.blocks > 0) blocks = Math.min(blocks, p.blocks - this.sentBlocks);
    let want = blocks * len;
    if (p.bytes > 0) want = Math.min(want, p.bytes - this.sentBytes);
    this.sentBlocks += Math.ceil(want / len);
    this.sentBytes += want;
    return this.#burst.subarray(0, want);
  }
}

/** The iperf3 service plugin. */
export const iperf3Plugin: ProtocolPlugin = defineService({
  name: "iperf3",
  description: "iperf3-compatible server (TCP and UDP tests, -R, -P) on port 5201",
  port: 5201,
  transports: ["tcp", "udp"],
  counters: [
    "bytes",
    "tests",
    "busy",
    "refused",
    "malformed",
    "timeouts",
    "stray_datagrams",
    "aborted",
  ],
  options: {
    maxStreams: { default: 128, description: "most streams (-P) in one test" },
    maxJsonBytes: { default: 65536, description: "longest parameter or results JSON" },
    controlTimeoutMs: {
      default: 10_000,
      description: "how long each control step may wait for the client",
    },
    maxTestSeconds: {
      default: 3600,
      description: "longest test run by bytes or blocks (-n/-k) rather than time",
    },
    copyReceived: {
      default: false,
      description: "read forward TCP streams into a buffer (true) instead of discarding uncopied",
    },
  },
  setup(ctx, host) {
    const maxStreams = positive(ctx, "maxStreams", 1, 1024);
    const maxJson = positive(ctx, "maxJsonBytes", 64, 1 << 24);
    const controlTimeout = positive(ctx, "controlTimeoutMs", 1, 3_600_000) * MILLISECOND;
    const maxTest = positive(ctx, "maxTestSeconds", 1, 86_400) * 1_000_000;
    const linger = Math.max(0, Number(ctx.options.lingerMs ?? 10_000)) * MILLISECOND;
    const copyReceived = ctx.options.copyReceived;
    if (typeof copyReceived !== "boolean") {
      throw new TypeError(
        `Cannot set up ${ctx.name}: copyReceived ${String(copyReceived)} is not a boolean`,
      );
    }
    const cBytes = ctx.counter("bytes");
    const cTests = ctx.counter("tests");
    const cBusy = ctx.counter("busy");
    const cRefused = ctx.counter("refused");
    const cMalformed = ctx.counter("malformed");
    const cTimeouts = ctx.counter("timeouts");
    const cStray = ctx.counter("stray_datagrams");
    const cAborted = ctx.counter("aborted");
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    // Payload of reverse-mode blocks: shared and read-only (writes copy it).
    const block = new Uint8Array(MAX_BLOCK);
    for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
    let session: Session | null = null;

    /** A deadline on the control connection: abort it (and so the test) when it fires. */
    let controlTimer: Timer | null = null;
    function arm(s: Session, after: number): void {
      if (controlTimer !== null) host.cancel(controlTimer);
      controlTimer = host.deadline(after, () => {
        controlTimer = null;
        cTimeouts.value++;
        host.abort(s.control);
      });
    }

    async function sendState(s: Session, state: number): Promise<void> {
      s.state = state;
      await writeAll(s.control, Uint8Array.of(state));
    }

    /** SERVER_ERROR, i_errno, errno 0: the client prints iperf3's text for `code`. */
    async function sendError(s: Session, code: number): Promise<void> {
      const m = new Uint8Array(9);
      const v = new DataView(m.buffer);
      m[0] = State.SERVER_ERROR;
      v.setInt32(1, code);
      v.setInt32(5, 0);
      await writeAll(s.control, m);
    }

    /** Reads a 4-byte length and that much JSON text; null (counted) if malformed. */
    async function readJson(s: Session): Promise<string | null> {
      const lenBuf = new Uint8Array(4);
      if (!(await readExact(s.control, lenBuf))) return null;
      const len = new DataView(lenBuf.buffer).getUint32(0);
      if (len === 0 || len > maxJson) {
        cMalformed.value++;
        return null;
      }
      const body = new Uint8Array(len);
      if (!(await readExact(s.control, body))) return null;
      return dec.decode(body);
    }

    function results(s: Session): StreamResult[] {
      const p = s.params!;
      const end = (s.endUs - s.startUs) / 1e6;
      return s.streams.map((st) => ({
        id: st.id,
        bytes: st.rx !== null ? st.rx.bytes : st.bytes,
        retransmits: -1,
        jitter: st.rx?.jitter ?? 0,
        errors: st.rx?.errors ?? 0,
        packets: st.rx !== null ? st.rx.packets : (p.udp ? st.packets : 0),
        endTime: end,
      }));
    }

    /** The control connection's whole test; returns when it is over, either way. */
    async function runTest(s: Session): Promise<void> {
      arm(s, controlTimeout);
      await sendState(s, State.PARAM_EXCHANGE);
      const text = await readJson(s);
      if (text === null) return await sendError(s, IperfError.IERECVPARAMS);
      try {
        s.params = parseParams(text, maxStreams);
      } catch (e) {
        if (!(e instanceof ParamError)) throw e;
        cRefused.value++;
        if (e.code === IperfError.IERECVPARAMS) cMalformed.value++;
        ctx.log.info(`refused a test: ${e.message}`);
        return await sendError(s, e.code);
      }
      const p = s.params;
      await sendState(s, State.CREATE_STREAMS);
      // One read stays pending from here: a byte now means the client gave up.
      const control = readByte(s.control);
      const first = await Promise.race([s.streamsReady.promise.then(() => -1), control]);
      if (first !== -1) return void cAborted.value++;
      s.startUs = ctx.now();
      await sendState(s, State.TEST_START);
      await sendState(s, State.TEST_RUNNING);
      s.started.resolve();
      arm(s, p.time > 0 ? (p.time + p.omit) * 1_000_000 + controlTimeout : maxTest);
      if (p.udp && p.reverse) paceUdp(s);
      const end = await control;
      s.endUs = ctx.now();
      s.stopped = true;
      if (end !== State.TEST_END) return void cAborted.value++;
      arm(s, controlTimeout);
      await sendState(s, State.EXCHANGE_RESULTS);
      const theirs = await readJson(s);
      let ok = false;
      try {
        const v: unknown = theirs === null ? null : JSON.parse(theirs);
        ok = typeof v === "object" && v !== null && !Array.isArray(v);
      } catch { /* not JSON */ }
      if (!ok) {
        if (theirs !== null) cMalformed.value++;
        return await sendError(s, IperfError.IERECVRESULTS);
      }
      const ours = enc.encode(resultsJson(p.reverse, results(s)));
      const msg = new Uint8Array(4 + ours.length);
      new DataView(msg.buffer).setUint32(0, ours.length);
      msg.set(ours, 4);
      await writeAll(s.control, msg);
      await sendState(s, State.DISPLAY_RESULTS);
      cTests.value++;
      await readByte(s.control); // IPERF_DONE (or the client just closes)
    }

    /** Ends a session: stops its streams and lets them close (or resets them if it failed). */
    function endSession(s: Session, clean: boolean): void {
      s.stopped = true;
      s.started.resolve();
      s.streamsReady.resolve();
      if (controlTimer !== null) host.cancel(controlTimer);
      controlTimer = null;
      for (const st of s.streams) {
        if (st.conn === null) continue;
        if (!clean) host.abort(st.conn);
        else host.deadline(linger, () => host.abort(st.conn!)); // the client closes them; else reset
      }
      if (session === s) session = null;
    }

    function addStream(s: Session, conn: TcpConn | null, addr: Deno.NetAddr | null): Stream {
      const p = s.params!;
      const st: Stream = {
        id: streamId(s.streams.length),
        conn,
        addr,
        rx: p.udp && !p.reverse ? new UdpReceiver(p.udpCounters64) : null,
        bytes: 0,
        packets: 0,
      };
      s.streams.push(st);
      if (s.streams.length === p.parallel) s.streamsReady.resolve();
      return st;
    }

    async function serveTcpStream(s: Session, conn: TcpConn): Promise<void> {
      const st = addStream(s, conn, null);
      if (!s.params!.reverse) {
        // The bytes are only counted: discarded where they lie unless asked to copy them.
        const buf = copyReceived ? new Uint8Array(READ_CHUNK) : null;
        for (;;) {
          const n = buf !== null ? await conn.read(buf) : await conn.discard(READ_CHUNK);
          if (n === null) return;
          if (!s.stopped) {
            st.bytes += n;
            cBytes.value += n;
          }
        }
      }
      await s.started.promise;
      while (!s.stopped && !s.sendLimitReached()) {
        const burst = s.nextBurst(block);
        const want = burst.length;
        // A burst goes whole (write may take part of it), as iperf3's Nwrite does a block.
        for (let off = 0; off < want && !s.stopped;) {
          const n = await conn.write(off === 0 ? burst : burst.subarray(off));
          off += n;
          st.bytes += n;
          cBytes.value += n;
        }
      }
      await host.finish(conn);
    }

    /** Sends reverse UDP at `-b` per stream, a burst per 1 ms tick at most. */
    function paceUdp(s: Session): void {
      const p = s.params!;
      const sock = s.udpSocket;
      if (sock === null) return;
      const buf = new Uint8Array(p.len);
      buf.set(block.subarray(0, p.len));
      const tick = (): void => {
        if (s.stopped || session !== s) return;
        const now = ctx.now();
        const allowed = p.bandwidth > 0 ? (p.bandwidth / 8) * ((now - s.startUs) / 1e6) : Infinity;
        for (const st of s.streams) {
          for (let i = 0; i < UDP_BURST && st.bytes < allowed && !s.sendLimitReached(); i++) {
            writeUdpHeader(buf, now, ++st.packets, p.udpCounters64);
            s.sentBlocks++;
            s.sentBytes += p.len;
            st.bytes += p.len;
            cBytes.value += p.len;
            sock.send(buf, st.addr!).catch(() => {}); // a full queue drops, as UDP does
          }
        }
        host.deadline(UDP_TICK, tick);
      };
      tick();
    }

    return {
      // A burst at -b 50M or more outlasts the default 256 datagrams when the
      // event loop stalls for a few ms; iperf3 users raise SO_RCVBUF (-w) too.
      udpQueue: { receiveQueueLimit: UDP_QUEUE, receiveQueueBytes: UDP_QUEUE * 2048 },
      async tcp(conn: TcpConn): Promise<void> {
        const cookieBuf = new Uint8Array(COOKIE_SIZE);
        const t = host.deadline(controlTimeout, () => {
          cTimeouts.value++;
          host.abort(conn);
        });
        let ok: boolean;
        try {
          ok = await readExact(conn, cookieBuf);
        } finally {
          host.cancel(t);
        }
        if (!ok || !isCookie(cookieBuf)) {
          cMalformed.value++;
          return host.abort(conn);
        }
        const cookie = dec.decode(cookieBuf);
        const s = session;
        if (s !== null) {
          if (
            s.state === State.CREATE_STREAMS && s.params !== null && !s.params.udp &&
            cookie === s.cookie && s.streams.length < s.params.parallel
          ) {
            return await serveTcpStream(s, conn);
          }
          cBusy.value++;
          await writeAll(conn, Uint8Array.of(State.ACCESS_DENIED));
          return await host.finish(conn);
        }
        const mine = new Session(cookie, conn);
        session = mine;
        let clean = false;
        try {
          await runTest(mine);
          clean = true;
        } finally {
          endSession(mine, clean);
        }
        await host.finish(conn);
      },
      async udp(data, from, sock): Promise<void> {
        const s = session;
        const p = s?.params;
        if (s === undefined || s === null || p === null || p === undefined || !p.udp) {
          return void cStray.value++;
        }
        const key = `${from.hostname}|${from.port}`;
        let st = s.udpPeers.get(key);
        if (st === undefined) {
          if (s.state !== State.CREATE_STREAMS || s.streams.length >= p.parallel) {
            return void cStray.value++;
          }
          s.udpSocket = sock;
          st = addStream(s, null, { transport: "udp", hostname: from.hostname, port: from.port });
          s.udpPeers.set(key, st);
          await sock.send(UDP_CONNECT_REPLY_BYTES, from);
          return;
        }
        if (s.state === State.CREATE_STREAMS) {
          await sock.send(UDP_CONNECT_REPLY_BYTES, from); // its connect again: answer again
          return;
        }
        if (st.rx === null || s.stopped) return;
        if (st.rx.receive(data, ctx.now())) cBytes.value += data.length;
        else cStray.value++;
      },
      teardown: () => {
        if (session !== null) endSession(session, false);
      },
    };
  },
});

export default iperf3Plugin;
