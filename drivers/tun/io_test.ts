/**
 * The read loop and write path of {@linkcode TunIo} on a `socketpair(AF_UNIX,
 * SOCK_SEQPACKET)`: like a TUN fd it keeps frame boundaries, and it needs no
 * privileges, only `--allow-ffi`.
 */
import assert from "node:assert/strict";
import { KEEP_WARM_WINDOW } from "./io.ts";
import { acquireLibc, releaseLibc } from "./_libc.ts";
import { DEFAULT_HEADROOM, PacketPool } from "../../stack/packet_pool.ts";
import { RealTimeRunner } from "./runner.ts";
import { findEventLoopEpoll } from "./block_wait.ts";
import { SystemClock } from "../../stack/clock.ts";
import { CHECKSUM_BACKEND, isChecksumArena } from "../../stack/wire/checksum.ts";
import { ignore, pair, port, until } from "./_io_pair.ts";

Deno.test({
  name: "TunIo reads each frame into a pooled buffer at its headroom and calls onBatch per batch",
  ignore,
  async fn() {
    const p = pair();
    const pool = new PacketPool();
    const got: { start: number; bytes: number[]; arena: boolean }[] = [];
    let batches = 0;
    for (let i = 1; i <= 5; i++) p.write(new Uint8Array(i).fill(i));
    p.io.onBatch = () => void batches++;
    const loop = p.io.start(port(pool, (pkt) => {
      got.push({ start: pkt.start, bytes: [...pkt.data], arena: isChecksumArena(pkt.buf.buffer) });
      pkt.release();
    }));
    await until(() => got.length === 5);
    p.io.stop();
    await loop;
    await p.close();
    assert.deepEqual(got.map((g) => g.bytes), [[1], [2, 2], [3, 3, 3], [4, 4, 4, 4], [
      5,
      5,
      5,
      5,
      5,
    ]]);
    assert.ok(got.every((g) => g.start === DEFAULT_HEADROOM));
    // The device's pool moved to its checksum arena at start, not at the 1,024th frame.
    assert.ok(got.every((g) => g.arena === (CHECKSUM_BACKEND === "wasm-simd")));
    assert.equal(batches, p.io.stats.rxBatches);
    assert.ok(batches >= 1);
    assert.equal(p.io.stats.rxPackets, 5);
    assert.equal(p.io.stats.rxBytes, 15);
    assert.equal(pool.outstanding, 0);
  },
});

Deno.test({
  name: "TunIo reads at most `batch` frames before it polls again",
  ignore,
  async fn() {
    const p = pair({ batch: 4 });
    const pool = new PacketPool();
    let n = 0;
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) p.write(new Uint8Array(60));
    p.io.onBatch = () => void sizes.push(n);
    const loop = p.io.start(port(pool, (pkt) => {
      n++;
      pkt.release();
    }));
    await until(() => n === 10);
    p.io.stop();
    await loop;
    await p.close();
    assert.deepEqual(sizes, [4, 8, 10]);
  },
});

Deno.test({
  name: "TunIo ends a batch at the frame that reaches `batchBytes`, with fewer than `batch` frames",
  ignore,
  async fn() {
    const p = pair({ batch: 64, batchBytes: 2500 });
    const pool = new PacketPool();
    let n = 0;
    const sizes: number[] = [];
    // 1000-byte frames: the third of each batch reaches 2500 bytes and is its last.
    for (let i = 0; i < 8; i++) p.write(new Uint8Array(1000));
    p.io.onBatch = () => void sizes.push(n);
    const loop = p.io.start(port(pool, (pkt) => {
      n++;
      pkt.release();
    }));
    await until(() => n === 8);
    p.io.stop();
    await loop;
    await p.close();
    assert.deepEqual(sizes, [3, 6, 8]);
    assert.equal(p.io.stats.rxBatches, 3);
  },
});

