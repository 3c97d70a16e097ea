/**
 * What each network-layer hook point sees besides the packet: input and
 * output interface and route, as netfilter's (`stack/hooks.ts`).
 */
import assert from "node:assert/strict";
import { makeRoutedNet } from "../routing/_topology.ts";
import { type HookCall, recorder } from "./_hooks.ts";

const ALL = [
  { point: "prerouting" },
  { point: "input" },
  { point: "forward" },
  { point: "output" },
  { point: "postrouting" },
] as const;

function where(c: HookCall) {
  return {
    point: c.point,
    inIface: c.inIface,
    outIface: c.outIface,
    nextHop: c.nextHop,
    mtu: c.mtu,
    local: c.local,
  };
}

Deno.test("hooks: a forwarded packet: prerouting (in only), forward and postrouting (in, out, route)", async () => {
  const calls: HookCall[] = [];
  const n = makeRoutedNet({
    midMtu: 1400,
    routerExtraPlugins: (r) => r === "r1" ? [recorder("rec", ALL, calls)] : [],
  });
  await n.run(() => n.h1.ping("10.3.0.30"));
  const request = calls.filter((c) => c.icmpType === 8).map(where);
  assert.deepEqual(request, [
    { point: "prerouting", inIface: "eth0", outIface: null, nextHop: null, mtu: 0, local: null },
    {
      point: "forward",
      inIface: "eth0",
      outIface: "eth1",
      nextHop: "10.12.0.2",
      mtu: 1400,
      local: false,
    },
    {
      point: "postrouting",
      inIface: "eth0",
      outIface: "eth1",
      nextHop: "10.12.0.2",
      mtu: 1400,
      local: false,
    },
  ]);
  // The reply comes back the other way, to a directly connected host.
  const reply = calls.filter((c) => c.icmpType === 0 && c.point === "postrouting").map(where);
  assert.deepEqual(reply, [
    {
      point: "postrouting",
      inIface: "eth1",
      outIface: "eth0",
      nextHop: "10.1.0.10",
      mtu: 1500,
      local: false,
    },
  ]);
  n.finish();
});

Deno.test("hooks: a locally sent packet: output and postrouting know the outgoing interface and route", async () => {
  const calls: HookCall[] = [];
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [recorder("rec", ALL, calls)] : [],
  });
  await n.run(() => n.r1.ping("10.3.0.30"));
  const request = calls.filter((c) => c.icmpType === 8).map(where);
  const route = { outIface: "eth1", nextHop: "10.12.0.2", mtu: 1500, local: false };
  assert.deepEqual(request, [
    { point: "output", inIface: null, ...route },
    { point: "postrouting", inIface: null, ...route },
  ]);
  // The reply is for R1: prerouting, then input with the local route.
  const reply = calls.filter((c) => c.icmpType === 0).map(where);
  assert.deepEqual(reply, [
    { point: "prerouting", inIface: "eth1", outIface: null, nextHop: null, mtu: 0, local: null },
    {
      point: "input",
      inIface: "eth1",
      outIface: null,
      nextHop: "10.12.0.1", // R1's address on eth1, the source it chose
      mtu: 1500,
      local: true,
    },
  ]);
  n.finish();
});
