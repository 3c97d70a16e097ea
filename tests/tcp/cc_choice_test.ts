/**
 * Choosing the congestion control per connection, as Linux's
 * `TCP_CONGESTION`: on connect, on listen (for accepted connections),
 * switched on an open connection (`setCongestionControl`, the window
 * carries over), the stack-wide default from the plugin option, and more
 * algorithms registered by a plugin through the `tcp.congestion` service.
 * Bad names are TypeErrors like every other bad argument. `conn.info()` is
 * the connection's row of `stack.sockets()`.
 */
import assert from "node:assert/strict";
import type { CongestionControl } from "../../mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { exchangeBoth } from "./_transfer.ts";
import { congestionPlugin } from "./_tcp.ts";

Deno.test("tcp connect/listen with congestionControl → each connection runs the one asked for", async () => {
  const env = makeLink({ seed: 1 });
  const l1 = env.b.listen({ port: 80, congestionControl: "bbr" });
  const l2 = env.b.listen({ port: 81 });
  await env.run(async () => {
    const [c1, s1] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, congestionControl: "newreno" }),
      l1.accept(),
    ]);
    const [c2, s2] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 81 }),
      l2.accept(),
    ]);
    assert.equal(c1.info().cc, "newreno");
    assert.equal(s1.info().cc, "bbr", "the listener's choice");
    assert.equal(c2.info().cc, "cubic", "the plugin's default");
    assert.equal(s2.info().cc, "cubic");
    // info() is the connection's row of sockets().
    const row = env.a.sockets().find((s) => s.local === `10.0.0.1:${c1.localAddr.port}`)!;
    assert.deepEqual({ ...c1.info(), timer: "" }, { ...row, timer: "" });
    assert.equal(s1.info().ccState, "startup");
    for (const c of [c1, s1, c2, s2]) c.close();
  });
  l1.close();
  l2.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp ESTABLISHED + setCongestionControl() → the new algorithm takes over with the window, data intact", async () => {
  const env = makeLink({ seed: 2, faults: { delay: ms(5), loss: 0.01 } });
  const l = env.b.listen({ port: 80 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    const transfer = exchangeBoth(c, s, 7, 2 << 20);
    await new Promise<void>((r) => env.net.at(env.net.now() + ms(200), r));
    const before = c.info();
    assert.equal(before.cc, "cubic");
    c.setCongestionControl("bbr");
    const after = c.info();
    assert.equal(after.cc, "bbr");
    assert.equal(after.cwnd, before.cwnd, "the window carries over");
    s.setCongestionControl("reno");
    assert.equal(s.info().cc, "newreno", "reno is NewReno's other name");
    await transfer;
    assert.equal(c.info().cc, "bbr");
    assert.ok(c.info().pacingRate! > 0, "BBR paces");
    c.close();
    s.close();
  });
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp congestion control names: unknown or not a string → TypeError; a closed connection → BadResource", async () => {
  const env = makeLink({ seed: 3 });
  assert.throws(() => env.b.listen({ port: 80, congestionControl: "vegas" }), TypeError);
  assert.throws(
    () => env.b.listen({ port: 80, congestionControl: 7 as unknown as string }),
    TypeError,
  );
  const l = env.b.listen({ port: 80 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    assert.throws(() => c.setCongestionControl("vegas"), TypeError);
    assert.throws(() => c.setCongestionControl(null as unknown as string), TypeError);
    assert.equal(c.info().cc, "cubic", "unchanged");
    c.close();
    assert.throws(() => c.setCongestionControl("bbr"), Deno.errors.BadResource);
    assert.throws(() => c.info(), Deno.errors.BadResource);
    s.close();
  });
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

/** A window that never moves: 4 segments (a plugin's own algorithm). */
class FixedWindow implements CongestionControl {
  readonly name = "fixed4";
  cwnd: number;
  ssthresh = Infinity;
  #mss: number;
  constructor(mss: number) {
    this.#mss = mss;
    this.cwnd = 4 * mss;
  }
  setMss(mss: number): void {
    this.#mss = mss;
    this.cwnd = 4 * mss;
  }
  onAck(): void {}
  onCongestion(): void {
    this.cwnd = 4 * this.#mss;
  }
  onTimeout(): void {
    this.cwnd = 4 * this.#mss;
  }
}

const fixedPlugin = congestionPlugin(
  "fixed4",
  "test: registers a fixed-window congestion control",
  (mss) => new FixedWindow(mss),
);

Deno.test("tcp congestion control registered by a plugin → usable by name, and as the stack-wide default", async () => {
  const env = makeLink({
    seed: 4,
    extraPlugins: [fixedPlugin],
    plugins: { tcp: { congestionControl: "bbr" } },
    faults: { delay: ms(10) },
  });
  const l = env.b.listen({ port: 80 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, congestionControl: "fixed4" }),
      l.accept(),
    ]);
    assert.equal(c.info().cc, "fixed4");
    assert.equal(s.info().cc, "bbr", "the stack-wide default");
    await exchangeBoth(c, s, 9, 256 << 10);
    assert.equal(c.info().cwnd, 4, "the plugin's window");
    c.setCongestionControl("cubic");
    c.setCongestionControl("fixed4");
    assert.equal(c.info().cc, "fixed4");
    c.close();
    s.close();
  });
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp plugin option congestionControl naming no algorithm → the stack reports it at boot, and listen/connect refuse", async () => {
  const env = makeLink({ seed: 5, plugins: { tcp: { congestionControl: "vegas" } } });
  assert.ok(
    env.a.counters.value("tcp.fault") > 0 || env.a.counters.value("dispatcher.plugin_fault") > 0,
  );
  assert.throws(() => env.b.listen({ port: 80 }), TypeError);
  await assert.rejects(env.a.connect({ hostname: "10.0.0.2", port: 80 }), TypeError);
  env.finish();
});