Deno.test({
  name: "TunIo.stop() wakes a pending poll through the eventfd",
  ignore,
  async fn() {
    const p = pair({ pollTimeout: 60_000 });
    const loop = p.io.start(port(new PacketPool(), (pkt) => pkt.release()));
    await until(() => p.io.stats.polls === 1);
    p.io.stop();
    await loop; // with a 60 s timeout, only the eventfd can end this wait
    assert.equal(p.io.closing, true);
    await p.close();
    assert.equal(p.io.fd, -1);
  },
});

Deno.test({
  name: "A frame arriving at an idle loop is answered in the wake-up's own turn, no timer involved",
  ignore,
  async fn() {
    const p = pair({ pollTimeout: 60_000 });
    const pool = new PacketPool();
    const events: string[] = [];
    // An idle node (no deadline) behind a runner that would sleep a minute.
    const runner = new RealTimeRunner({
      pollAt: () => undefined,
      poll: () => void events.push("poll"),
    }, { clock: new SystemClock(), maxSleep: 60_000_000 });
    runner.start();
    p.io.onBatch = runner.kick;
    const loop = p.io.start(port(pool, (pkt) => {
      // Like the stack answering a ping: the reply is written inside receive().
      events.push(`receive after ${p.io.stats.polls} poll(s)`);
      const reply = pool.alloc(pkt.length);
      reply.data.set(pkt.data);
      p.io.transmit(reply);
      events.push("transmit");
      pkt.release();
    }));
    await until(() => p.io.stats.polls === 1); // waiting, nothing queued
    events.length = 0;
    p.write(new Uint8Array([1, 2, 3]));
    await until(() => p.io.stats.txPackets === 1);
    const buf = new Uint8Array(16);
    const n = p.read(buf);
    runner.stop();
    p.io.stop();
    await loop;
    await p.close();
    assert.deepEqual([...buf.subarray(0, n)], [1, 2, 3]);
    // Read on the first poll's return, answered, then the runner kicked: one turn.
    assert.deepEqual(events.slice(0, 3), ["receive after 1 poll(s)", "transmit", "poll"]);
    assert.equal(runner.wakeups, 0, "no runner timer fired");
    assert.equal(pool.outstanding, 0);
  },
});

/**
 * Another thread that writes `count` frames of one byte (1, 2, …) to `fd`,
 * `gapMs` apart, so they arrive while the JS thread may be asleep.
 */
function writerThread(fd: number, count: number, gapMs: number): Worker {
  const code = `
    const lib = Deno.dlopen("libc.so.6", {
      write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    });
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 1; i <= ${count}; i++) {
      Atomics.wait(nap, 0, 0, ${gapMs});
      lib.symbols.write(${fd}, new Uint8Array([i]), 1);
    }
    lib.close();
    self.postMessage("done");
  `;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  URL.revokeObjectURL(url);
  return w;
}

Deno.test({
  name: "TunIo with a blocking wait reads frames in the turn that wakes the JS thread",
  ignore,
  async fn() {
    const p = pair({ blockMax: 200 });
    const pool = new PacketPool();
    const got: number[] = [];
    const loop = p.io.start(port(pool, (pkt) => {
      got.push(pkt.data[0]!);
      const reply = pool.alloc(1);
      reply.data[0] = pkt.data[0]! + 100;
      p.io.transmit(reply);
      pkt.release();
    }));
    const writer = writerThread(p.peer, 5, 30);
    const done = new Promise((r) => writer.onmessage = r);
    await until(() => got.length === 5);
    await done;
    writer.terminate();
    const replies: number[] = [];
    const buf = new Uint8Array(8);
    for (let i = 0; i < 5; i++) replies.push(p.read(buf) === 1 ? buf[0]! : -1);
    p.io.stop();
    await loop;
    await p.close();
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.deepEqual(replies, [101, 102, 103, 104, 105]);
    // The JS thread spends nearly all its time asleep here: frames 30 ms apart wake it.
    assert.ok(p.io.stats.blockWakeups >= 1, `blockWakeups ${p.io.stats.blockWakeups}`);
    assert.ok(p.io.stats.blockWaits >= p.io.stats.blockWakeups);
    assert.equal(pool.outstanding, 0);
  },
});

