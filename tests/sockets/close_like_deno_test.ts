/**
 * A socket closed under a waiting call, and calls after, as Deno does it:
 * the scenarios of `_close_cases.ts` run on real Deno sockets on loopback
 * (`_deno_close_probe.ts`, a child `deno run --unstable-net`) and on ours
 * (IPv4 and IPv6), and the error classes must match, so the table in
 * `stack/sockets/errors.ts` cannot drift from Deno. Our messages keep the
 * table's own form ("Cannot read: the socket is closed").
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { type LinkPair, ms, withEnv } from "../_harness.ts";
import { dualLink } from "./_dual.ts";
import { type CaseNet, CASES, errorClass, runCases } from "./_close_cases.ts";

/** Real Deno's outcomes (a child process: `Deno.listenDatagram` needs `--unstable-net`). */
async function realDeno(): Promise<Record<string, string>> {
  const probe = new URL("./_deno_close_probe.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net=127.0.0.1",
      "--allow-run=python3",
      "--no-prompt",
      probe.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `the probe failed: ${err}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Our sockets from host a to host b of `env`, over IPv4 or IPv6. */
function ourNet(env: LinkPair, family: 4 | 6): CaseNet {
  const { a, b, net } = env;
  const peer = family === 4 ? "10.0.0.2" : "fd00::2";
  const hostname = family === 4 ? "0.0.0.0" : "::";
  let port = 1000;
  const pair = async () => {
    const l = b.listen({ hostname, port: ++port });
    const [c, s] = await Promise.all([a.connect({ hostname: peer, port }), l.accept()]);
    const done = () => {
      s.close();
      l.close();
    };
    return { c, s, done };
  };
  const ours: CaseNet = {
    peer,
    pair,
    async pairToReset() {
      const { c, s, done } = await pair();
      const reset = async () => {
        c.setLinger(0); // close() then sends an RST, as SO_LINGER 0 does
        c.close();
        await ours.sleep(10);
      };
      return { s, reset, done };
    },
    listen: () => b.listen({ hostname, port: ++port }),
    listenDatagram: () => a.listenDatagram({ transport: "udp", hostname, port: ++port }),
    sleep: (t) => new Promise((done) => net.at(net.now() + ms(t), done)),
  };
  return ours;
}

/** Our outcomes, over IPv4 or IPv6. */
async function ours(family: 4 | 6): Promise<Record<string, string>> {
  let out: Record<string, string> = {};
  await withEnv(dualLink(3), async (env) => {
    out = await env.run(() => runCases(ourNet(env, family)));
  });
  return out;
}

Deno.test(gated(["python3"], {
  name: "closing under a waiting call: our sockets give the error classes real Deno gives",
  async fn() {
    const real = await realDeno();
    for (const family of [4, 6] as const) {
      const mine = await ours(family);
      assert.deepEqual(Object.keys(mine).sort(), Object.keys(real).sort());
      for (const [name, theirs] of Object.entries(real)) {
        assert.equal(
          errorClass(mine[name]!),
          errorClass(theirs),
          `IPv${family} ${name}: ours "${mine[name]}", Deno "${theirs}"`,
        );
      }
    }
  },
}));

Deno.test("closing under a waiting call: our words, in the table's 'Cannot <op>: why' form", async () => {
  const mine = await ours(4);
  assert.deepEqual(
    [
      mine[CASES.pendingRead],
      mine[CASES.pendingWrite],
      mine[CASES.readAfter],
      mine[CASES.pendingAccept],
      mine[CASES.pendingReceive],
      mine[CASES.sendAfter],
      mine[CASES.pendingReadReset],
      mine[CASES.readAfterReset],
    ],
    [
      "Interrupted: Cannot read: the socket is closed",
      "Interrupted: Cannot write: the socket is closed",
      "BadResource: Cannot read: the socket is closed",
      "BadResource: Cannot accept: the socket is closed",
      "Interrupted: Cannot receive: the socket is closed",
      "BadResource: Cannot send to 10.0.0.2:9: the socket is closed",
      "ConnectionReset: Cannot read: Connection reset by peer",
      "ConnectionReset: Cannot read: Connection reset by peer",
    ],
  );
});
