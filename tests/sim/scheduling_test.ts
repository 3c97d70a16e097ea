/**
 * Node scheduling on the virtual network (issue 19): a node that watches its
 * own deadline is not asked for it at every step, and one that does not is.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type NetworkNode, VirtualNetwork } from "../../mod.ts";

/** Polled every 1 ms for `ticks` times; counts how often it is asked. */
function ticker(ticks: number, watch: boolean) {
  let done = 0, asked = 0;
  const node: NetworkNode & { asked(): number; done(): number } = {
    pollAt: () => {
      asked++;
      return done < ticks ? (done + 1) * 1_000 : undefined;
    },
    poll: () => void done++,
    asked: () => asked,
    done: () => done,
  };
  if (watch) node.watchPollAt = () => {}; // its deadline only moves when it is polled
  return node;
}

Deno.test("VirtualNetwork asks a node that watches its deadline only after its polls, not at every step", () => {
  const net = new VirtualNetwork();
  const busy = net.addNode(ticker(1_000, true)); // 1,000 steps of work
  const idle = net.addNode(ticker(0, true));
  const legacy = net.addNode(ticker(0, false));
  net.runFor(2_000_000);
  assert.equal(busy.done(), 1_000);
  assert.ok(idle.asked() <= 2, `idle node asked ${idle.asked()} times`);
  assert.ok(legacy.asked() >= 1_000, `unwatched node asked ${legacy.asked()} times`);
});

Deno.test("VirtualNetwork polls due nodes in the order they were added", () => {
  const net = new VirtualNetwork();
  const order: string[] = [];
  for (const name of ["a", "b", "c"]) {
    let fired = false;
    net.addNode({
      pollAt: () => fired ? undefined : (name === "b" ? 500 : 1_000),
      poll: () => {
        fired = true;
        order.push(name);
      },
      watchPollAt: () => {},
    });
  }
  net.runFor(2_000);
  assert.deepEqual(order, ["b", "a", "c"]);
});