Deno.test({
  name: "TunIo with spin busy-polls after a frame and reads the next one without sleeping",
  ignore,
  async fn() {
    // A peer that sends each request 1 ms after the previous reply, and a
    // 10 ms spin: the next request comes while the loop spins (unless the
    // peer is held up 9 ms more, every one of 50 times).
    const count = 50;
    const p = pair({ blockMax: 200, spin: 10_000 });
    const pool = new PacketPool();
    const loop = p.io.start(port(pool, (pkt) => {
      const reply = pool.alloc(1);
      reply.data[0] = pkt.data[0]! + 100;
      p.io.transmit(reply);
      pkt.release();
    }));
    const peer = requestThread(p.peer, count, 1, 1);
    let good = -1;
    const done = new Promise<void>((r) => peer.onmessage = (e) => r(void (good = e.data)));
    await until(() => good >= 0);
    await done;
    peer.terminate();
    p.io.stop();
    await loop;
    await p.close();
    assert.equal(good, count);
    assert.ok(p.io.stats.spinWakeups >= 1, `spinWakeups ${p.io.stats.spinWakeups}`);
    assert.ok(p.io.stats.spins >= p.io.stats.spinWakeups);
    assert.equal(pool.outstanding, 0);
  },
});

for (const spin of [10_000, 0]) {
  Deno.test({
    name:
      `TunIo: a frame queued in the last instant before the JS thread sleeps ends the sleep at once (spin ${spin} µs)`,
    ignore,
    async fn() {
      // The window where a wake-up could be lost: the device was found empty
      // (by the drain, and by the spin's last poll(0)), and the thread has not
      // yet called poll() to sleep. waitBudget is the loop's last call before
      // that poll(), so a frame written there arrives exactly in the window.
      // The sleep's poll() looks at the device itself (level-triggered), so it
      // must return at once with the frame (a blockWakeup). A lost wake-up
      // would sleep blockMax (1 s) and read the frame when that sleep timed
      // out: with the device left out of the sleep's poll() this fails.
      const count = 20;
      const p = pair({ blockMax: 1000, spin });
      const pool = new PacketPool();
      const got: number[] = [];
      let injected = 0;
      let waiting = false; // a frame written in the window is not read yet
      p.io.waitBudget = () => {
        if (!waiting && injected < count) {
          waiting = true;
          assert.equal(p.write(new Uint8Array([++injected])), 1);
        }
        return 1000;
      };
      const loop = p.io.start(port(pool, (pkt) => {
        got.push(pkt.data[0]!);
        waiting = false;
        pkt.release();
      }));
      await until(() => got.length === count);
      p.io.stop();
      await loop;
      await p.close();
      const s = p.io.stats;
      assert.deepEqual(got, Array.from({ length: count }, (_, i) => i + 1));
      // Every frame was read after the sleep it preceded, and that sleep ended for it.
      assert.equal(s.blockWakeups, count, `blockWaits ${s.blockWaits}`);
      assert.equal(s.spinWakeups, 0, "nothing is written while the loop spins");
      if (spin > 0) assert.ok(s.spins >= 1, "the spin ran before the sleeps");
      assert.equal(pool.outstanding, 0);
    },
  });
}

Deno.test({
  name: "TunIo without spin never busy-polls",
  ignore,
  async fn() {
    const p = pair({ blockMax: 200 });
    const pool = new PacketPool();
    let got = 0;
    const loop = p.io.start(port(pool, (pkt) => {
      got++;
      pkt.release();
    }));
    const writer = writerThread(p.peer, 5, 2);
    const done = new Promise((r) => writer.onmessage = r);
    await until(() => got === 5);
    await done;
    writer.terminate();
    p.io.stop();
    await loop;
    await p.close();
    assert.equal(p.io.stats.spins, 0);
    assert.ok(p.io.stats.blockWaits >= 1);
  },
});

