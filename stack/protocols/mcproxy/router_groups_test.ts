import assert from "node:assert/strict";
import { GroupRecordType as T, NEVER } from "../../ip/multicast_groups.ts";
import { RouterMembership, type RouterRefusal, type RouterTimers } from "./router_groups.ts";

const t: RouterTimers = { gmi: 260, lmqt: 2, lmqi: 1, lmqc: 2 };
const G = 0xef010203;

function db(maxSources = 8, maxGroups = 4) {
  const refused: RouterRefusal[] = [];
  const m = new RouterMembership({ maxGroups, maxSources, refused: (w) => refused.push(w) });
  return { m, refused };
}

/** The state as `mode sources(timer)`; NEVER prints as `off`. */
function state(m: RouterMembership): string {
  const g = m.groups.get(G);
  if (g === undefined) return "none";
  const s = [...g.sources].map(([k, at]) => `${k}:${at === NEVER ? "off" : at}`).join(",");
  return `${g.mode} gt=${g.groupTimer === NEVER ? "off" : g.groupTimer} ${s}`.trimEnd();
}

Deno.test("RouterMembership INCLUDE + ALLOW(B): INCLUDE(A+B), B=GMI", () => {
  const { m } = db();
  m.record(G, T.ALLOW_NEW_SOURCES, [1], 3, 0, t, true);
  m.record(G, T.ALLOW_NEW_SOURCES, [2], 3, 10, t, true);
  assert.equal(state(m), "include gt=off 1:260,2:270");
});

Deno.test("RouterMembership INCLUDE + BLOCK(B): Q(G,A*B) LMQC times, A*B timers to LMQT, then deleted", () => {
  const { m } = db();
  m.record(G, T.ALLOW_NEW_SOURCES, [1, 2], 3, 0, t, true);
  m.record(G, T.BLOCK_OLD_SOURCES, [2, 3], 3, 10, t, true);
  assert.equal(state(m), "include gt=off 1:260,2:12");
  assert.deepEqual(m.takeQueries(10, t), [{ group: G, suppress: false, sources: [2] }]);
  assert.deepEqual(m.takeQueries(11, t), [{ group: G, suppress: false, sources: [2] }]);
  assert.deepEqual(m.takeQueries(12, t), []);
  assert.deepEqual(m.expire(12), [G]);
  assert.equal(state(m), "include gt=off 1:260");
});

Deno.test("RouterMembership INCLUDE + TO_EX(B): EXCLUDE(A*B, B-A), A-B deleted, group timer GMI, Q(G,A*B)", () => {
  const { m } = db();
  m.record(G, T.ALLOW_NEW_SOURCES, [1, 2], 3, 0, t, true);
  m.record(G, T.CHANGE_TO_EXCLUDE, [2, 3], 3, 10, t, true);
  assert.equal(state(m), "exclude gt=270 2:12,3:off");
  assert.deepEqual(m.takeQueries(10, t), [{ group: G, suppress: false, sources: [2] }]);
  assert.equal(m.forwards(G, 2), true, "requested list");
  assert.equal(m.forwards(G, 3), false, "exclude list");
  assert.equal(m.forwards(G, 9), true, "any other source");
  assert.deepEqual(m.filterOf(G), { mode: "exclude", sources: new Set([3]) });
});

Deno.test("RouterMembership INCLUDE + TO_IN(B): INCLUDE(A+B), B=GMI, Q(G,A-B)", () => {
  const { m } = db();
  m.record(G, T.ALLOW_NEW_SOURCES, [1, 2], 3, 0, t, true);
  m.record(G, T.CHANGE_TO_INCLUDE, [2, 3], 3, 10, t, true);
  assert.equal(state(m), "include gt=off 1:12,2:270,3:270");
  assert.deepEqual(m.takeQueries(10, t), [{ group: G, suppress: false, sources: [1] }]);
});

Deno.test("RouterMembership EXCLUDE + BLOCK(A): A-X-Y get the group timer, Q(G,A-Y)", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [5], 3, 0, t, true); // EXCLUDE({}, {5})
  m.record(G, T.BLOCK_OLD_SOURCES, [5, 6], 3, 10, t, true);
  assert.equal(state(m), "exclude gt=260 5:off,6:12");
  assert.deepEqual(m.takeQueries(10, t), [{ group: G, suppress: false, sources: [6] }]);
});

Deno.test("RouterMembership EXCLUDE + TO_EX(A): EXCLUDE(A-Y, Y*A), X-A and Y-A deleted, group timer GMI", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [5, 6], 3, 0, t, true); // Y = {5, 6}
  m.record(G, T.ALLOW_NEW_SOURCES, [7], 3, 0, t, true); // X = {7}
  m.record(G, T.CHANGE_TO_EXCLUDE, [6, 8], 3, 10, t, true);
  assert.equal(state(m), "exclude gt=270 6:off,8:12");
});

