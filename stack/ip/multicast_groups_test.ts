import assert from "node:assert/strict";
import {
  GroupRecordType as T,
  type KeyFilter,
  mergeFilters,
  MulticastGroupTable,
  NEVER,
  packRecords,
  stateChangeRecords,
} from "./multicast_groups.ts";

const inc = (...s: number[]): KeyFilter => ({ mode: "include", sources: new Set(s) });
const exc = (...s: number[]): KeyFilter => ({ mode: "exclude", sources: new Set(s) });
const G = 0xef010203;
const show = (f: KeyFilter) => `${f.mode}{${[...f.sources].sort().join(",")}}`;

Deno.test("mergeFilters: no holder is INCLUDE {}", () => {
  assert.equal(show(mergeFilters([])), "include{}");
});

Deno.test("mergeFilters: INCLUDE holders give INCLUDE with the union (RFC 3376 §3.2)", () => {
  assert.equal(show(mergeFilters([inc(1, 2), inc(2, 3)])), "include{1,2,3}");
});

Deno.test("mergeFilters: EXCLUDE holders give EXCLUDE with the intersection", () => {
  assert.equal(show(mergeFilters([exc(1, 2, 3), exc(2, 3, 4), exc(3, 2)])), "exclude{2,3}");
});

Deno.test("mergeFilters: any EXCLUDE wins, minus the union of the INCLUDE lists", () => {
  assert.equal(show(mergeFilters([inc(1), exc(1, 2, 3), inc(3, 7)])), "exclude{2}");
  assert.equal(show(mergeFilters([exc(), inc(5)])), "exclude{}");
});

Deno.test("stateChangeRecords follows RFC 3376 §5.1's table", () => {
  const rows: [KeyFilter, KeyFilter, string][] = [
    [inc(1, 2), inc(2, 3), "5:3 6:1"], // ALLOW(B-A) BLOCK(A-B)
    [exc(1, 2), exc(2, 3), "5:1 6:3"], // ALLOW(A-B) BLOCK(B-A)
    [inc(1), exc(4, 5), "4:4,5"], // TO_EX(B)
    [exc(1), inc(6), "3:6"], // TO_IN(B)
    [inc(), exc(), "4:"], // a join
    [exc(), inc(), "3:"], // a leave
    [exc(1), exc(1), ""],
    [inc(1, 2), inc(1), "6:2"],
  ];
  for (const [a, b, want] of rows) {
    const got = stateChangeRecords(a, b).map((r) => `${r.type}:${[...r.sources].join(",")}`).join(
      " ",
    );
    assert.equal(got, want, `${show(a)} -> ${show(b)}`);
  }
});

function table(maxGroups = 4, maxSources = 4) {
  const events: string[] = [];
  const t = new MulticastGroupTable({
    maxGroups,
    maxSources,
    isReported: (k) => k !== 0xe0000001,
    onListening: (i, k, on) => events.push(`${i}:${(k as number).toString(16)}:${on}`),
  });
  return { t, events };
}

const recs = (r: { records: { type: number; sources: readonly unknown[] }[] }) =>
  r.records.map((x) => `${x.type}:${x.sources.join(",")}`).join(" ");

Deno.test("MulticastGroupTable: a join sends TO_EX {} robustness times, then forgets nothing", () => {
  const { t, events } = table();
  assert.equal(t.set(1, G, 7, exc(), 3, 100), true);
  const s = t.interface(1)!;
  assert.equal(s.changeAt, 100);
  assert.equal(recs(t.takeChangeRecords(s)), "4:");
  assert.equal(recs(t.takeChangeRecords(s)), "4:");
  const last = t.takeChangeRecords(s);
  assert.equal(recs(last), "4:");
  assert.equal(last.more, false);
  assert.equal(recs(t.takeChangeRecords(s)), "");
  assert.deepEqual(events, ["1:ef010203:true"]);
  assert.equal(t.isMember(1, G), true);
});

Deno.test("MulticastGroupTable: a leave keeps the group until its TO_IN {} records are sent", () => {
  const { t, events } = table();
  t.set(1, G, 7, exc(), 2, 0);
  const s = t.interface(1)!;
  t.takeChangeRecords(s);
  assert.equal(t.set(1, G, 7, inc(), 2, 5), true);
  assert.equal(t.isMember(1, G), false);
  assert.equal(s.groups.size, 1);
  // The join's last retransmission is replaced by the leave's (§5.1 merge).
  assert.equal(recs(t.takeChangeRecords(s)), "3:");
  assert.equal(recs(t.takeChangeRecords(s)), "3:");
  assert.equal(s.groups.size, 0);
  assert.deepEqual(events, ["1:ef010203:true", "1:ef010203:false"]);
});

