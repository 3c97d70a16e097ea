import assert from "node:assert/strict";
import { createStack, type StreamService } from "../../mod.ts";

Deno.test("tcp listener: the stack closing ends pending accepts and for await, as for udp receive", async () => {
  const s = createStack({ seed: 1 });
  const listener = s.listen({ port: 80 });
  const udp = s.listenDatagram({ transport: "udp", port: 7 });
  const pending = listener.accept();
  const loop = (async () => {
    let n = 0;
    for await (const _ of listener) n++;
    return n;
  })();
  const receive = udp.receive();
  s.close();
  // Cut short by the stack, not closed by the user: Interrupted (errors.ts's rule).
  await assert.rejects(pending, Deno.errors.Interrupted, "Cannot accept: the stack is closed");
  await assert.rejects(receive, Deno.errors.Interrupted, "Cannot receive: the stack is closed");
  assert.equal(await loop, 0);
  // The user may still close what the stack closed, once; twice is BadResource.
  listener.close();
  udp.close();
  assert.throws(() => listener.close(), Deno.errors.BadResource);
  assert.throws(() => udp.close(), Deno.errors.BadResource);
});

Deno.test("tcp listener: abortAll() (cli up's shutdown) ends pending accepts too", async () => {
  const s = createStack({ seed: 1 });
  const listener = s.listen({ port: 80 });
  const pending = listener.accept();
  s.service<StreamService>("tcp.sockets")!.abortAll!();
  await assert.rejects(pending, Deno.errors.Interrupted);
  listener.close();
  s.close();
});