Deno.test("RouterMembership EXCLUDE + TO_IN(A): A=GMI, Q(G,X-A) and Q(G); the group timer falls to LMQT", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [], 3, 0, t, true);
  m.record(G, T.ALLOW_NEW_SOURCES, [7], 3, 0, t, true);
  m.record(G, T.CHANGE_TO_INCLUDE, [], 3, 10, t, true);
  assert.equal(state(m), "exclude gt=12 7:12");
  assert.deepEqual(m.takeQueries(10, t), [
    { group: G, suppress: false, sources: [] },
    { group: G, suppress: false, sources: [7] },
  ]);
  // A member answers IS_EX({}): the group timer is GMI again (the retransmission has S
  // set) and X-A = {7} is deleted, so its query is not repeated.
  m.record(G, T.MODE_IS_EXCLUDE, [], 3, 10, t, true);
  assert.equal(state(m), "exclude gt=270");
  assert.deepEqual(m.takeQueries(11, t), [{ group: G, suppress: true, sources: [] }]);
  assert.deepEqual(m.takeQueries(12, t), []);
});

Deno.test("RouterMembership EXCLUDE group timer expiry: back to INCLUDE with the running sources, or gone", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [5], 3, 0, t, false);
  m.record(G, T.ALLOW_NEW_SOURCES, [7], 3, 100, t, false);
  assert.deepEqual(m.expire(260), [G]);
  assert.equal(state(m), "include gt=off 7:360");
  m.expire(360);
  assert.equal(state(m), "none");
});

Deno.test("RouterMembership EXCLUDE source timer expiry moves the source to the Exclude List", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [], 3, 0, t, false);
  m.record(G, T.ALLOW_NEW_SOURCES, [7], 3, 0, t, false);
  m.record(G, T.MODE_IS_EXCLUDE, [7], 3, 100, t, false); // group timer 360, 7 stays at 260
  m.expire(260);
  assert.equal(state(m), "exclude gt=360 7:off");
  assert.equal(m.forwards(G, 7), false);
});

Deno.test("RouterMembership not the querier: no queries, no timers lowered by our own action", () => {
  const { m } = db();
  m.record(G, T.CHANGE_TO_EXCLUDE, [], 3, 0, t, false);
  m.record(G, T.CHANGE_TO_INCLUDE, [], 3, 10, t, false);
  assert.equal(state(m), "exclude gt=260");
  assert.deepEqual(m.takeQueries(10, t), []);
  m.heardQuery(G, [], 20, t); // the querier's Q(G) (§6.6.1)
  assert.equal(state(m), "exclude gt=22");
});

Deno.test("RouterMembership v2 host (§7.3.2): Report is IS_EX({}), Leave is TO_IN({}), BLOCK ignored, TO_EX sources dropped", () => {
  const { m } = db();
  m.record(G, T.MODE_IS_EXCLUDE, [], 2, 0, t, true);
  assert.equal(m.groups.get(G)!.v2HostUntil, 260);
  m.record(G, T.BLOCK_OLD_SOURCES, [1], 3, 1, t, true);
  m.record(G, T.CHANGE_TO_EXCLUDE, [1], 3, 1, t, true);
  assert.equal(state(m), "exclude gt=261", "no source state while a v2 host is present");
  m.record(G, T.CHANGE_TO_INCLUDE, [], 2, 2, t, true); // the Leave
  assert.equal(state(m), "exclude gt=4");
  m.expire(4);
  assert.equal(state(m), "none");
});

Deno.test("RouterMembership v1 host: a Leave is ignored", () => {
  const { m } = db();
  m.record(G, T.MODE_IS_EXCLUDE, [], 1, 0, t, true);
  m.record(G, T.CHANGE_TO_INCLUDE, [], 2, 1, t, true);
  assert.equal(state(m), "exclude gt=260");
  assert.deepEqual(m.takeQueries(1, t), []);
});

Deno.test("RouterMembership bounds: groups and sources beyond the limits are refused", () => {
  const { m, refused } = db(2, 1);
  m.record(G, T.ALLOW_NEW_SOURCES, [1, 2, 3], 3, 0, t, true);
  m.record(G + 1, T.CHANGE_TO_EXCLUDE, [], 3, 0, t, true);
  assert.equal(state(m), "include gt=off 1:260,2:260");
  assert.equal(m.groups.size, 1);
  assert.deepEqual(refused, ["sources_full", "groups_full"]);
});

Deno.test("RouterMembership records that ask for nothing create no state; nextDeadline is the earliest timer", () => {
  const { m } = db();
  assert.equal(m.record(G, T.CHANGE_TO_INCLUDE, [], 3, 0, t, true), false);
  assert.equal(m.record(G, T.BLOCK_OLD_SOURCES, [1], 3, 0, t, true), false);
  assert.equal(m.groups.size, 0);
  assert.equal(m.nextDeadline(), NEVER);
  m.record(G, T.ALLOW_NEW_SOURCES, [1], 3, 5, t, true);
  assert.equal(m.nextDeadline(), 265);
});