Deno.test("MulticastGroupTable: source changes during a pending mode change keep the TO_EX, then report ALLOW/BLOCK", () => {
  const { t } = table();
  const s = t.ensure(1);
  t.set(1, G, 7, inc(1, 2), 2, 0); // INCLUDE{} -> INCLUDE{1,2}: ALLOW(1,2)
  assert.equal(recs(t.takeChangeRecords(s)), "5:1,2");
  t.set(1, G, 8, exc(2, 3), 2, 0); // -> EXCLUDE{3}: TO_EX(3)
  assert.equal(recs(t.takeChangeRecords(s)), "4:3");
  t.set(1, G, 8, exc(2), 2, 0); // -> EXCLUDE{}: ALLOW(3), still inside the mode change
  assert.equal(recs(t.takeChangeRecords(s)), "4:");
  // Mode change done (2 sent); source 3 is still due once, and source 1/2 are done.
  const r = t.takeChangeRecords(s);
  assert.equal(recs(r), "5:3");
  assert.equal(r.more, false);
});

Deno.test("MulticastGroupTable: accepts() applies the merged filter, isMember() ignores sources", () => {
  const { t } = table();
  t.set(1, G, 7, inc(10), 2, 0);
  assert.equal(t.accepts(1, G, 10), true);
  assert.equal(t.accepts(1, G, 11), false);
  assert.equal(t.accepts(2, G, 10), false);
  t.set(1, G, 8, exc(11, 12), 2, 0);
  assert.equal(t.accepts(1, G, 11), false);
  assert.equal(t.accepts(1, G, 13), true);
  assert.equal(t.isMember(1, G), true);
});

Deno.test("MulticastGroupTable: refuses a group past maxGroups and a filter past maxSources, changing nothing", () => {
  const { t } = table(2, 2);
  assert.equal(t.set(1, G, 1, exc(), 2, 0), true);
  assert.equal(t.set(1, G + 1, 1, exc(), 2, 0), true);
  assert.equal(t.set(1, G + 2, 1, exc(), 2, 0), "groups_full");
  assert.equal(t.holdStack(1, G + 2, 2, 0), "groups_full");
  assert.equal(t.set(1, G, 2, inc(1, 2, 3), 2, 0), "sources_full");
  assert.equal(t.set(1, G, 2, inc(1, 2), 2, 0), false); // EXCLUDE{} absorbs it
  assert.equal(t.set(1, G + 1, 1, inc(1, 2), 2, 0), true);
  assert.equal(t.set(1, G + 1, 2, inc(3), 2, 0), "sources_full"); // union of 3
  assert.equal(t.interface(1)!.groups.get(G + 1)!.state.sources.size, 2);
});

Deno.test("MulticastGroupTable: stack joins are reference-counted; an unreported group schedules nothing", () => {
  const { t } = table();
  assert.equal(t.holdStack(1, 0xe0000001, 2, 0), true);
  assert.equal(t.holdStack(1, 0xe0000001, 2, 0), false);
  const s = t.interface(1)!;
  assert.equal(s.changeAt, NEVER);
  assert.equal(t.releaseStack(1, 0xe0000001, 2, 0), false);
  assert.equal(t.releaseStack(1, 0xe0000001, 2, 0), true);
  assert.equal(s.groups.size, 0);
  assert.equal(t.releaseStack(1, 0xe0000001, 2, 0), false);
});

Deno.test("MulticastGroupTable: dropHolder removes a holder everywhere", () => {
  const { t } = table();
  t.set(1, G, 7, exc(), 2, 0);
  t.set(2, G, 7, exc(), 2, 0);
  t.set(2, G, 8, exc(), 2, 0);
  assert.equal(t.dropHolder(7, 2, 0), true);
  assert.equal(t.isMember(1, G), false);
  assert.equal(t.isMember(2, G), true);
  assert.equal(t.dropHolder(7, 2, 0), false);
});

