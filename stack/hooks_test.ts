import assert from "node:assert/strict";
import { Dispatcher } from "./dispatcher.ts";
import type { LinkDriver } from "./driver.ts";
import { HookContext, HookContexts } from "./hooks.ts";
import {
  ACCEPT,
  CONSUMED,
  type HookJoin,
  type PluginContext,
  validateManifest,
} from "./manifest.ts";
import type { PacketBuffer } from "./packet.ts";
import { testPlugin } from "../tests/_harness.ts";

const sinkDriver = (): LinkDriver => ({
  linkType: 1,
  mtu: 1500,
  attach() {},
  transmit(pkt: PacketBuffer) {
    pkt.release();
  },
  close() {},
});

interface Seen {
  point: string;
  inIface: string | null;
  outIface: string | null;
  route: boolean;
  same: HookContext;
}

/** A stack of a link plugin consuming everything, plus `joins` recorded into `seen`. */
function stackWith(joins: HookJoin[], seen: Seen[], others: HookJoin[] = []) {
  let pctx: PluginContext | undefined;
  const d = new Dispatcher({
    plugins: [
      testPlugin({ name: "l2", binds: [{ table: "link", key: 1 }] }, (ctx) => {
        pctx = ctx;
        return { receive: () => CONSUMED };
      }),
      testPlugin({ name: "watch", hooks: joins }, () => ({
        hook(point, _pkt, h) {
          seen.push({
            point,
            inIface: h.inIface?.name ?? null,
            outIface: h.outIface?.name ?? null,
            route: h.route !== null,
            same: h,
          });
          return ACCEPT;
        },
      })),
      ...(others.length > 0
        ? [testPlugin({ name: "other", hooks: others }, () => ({ hook: () => ACCEPT }))]
        : []),
    ],
    log: () => {},
  });
  const iface = d.addInterface({ name: "eth0", driver: sinkDriver() });
  return { d, iface, ctx: pctx! };
}

Deno.test("HookContexts reuses one context per nesting level and clears it on enter", () => {
  const hooks = new HookContexts(4);
  const a = hooks.enter("forward");
  a.setRoute(3, 0x0a000001, 1400, false);
  assert.deepEqual(a.route, { ifindex: 3, nextHop: 0x0a000001, mtu: 1400, local: false });
  assert.equal(a.route, a.routeSlot, "the route is the reused slot");
  assert.equal(a.family, 4);
  const b = hooks.enter("output");
  assert.notEqual(a, b);
  assert.equal(b.point, "output");
  hooks.leave();
  hooks.leave();
  hooks.leave(); // an extra leave does not underflow
  const again = hooks.enter("input");
  assert.equal(again, a);
  assert.equal(again.route, null);
  assert.equal(again.point, "input");
});

Deno.test("ingress hooks see the input interface; egress hooks the output interface", () => {
  const seen: Seen[] = [];
  const { d, iface } = stackWith([{ point: "ingress" }, { point: "egress" }], seen);
  d.inject(iface.index, new Uint8Array([1, 2, 3]));
  const pkt = d.pool.alloc(3);
  pkt.append(3);
  d.transmit(iface.index, pkt);
  assert.deepEqual(
    seen.map(({ same: _, ...s }) => s),
    [
      { point: "ingress", inIface: "eth0", outIface: null, route: false },
      { point: "egress", inIface: null, outIface: "eth0", route: false },
    ],
  );
  assert.equal(seen[0]!.same, seen[1]!.same, "one context reused, no allocation per packet");
});

Deno.test("runHooks passes the caller's context, or a bare one for the point", () => {
  const seen: Seen[] = [];
  const { d, iface, ctx } = stackWith([{ point: "forward" }], seen);
  const pkt = d.pool.alloc(0);
  const mine = new HookContext();
  mine.point = "forward";
  mine.inIface = iface;
  mine.outIface = iface;
  mine.setRoute(iface.index, 1, 1500, false);
  assert.equal(ctx.runHooks("forward", pkt, mine), ACCEPT);
  assert.equal(seen[0]!.same, mine);
  assert.equal(ctx.runHooks("forward", pkt), ACCEPT);
  assert.deepEqual(
    { point: seen[1]!.point, inIface: seen[1]!.inIface, route: seen[1]!.route },
    { point: "forward", inIface: null, route: false },
  );
  pkt.release();
});

Deno.test("hooksWantDefrag answers whether any plugin joined the point with defrag: true", () => {
  const { ctx } = stackWith([{ point: "prerouting" }], [], [{ point: "prerouting", defrag: true }]);
  assert.equal(ctx.hooksWantDefrag("prerouting"), true);
  assert.equal(ctx.hooksWantDefrag("input"), false);
  const plain = stackWith([{ point: "prerouting" }], []);
  assert.equal(plain.ctx.hooksWantDefrag("prerouting"), false);
});

Deno.test("validateManifest accepts defrag: true and refuses a non-boolean defrag", () => {
  const base = {
    name: "ct",
    version: "1.0.0",
    api: "^1.0.0",
    description: "x",
    layer: "middlebox",
    binds: [],
    counters: [],
  };
  validateManifest({ ...base, hooks: [{ point: "prerouting", defrag: true }] });
  assert.throws(
    () => validateManifest({ ...base, hooks: [{ point: "prerouting", defrag: "yes" }] }),
    /hook defrag must be a boolean/,
  );
});
