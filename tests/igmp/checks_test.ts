/**
 * The receive checks of the IGMP host (RFC 3376 §9): queries that could
 * only come from off the link or from a forger are ignored, each reason
 * counted, and they change nothing (no answer, no compatibility mode).
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { igmpHost, igmpQuery, type IgmpQueryOptions, otherReport, readIgmp } from "./_igmp.ts";

type IgmpHost = ReturnType<typeof igmpHost>;

function joined(options: Parameters<typeof igmpHost>[0] = {}): IgmpHost {
  const h = igmpHost(options);
  h.stack.service<MulticastGroupsService>("igmp.groups")!.join(h.iface.index, "239.1.2.3");
  h.runFor(ms(3000));
  h.takeIgmp();
  return h;
}

/** Injects a query built from `o` and returns the types of the IGMP messages sent within 11 s. */
function answers(h: IgmpHost, o: IgmpQueryOptions): number[] {
  return h.injectIgmp(igmpQuery({ maxResp: 100, ...o }), ms(11_000)).map((p) => readIgmp(p).type);
}

Deno.test("igmp §9.1: a v3 query without Router Alert, a query with a TTL above 1 and a General Query to a group are ignored and counted", () => {
  const h = joined();
  const cases: [string, IgmpQueryOptions][] = [
    ["igmp.rx.no_router_alert", { routerAlert: false }],
    ["igmp.rx.no_router_alert", { group: "239.1.2.3", routerAlert: false }],
    ["igmp.rx.bad_ttl", { ttl: 2 }],
    ["igmp.rx.bad_ttl", { version: 2, ttl: 64 }],
    ["igmp.rx.bad_ttl", { version: 1, ttl: 2 }],
    ["igmp.rx.bad_destination", { dst: "239.1.2.3" }],
    ["igmp.rx.bad_destination", { version: 2, dst: "239.1.2.3" }],
  ];
  for (const [counter, o] of cases) {
    const before = h.counter(counter);
    assert.deepEqual(answers(h, o), [], JSON.stringify(o));
    assert.equal(h.counter(counter), before + 1, `${counter} for ${JSON.stringify(o)}`);
  }
  const received = h.counter("igmp.rx.queries_v1") + h.counter("igmp.rx.queries_v2") +
    h.counter("igmp.rx.queries_v3");
  assert.equal(received, 0, "none reached the query handling");
  assert.equal(h.counter("igmp.mode.v1") + h.counter("igmp.mode.v2"), 0, "still IGMPv3");
  // The same queries, well-formed, are answered (v3: one Current-State report).
  assert.deepEqual(answers(h, {}), [0x22]);
  assert.deepEqual(answers(h, { group: "239.1.2.3" }), [0x22]);
  assert.deepEqual(
    answers(h, { dst: "10.0.0.1" }),
    [0x22],
    "a General Query unicast to us is fine",
  );
  h.finish();
});

Deno.test("igmp a v2 query without Router Alert is answered by default (IGMPv2 routers omit it, as in IGMP_V2.pcap), ignored with requireRouterAlertV2; v1 has none", () => {
  const lax = joined();
  assert.deepEqual(answers(lax, { version: 2, routerAlert: false }), [0x16]);
  lax.finish();
  const strict = joined({ plugins: { igmp: { requireRouterAlertV2: true } } });
  assert.deepEqual(answers(strict, { version: 2, routerAlert: false }), []);
  assert.equal(strict.counter("igmp.rx.no_router_alert"), 1);
  assert.equal(strict.counter("igmp.mode.v2"), 0);
  assert.deepEqual(answers(strict, { version: 1, routerAlert: false }), [0x12], "RFC 1112 queries");
  strict.finish();
});

Deno.test("igmp in v2 mode another host's report with a TTL above 1 suppresses nothing", () => {
  const h = joined();
  const sent = h.injectIgmp(igmpQuery({ version: 2, maxResp: 100 }));
  assert.deepEqual(sent, []);
  const forged = h.injectIgmp(otherReport("239.1.2.3", 2, 2));
  assert.deepEqual(forged, []);
  assert.equal(h.counter("igmp.rx.bad_ttl"), 1);
  assert.equal(h.counter("igmp.rx.suppressed"), 0);
  h.runFor(ms(11_000));
  assert.deepEqual(h.takeIgmp().map((p) => readIgmp(p).type), [0x16], "our report still goes");
  h.finish();
});

Deno.test("igmp requireRouterAlertV2 must be a boolean: the boot fails", () => {
  assert.throws(
    () => igmpHost({ plugins: { igmp: { requireRouterAlertV2: 1 } } }),
    /option "requireRouterAlertV2" must be a boolean/,
  );
});
