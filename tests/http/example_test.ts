/**
 * The README's HTTP example (`examples/json_service.ts`) on the virtual
 * network: a JSON service and a client with retries across a lossy link, a
 * partition that heals, and a server restart; asserting on what the client
 * gets, on what the server stored (each note once), and on the capture
 * (tshark decodes every HTTP message, the restart shows as refused SYNs).
 */
import assert from "node:assert/strict";
import { fetchJson, type Note, NoteStore, serveNotes } from "../../examples/json_service.ts";
import {
  delay,
  makeServiceEnv,
  SERVER,
  type ServiceEnv,
  withServiceEnv,
} from "../services/_services.ts";
import { assertTsharkClean, runTshark, tsharkUnavailable } from "../_tshark.ts";
import { cannotCheck } from "../_require.ts";

function sleeper(env: ServiceEnv): (ms: number) => Promise<void> {
  return (ms) => delay(env, ms * 1000);
}

Deno.test("example: notes survive loss, a partition that heals and a server restart", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: [], capture: true, seed: 5, faults: { loss: 0.03, delay: 5_000 } }),
    async (env) => {
      env.client.hosts.set("notes", SERVER);
      const store = new NoteStore();
      let server = serveNotes(env.server, store);
      const retries: string[] = [];
      const sleep = sleeper(env);
      const post = (text: string) =>
        fetchJson<Note>(env.client, "http://notes/notes", {
          method: "POST",
          body: { text },
          sleep,
          onRetry: (_n, why) => retries.push(why),
        });

      // 1. A lossy link: TCP hides the loss, every note arrives once.
      await env.run(async () => {
        for (let i = 1; i <= 20; i++) assert.equal((await post(`note ${i}`)).id, i);
      });
      assert.equal(retries.length, 0, `loss alone needs no retry: ${retries}`);

      // 2. A partition of 3 s: attempts time out, then one gets through.
      await env.run(async () => {
        env.link.partition();
        env.net.at(env.net.now() + 3_000_000, () => env.link.heal());
        assert.equal((await post("across the partition")).id, 21);
      });
      assert.ok(retries.length >= 2, `retried: ${retries}`);
      assert.deepEqual(new Set(retries), new Set(["TimedOut"]), `retried: ${retries}`);

      // 3. The server restarts (down 1 s): refused connections, then the new server.
      retries.length = 0;
      await env.run(async () => {
        await server.shutdown();
        env.net.at(env.net.now() + 1_000_000, () => server = serveNotes(env.server, store));
        assert.equal((await post("after the restart")).id, 22);
      });
      assert.ok(retries.includes("ConnectionRefused"), `retried: ${retries}`);

      const notes = await env.run(() =>
        fetchJson<Note[]>(env.client, "http://notes/notes", { sleep })
      );
      assert.equal(notes.length, 22, "each note stored once, retries included");
      assert.deepEqual(notes.map((n) => n.id), Array.from({ length: 22 }, (_, i) => i + 1));
      await env.run(() => server.shutdown());

      const why = await tsharkUnavailable();
      if (why !== undefined) return cannotCheck("the capture with tshark", why);
      const capture = env.capture!.bytes();
      await assertTsharkClean(capture, {
        // D-SACK (RFC 2883): the receiver reporting a duplicate after loss and reordering.
        allowWarnings: [/^Connection establish request/, /^Connection reset/, /^D-SACK Sequence$/],
      });
      const posts = await runTshark(capture, ["-Y", 'http.request.method == "POST"']);
      assert.ok(posts.split("\n").filter((l) => l !== "").length >= 22);
      const created = await runTshark(capture, ["-Y", "http.response.code == 201"]);
      assert.ok(created.split("\n").filter((l) => l !== "").length >= 22);
      const refused = await runTshark(capture, [
        "-Y",
        "tcp.flags.reset == 1 && ip.src == 10.0.0.2 && tcp.srcport == 80",
      ]);
      assert.ok(refused.trim() !== "", "the restart shows as RSTs from port 80");
    },
  );
});
