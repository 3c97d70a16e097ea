/**
 * Node scheduling for the virtual network: each node's `pollAt()` is cached
 * in a min-heap on (deadline, node index), so a step costs O(log nodes) per
 * due node and idle nodes cost nothing. A node that can say when its
 * deadline may have moved earlier ({@linkcode NetworkNode.watchPollAt}, as
 * every `Stack` does) is asked again only then, after its own poll, or when a
 * cached deadline comes due; a node that cannot is asked every round, as
 * before.
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";
import { EventHeap } from "./_heap.ts";

/**
 * What the scheduler needs of a node (the public `NetworkNode` plus its
 * optional watch hooks).
 */
export interface SchedulableNode {
  pollAt(now: Instant): Instant | undefined;
  poll(now: Instant): void;
  watchPollAt?(listener: (() => void) | null): void;
  pollAtOwner?(): string | undefined;
  readonly name?: string;
}

/** @internal One registered node. */
export class NodeRecord {
  readonly node: SchedulableNode;
  /** Registration order: the order due nodes are polled in within a round. */
  readonly index: number;
  readonly watched: boolean;
  /** Cached pollAt; valid when `version` matches the heap entry's. */
  deadline: Instant | undefined = undefined;
  version = 0;
  dirty = true;
  removed = false;
  /** Polls at instant `pollsAt` (the livelock guard's per-node count). */
  polls = 0;
  pollsAt: Instant = -1;

  constructor(node: SchedulableNode, index: number) {
    this.node = node;
    this.index = index;
    this.watched = typeof node.watchPollAt === "function";
  }

  /** `node 3 "stack"`, for messages. */
  label(): string {
    const name = this.node.name;
    return typeof name === "string" ? `node ${this.index} "${name}"` : `node ${this.index}`;
  }
}

interface NodeEntry {
  readonly at: Instant;
  readonly key: 0;
  /** The node's index: among nodes due at one instant, lower index first. */
  readonly seq: number;
  readonly rec: NodeRecord;
  readonly version: number;
}

/** @internal The nodes of one network and their cached deadlines. */
export class NodeScheduler {
  readonly #heap = new EventHeap<NodeEntry>();
  readonly #dirty: NodeRecord[] = [];
  /** Nodes without watchPollAt, by index: asked every round. */
  #unwatched: NodeRecord[] = [];
  readonly #byNode = new Map<SchedulableNode, NodeRecord>();
  #next = 0;
  /** While a round polls: the index being polled and the due list. */
  #roundIndex = -1;
  #roundNow: Instant = 0;
  #round: NodeRecord[] | null = null;
  #roundPos = 0;
  /** The due list's array, reused by every round (one array per step otherwise). */
  readonly #roundScratch: NodeRecord[] = [];

  get size(): number {
    return this.#byNode.size;
  }

  has(node: SchedulableNode): boolean {
    return this.#byNode.has(node);
  }

  add(node: SchedulableNode): void {
    const rec = new NodeRecord(node, this.#next++);
    this.#byNode.set(node, rec);
    if (rec.watched) {
      node.watchPollAt!(() => this.#markDirty(rec));
      this.#dirty.push(rec);
    } else {
      this.#unwatched.push(rec);
    }
  }

  remove(node: SchedulableNode): boolean {
    const rec = this.#byNode.get(node);
    if (rec === undefined) return false;
    this.#byNode.delete(node);
    rec.removed = true;
    rec.version++;
    if (rec.watched) node.watchPollAt!(null);
    else this.#unwatched = this.#unwatched.filter((r) => r !== rec);
    return true;
  }

  #markDirty(rec: NodeRecord): void {
    if (rec.removed) return;
    // A node made due during a round, after the one being polled, is polled
    // in this round, as when every node was asked in turn.
    if (this.#round !== null && rec.index > this.#roundIndex) {
      const now = this.#roundNow;
      const t = rec.node.pollAt(now);
      if (t !== undefined && t <= now) this.#insertInRound(rec);
    }
    if (!rec.dirty) {
      rec.dirty = true;
      this.#dirty.push(rec);
    }
  }

  #insertInRound(rec: NodeRecord): void {
    const round = this.#round!;
    let i = this.#roundPos;
    while (i < round.length && round[i]!.index < rec.index) i++;
    if (round[i] !== rec) round.splice(i, 0, rec);
  }