Deno.test({
  name:
    "TunIo with keepWarm calls onKeepWarm every keepWarm ms of a sleep, and a frame still ends the sleep at once",
  ignore,
  async fn() {
    // 5 frames 60 ms apart into a loop that sleeps up to 200 ms in 5 ms
    // slices: between frames the hook runs ~11 times, each ≥ 5 ms after the
    // last; each frame ends the slice it comes in (a blockWakeup), and the
    // hook never runs inside a batch.
    const p = pair({ blockMax: 200, keepWarm: 5 });
    const pool = new PacketPool();
    const got: number[] = [];
    const ticks: number[] = [];
    let inBatch = false;
    let warmInBatch = 0;
    p.io.onKeepWarm = () => {
      ticks.push(performance.now());
      if (inBatch) warmInBatch++;
      if (ticks.length === 3) throw new Error("a failing hook is counted, not fatal");
    };
    const loop = p.io.start({
      ...port(pool, (pkt) => {
        got.push(pkt.data[0]!);
        pkt.release();
      }),
      beginBatch: () => void (inBatch = true),
      endBatch: () => void (inBatch = false),
    });
    const writer = writerThread(p.peer, 5, 60);
    const done = new Promise((r) => writer.onmessage = r);
    await until(() => got.length === 5);
    await done;
    writer.terminate();
    p.io.stop();
    await loop;
    await p.close();
    const s = p.io.stats;
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.equal(s.keepWarms, ticks.length);
    assert.ok(ticks.length >= 10, `only ${ticks.length} warm-ups in 300 ms`);
    assert.equal(warmInBatch, 0);
    assert.equal(s.callbackErrors, 1);
    assert.ok(s.blockWakeups >= 1, `blockWaits ${s.blockWaits}, blockWakeups ${s.blockWakeups}`);
    // poll() never times out early: a slice is 5 ms at least (less only when a frame cut it).
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    assert.ok(gaps.every((g) => g >= 4.9), `gaps ${gaps}`);
    assert.equal(pool.outstanding, 0);
  },
});

Deno.test({
  name: "TunIo keeps warm for KEEP_WARM_WINDOW ms after the last frame, then sleeps in one piece",
  ignore,
  async fn() {
    const p = pair({ blockMax: 200, keepWarm: 5 });
    const ticks: number[] = [];
    let frameAt = 0;
    p.io.onKeepWarm = () => void ticks.push(performance.now());
    const loop = p.io.start(port(new PacketPool(), (pkt) => {
      frameAt = performance.now();
      pkt.release();
    }));
    // No frame yet: nothing to keep warm.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ticks.length, 0);
    p.write(new Uint8Array([1]));
    await until(() => frameAt > 0);
    await new Promise((r) => setTimeout(r, KEEP_WARM_WINDOW + 400));
    p.io.stop();
    await loop;
    await p.close();
    // ~200 slices of 5 ms in the window; a loaded machine may stretch them.
    assert.ok(ticks.length >= 50, `${ticks.length} warm-ups in the window`);
    const late = ticks.filter((t) => t - frameAt > KEEP_WARM_WINDOW + 20);
    assert.deepEqual(late.map((t) => t - frameAt), [], "warm-ups after the window");
  },
});

Deno.test({
  name: "TunIo without onKeepWarm, or without keepWarm, sleeps in one piece",
  ignore,
  async fn() {
    for (const [keepWarm, hook] of [[5, false], [0, true]] as const) {
      const p = pair({ blockMax: 50, keepWarm });
      let calls = 0;
      if (hook) p.io.onKeepWarm = () => void calls++;
      const loop = p.io.start(port(new PacketPool(), (pkt) => pkt.release()));
      p.write(new Uint8Array([1]));
      await new Promise((r) => setTimeout(r, 120));
      p.io.stop();
      await loop;
      await p.close();
      assert.equal(calls, 0);
      assert.equal(p.io.stats.keepWarms, 0);
      assert.ok(p.io.stats.blockWaits >= 1);
    }
  },
});