Deno.test("MulticastGroupTable: query answers follow RFC 3376 §5.2 rules 1-4 and the source answers", () => {
  const { t } = table();
  t.set(1, G, 7, exc(5), 2, 0);
  t.set(1, G + 1, 7, inc(1, 2), 2, 0);
  const s = t.interface(1)!;
  assert.equal(t.scheduleAnswer(s, 50, G + 9), false, "not a member");
  assert.equal(t.scheduleAnswer(s, 50, G, [5, 6]), true);
  assert.equal(t.scheduleAnswer(s, 40, G, [7]), true); // rule 4: merged, earliest
  assert.equal(t.scheduleAnswer(s, 60, G + 1, [2, 3]), true);
  assert.equal(t.nextDue(s), 0); // the change report is still due
  s.changeAt = NEVER;
  assert.equal(t.nextDue(s), 40);
  const got = t.takeGroupAnswers(s, 60).map((r) => `${r.type}:${[...r.sources].join(",")}`);
  // EXCLUDE{5} asked {5,6,7}: IS_IN{6,7}; INCLUDE{1,2} asked {2,3}: IS_IN{2}.
  assert.deepEqual(got, ["1:6,7", "1:2"]);
  t.scheduleAnswer(s, 70, G, [9]);
  t.scheduleAnswer(s, 80, G); // group-specific clears the source list
  assert.deepEqual(t.takeGroupAnswers(s, 80).map((r) => r.type), [T.MODE_IS_EXCLUDE]);
  t.scheduleAnswer(s, 100);
  assert.equal(s.generalAt, 100);
  assert.equal(t.scheduleAnswer(s, 120, G), true); // rule 1: covered
  assert.equal(s.groups.get(G)!.reportAt, NEVER);
  assert.deepEqual(t.currentStateRecords(s).map((r) => r.type), [
    T.MODE_IS_EXCLUDE,
    T.MODE_IS_INCLUDE,
  ]);
});

Deno.test("packRecords: records fill reports; big ALLOW/BLOCK/IS_IN records are split, big IS_EX/TO_EX truncated (RFC 3376 §4.2.16)", () => {
  const src = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const shape = (reports: { type: number; sources: readonly unknown[] }[][]) =>
    reports.map((r) => r.map((x) => `${x.type}:${x.sources.length}`).join(" "));
  // room 40: a record of 8 bytes + 4 per source holds at most 8 sources.
  assert.deepEqual(
    shape(packRecords(
      [
        { group: G, type: T.ALLOW_NEW_SOURCES, sources: src(20) },
        { group: G, type: T.MODE_IS_EXCLUDE, sources: src(20) },
        { group: G, type: T.CHANGE_TO_INCLUDE, sources: src(1) },
        { group: G, type: T.CHANGE_TO_EXCLUDE, sources: [] },
      ],
      40,
      8,
      4,
    )),
    ["5:8", "5:8", "5:4", "2:8", "3:1 4:0"],
  );
  assert.deepEqual(packRecords([], 40, 8, 4), []);
});

Deno.test("MulticastGroupTable: INCLUDE {A,B} → EXCLUDE {B} sends TO_EX(B) robustness times, a later change merges (RFC 3376 §5.1)", () => {
  const t = new MulticastGroupTable({ maxGroups: 8, maxSources: 8, isReported: () => true });
  t.set(1, G, 7, inc(1, 2), 2, 0);
  const s = t.interface(1)!;
  t.takeChangeRecords(s);
  t.takeChangeRecords(s); // ALLOW(1,2) twice: nothing left
  assert.deepEqual(t.takeChangeRecords(s).records, []);
  t.set(1, G, 7, exc(2), 2, 10);
  const first = t.takeChangeRecords(s);
  assert.deepEqual(first.records, [{ group: G, type: T.CHANGE_TO_EXCLUDE, sources: [2] }]);
  assert.equal(first.more, true);
  // A change while TO_EX is still due: the next report keeps the mode-change record.
  t.set(1, G, 7, exc(2, 3), 2, 20);
  assert.deepEqual(t.takeChangeRecords(s).records, [
    { group: G, type: T.CHANGE_TO_EXCLUDE, sources: [2, 3] },
  ]);
  // §5.1: robustness reports with the TO_EX after the last mode change, then BLOCK(3) still due.
  assert.deepEqual(t.takeChangeRecords(s).records, [
    { group: G, type: T.BLOCK_OLD_SOURCES, sources: [3] },
  ]);
  const last = t.takeChangeRecords(s);
  assert.deepEqual(last.records, []);
  assert.equal(last.more, false);
});

Deno.test("MulticastGroupTable: a group-and-source-specific query past maxSources is answered for the whole group (bounded)", () => {
  const t = new MulticastGroupTable({ maxGroups: 8, maxSources: 4, isReported: () => true });
  t.set(1, G, 7, exc(), 2, 0);
  const s = t.interface(1)!;
  const many = Array.from({ length: 1000 }, (_, i) => 0x0a000000 + i);
  assert.equal(t.scheduleAnswer(s, 5, G, many), true);
  assert.equal(s.groups.get(G)!.querySources, null, "not 1000 sources held");
  assert.deepEqual(t.takeGroupAnswers(s, 5), [{ group: G, type: T.MODE_IS_EXCLUDE, sources: [] }]);
});