  #requery(rec: NodeRecord, now: Instant): void {
    const t = rec.node.pollAt(now);
    if (!rec.watched) {
      rec.deadline = t; // unwatched nodes are not in the heap: next() scans them
      return;
    }
    if (t === rec.deadline) return;
    rec.deadline = t;
    rec.version++;
    if (t !== undefined) {
      this.#heap.push({ at: t, key: 0, seq: rec.index, rec, version: rec.version });
    }
    // Superseded entries stay until they reach the top; a node whose deadline
    // moves often (TCP re-arming its retransmission timer) would pile them up,
    // so past a bound of a few per node the heap is rebuilt from live ones.
    if (this.#heap.size > 4 * this.#byNode.size + 1024) {
      this.#heap.retain((e) => e.version === e.rec.version && !e.rec.removed);
    }
  }

  /** Brings the cache up to date: dirty nodes and unwatched ones are asked again. */
  refresh(now: Instant): void {
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      const rec = dirty[i]!;
      rec.dirty = false;
      if (!rec.removed) this.#requery(rec, now);
    }
    dirty.length = 0;
    // Indexed loops: a for-of here made an array iterator per call (two per step).
    const unwatched = this.#unwatched;
    for (let i = 0; i < unwatched.length; i++) this.#requery(unwatched[i]!, now);
  }

  /** The earliest cached deadline (call {@linkcode refresh} first). */
  next(): Instant | undefined {
    const heap = this.#heap;
    let next: Instant | undefined;
    for (let e = heap.peek(); e !== undefined; e = heap.peek()) {
      if (e.version === e.rec.version && !e.rec.removed) {
        next = e.at;
        break;
      }
      heap.pop();
    }
    const unwatched = this.#unwatched;
    for (let i = 0; i < unwatched.length; i++) {
      const t = unwatched[i]!.deadline;
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /**
   * Polls, in index order, every node due at `now`; `onPoll(rec)` runs before
   * each poll (the livelock guard). Returns the number of polls.
   */
  pollDue(now: Instant, onPoll: (rec: NodeRecord) => void): number {
    this.refresh(now);
    const heap = this.#heap;
    const round = this.#roundScratch;
    for (let e = heap.peek(); e !== undefined && e.at <= now; e = heap.peek()) {
      heap.pop();
      const rec = e.rec;
      if (e.version !== rec.version || rec.removed) continue;
      // The cached deadline is used up: ask again after the poll.
      rec.deadline = undefined;
      rec.version++;
      round.push(rec);
    }
    const unwatched = this.#unwatched;
    if (unwatched.length > 0) {
      for (let i = 0; i < unwatched.length; i++) round.push(unwatched[i]!);
      round.sort((x, y) => x.index - y.index);
    } else if (round.length > 1) {
      round.sort((x, y) => x.index - y.index);
    }
    if (round.length === 0) return 0;
    let polls = 0;
    let completed = false;
    this.#round = round;
    this.#roundNow = now;
    try {
      for (let i = 0; i < round.length; i++) {
        const rec = round[i]!;
        this.#roundPos = i + 1;
        this.#roundIndex = rec.index;
        if (rec.removed) continue;
        const t = rec.node.pollAt(now);
        if (t !== undefined && t <= now) {
          onPoll(rec);
          polls++;
          rec.node.poll(now);
        }
        if (rec.watched && !rec.dirty) {
          rec.dirty = true;
          this.#dirty.push(rec);
        }
      }
      completed = true;
    } finally {
      // A poll threw: the watched nodes of this round not yet marked (the
      // one that threw and those after it) left the heap when the round
      // began, so mark them dirty or they would not be asked again.
      if (!completed) {
        for (let i = Math.max(0, this.#roundPos - 1); i < round.length; i++) {
          const rec = round[i]!;
          if (rec.watched && !rec.dirty && !rec.removed) {
            rec.dirty = true;
            this.#dirty.push(rec);
          }
        }
      }
      round.length = 0;
      this.#round = null;
      this.#roundIndex = -1;
    }
    return polls;
  }
}