/**
 * Another thread that sends `count` one-byte requests (1, 2, …) to `fd` and
 * waits for each one's reply before the next (one in flight); every
 * `pauseEvery`-th request comes `pauseMs` late, so the device goes quiet.
 * Posts the number of correct replies (request + 100) when done or when `fd`
 * is closed under it.
 */
function requestThread(fd: number, count: number, pauseEvery: number, pauseMs: number): Worker {
  const code = `
    const lib = Deno.dlopen("libc.so.6", {
      write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
      read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    });
    const nap = new Int32Array(new SharedArrayBuffer(4));
    const buf = new Uint8Array(1);
    let good = 0;
    for (let i = 1; i <= ${count}; i++) {
      if (i % ${pauseEvery} === 0) Atomics.wait(nap, 0, 0, ${pauseMs});
      if (lib.symbols.write(${fd}, new Uint8Array([i & 127]), 1) !== 1) break;
      if (lib.symbols.read(${fd}, buf, 1) !== 1) break;
      if (buf[0] === (i & 127) + 100) good++;
    }
    lib.close();
    self.postMessage(good);
  `;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  URL.revokeObjectURL(url);
  return w;
}

Deno.test({
  name:
    "TunIo's blocking wait never starts while a reply is still on its way through promise callbacks",
  ignore,
  async fn() {
    // The reply to each frame is sent by an async chain (an application's
    // read resolving, its write, …), as an echo service's is. Deno may run
    // the loop's quick poll() continuation before the chain's later steps;
    // the loop must not put the JS thread to sleep then, or the reply would
    // wait for blockMax (1 s here), the peer waiting for it meanwhile.
    const count = 200;
    const p = pair({ blockMax: 1000 });
    const pool = new PacketPool();
    let pending = 0; // requests received whose reply is not written yet
    let sleptWithPending = 0;
    p.io.waitBudget = () => {
      if (pending > 0) sleptWithPending++;
      return 1000;
    };
    async function answer(request: number): Promise<void> {
      for (let i = 0; i < 8; i++) await null; // eight promise callbacks deep
      const reply = pool.alloc(1);
      reply.data[0] = request + 100;
      p.io.transmit(reply);
      pending--;
    }
    const loop = p.io.start(port(pool, (pkt) => {
      pending++;
      answer(pkt.data[0]!);
      pkt.release();
    }));
    const peer = requestThread(p.peer, count, 20, 10);
    let good = -1;
    const done = new Promise<void>((r) => peer.onmessage = (e) => r(void (good = e.data)));
    // Bounded: at 1 s per stalled reply, a loop that sleeps too early would take minutes.
    const end = performance.now() + 20_000;
    while (good < 0 && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 1));
    }
    p.io.stop();
    await loop;
    await p.close(); // ends the peer's read if it is still waiting
    await done;
    peer.terminate();
    assert.equal(good, count, `${good} of ${count} replies (${p.io.stats.txPackets} written)`);
    assert.equal(sleptWithPending, 0, `slept ${sleptWithPending} times with a reply pending`);
    // The pauses let the device go quiet: the blocking wait itself was used.
    assert.ok(p.io.stats.blockWaits >= 1, `blockWaits ${p.io.stats.blockWaits}`);
    assert.equal(pool.outstanding, 0);
  },
});

Deno.test({
  name:
    "TunIo's blocking wait lasts at most blockMax and the waitBudget, then goes through the event loop",
  ignore,
  async fn() {
    const p = pair({ blockMax: 1000 });
    let budgetAsked = 0;
    p.io.waitBudget = () => {
      budgetAsked++;
      return 5; // a runner timer 5 ms away
    };
    const loop = p.io.start(port(new PacketPool(), (pkt) => pkt.release()));
    // Timers run only between waits: with a 1 s blockMax alone this would take seconds.
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 1));
    const elapsed = performance.now() - t0;
    p.io.stop();
    await loop;
    await p.close();
    assert.ok(budgetAsked >= 1);
    assert.ok(p.io.stats.blockWaits >= 1);
    assert.ok(elapsed < 5_000, `10 timers took ${elapsed.toFixed(0)} ms`);
  },
});

Deno.test({
  name: "TunIo's blocking wait runs the runner (onBatch) itself when the waitBudget runs out",
  ignore,
  async fn() {
    // A runner due every 20 ms: each sleep ends with it due, and the loop
    // kicks it there instead of waiting for the event loop's late timer.
    const p = pair({ blockMax: 1000 });
    let due = performance.now() + 20;
    let kicks = 0;
    p.io.waitBudget = () => Math.max(0, due - performance.now());
    p.io.onBatch = () => {
      kicks++;
      due = performance.now() + 20;
    };
    const loop = p.io.start(port(new PacketPool(), (pkt) => pkt.release()));
    await until(() => kicks >= 3);
    p.io.stop();
    await loop;
    await p.close();
    assert.equal(p.io.stats.rxBatches, 0, "no frame: every call was a due runner");
    assert.ok(p.io.stats.blockWaits >= 3, `blockWaits ${p.io.stats.blockWaits}`);
  },
});

Deno.test({
  name: "Only one TunIo per process gets the blocking wait, until it closes its descriptors",
  ignore,
  async fn() {
    const a = pair({ blockMax: 10 });
    const b = pair({ blockMax: 10 });
    assert.equal(a.io.blocking, true);
    assert.equal(b.io.blocking, false, "a second sleeper would not watch the first's fd");
    await a.close();
    const c = pair({ blockMax: 10 });
    assert.equal(c.io.blocking, true);
    await c.close();
    await b.close();
    const d = pair(); // no blockMax: never
    assert.equal(d.io.blocking, false);
    await d.close();
  },
});

Deno.test("findEventLoopEpoll() finds this process's event loop epoll descriptor", {
  ignore,
}, () => {
  const libc = acquireLibc();
  try {
    const fd = findEventLoopEpoll(libc);
    assert.ok(fd >= 0);
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${fd}`), "anon_inode:[eventpoll]");
  } finally {
    releaseLibc();
  }
});

Deno.test({
  name: "TunIo survives a throwing onBatch and counts it",
  ignore,
  async fn() {
    const p = pair();
    let n = 0;
    p.write(new Uint8Array(10));
    p.io.onBatch = () => {
      throw new Error("runner bug");
    };
    const loop = p.io.start(port(new PacketPool(), (pkt) => {
      n++;
      pkt.release();
    }));
    await until(() => n === 1);
    p.write(new Uint8Array(10));
    await until(() => n === 2);
    p.io.stop();
    await loop;
    await p.close();
    assert.equal(p.io.stats.callbackErrors, 2);
  },
});

Deno.test({
  name: "TunIo.transmit() writes exactly the data window and releases the packet",
  ignore,
  async fn() {
    const p = pair();
    const pool = new PacketPool();
    const pkt = pool.alloc(4);
    pkt.data.set([9, 8, 7, 6]);
    const at = pkt.prepend(2);
    pkt.buf[at] = 0xaa;
    pkt.buf[at + 1] = 0xbb;
    p.io.transmit(pkt);
    const buf = new Uint8Array(64);
    const n = p.read(buf);
    await p.close();
    assert.deepEqual([...buf.subarray(0, n)], [0xaa, 0xbb, 9, 8, 7, 6]);
    assert.equal(pkt.released, true);
    assert.equal(p.io.stats.txPackets, 1);
    assert.equal(p.io.stats.txBytes, 6);
  },
});

Deno.test({
  name: "TunIo.transmit() after the descriptors are closed counts an error and releases",
  ignore,
  async fn() {
    const p = pair();
    await p.close();
    const pool = new PacketPool();
    const pkt = pool.alloc(20);
    p.io.transmit(pkt);
    assert.equal(pkt.released, true);
    assert.equal(p.io.stats.txErrors, 1);
  },
});
