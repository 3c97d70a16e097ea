/**
 * A small JSON service and a client with retries, written against
 * `stack.serve()` and `stack.fetch()` exactly as one would against
 * `Deno.serve()` and `fetch()`, so the same code runs on a virtual network
 * (on virtual time, with loss, partitions and restarts) and over TUN.
 *
 * - {@linkcode serveNotes}: `GET /notes` lists, `POST /notes` `{ "text" }`
 *   adds (201, idempotent by the `Idempotency-Key` header, so a retried
 *   POST adds once), `GET /notes/:id` reads one (404 otherwise). The store
 *   is passed in, so it outlives a server restart.
 * - {@linkcode fetchJson}: `fetch` with a per-attempt `timeout`, retrying
 *   network errors (`TypeError`) and 502/503/504 after a backoff that
 *   doubles; the caller supplies `sleep` (on virtual time under `net.run`,
 *   `setTimeout` elsewhere).
 *
 * `tests/http/example_test.ts` runs it across a lossy link, a partition
 * that heals and a server restart, and checks the capture.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../mod.ts";
 * import { fetchJson, NoteStore, serveNotes } from "./json_service.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link({ faults: { loss: 0.05, delay: 10_000 } });
 * const api = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const app = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * api.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * app.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * app.hosts.set("api", "10.0.0.2");
 * const server = serveNotes(api, new NoteStore(), { port: 80 });
 * const sleep = (ms: number) => new Promise<void>((r) => net.at(net.now() + ms * 1000, r));
 * const note = await net.run(() =>
 *   fetchJson<{ id: number }>(app, "http://api/notes", { method: "POST", body: { text: "hi" }, sleep })
 * );
 * assert.equal(note.id, 1);
 * await net.run(() => server.shutdown());
 * app.close();
 * api.close();
 * net.close();
 * ```
 *
 * @module
 */
import type { HttpServer, Stack } from "../mod.ts";

/** A note. */
export interface Note {
  /** Its number, from 1. */
  readonly id: number;
  /** What it says. */
  readonly text: string;
}

/** Notes in memory, with the idempotency keys already seen (bounded). */
export class NoteStore {
  readonly notes: Note[] = [];
  readonly #byKey = new Map<string, Note>();
  /** Most notes kept (more: 507). */
  readonly limit: number;

  /** A store of at most `limit` notes. */
  constructor(limit = 10_000) {
    this.limit = limit;
  }

  /** Adds a note once per idempotency key; undefined when full. */
  add(text: string, key: string | null): Note | undefined {
    const seen = key === null ? undefined : this.#byKey.get(key);
    if (seen !== undefined) return seen;
    if (this.notes.length >= this.limit) return undefined;
    const note = { id: this.notes.length + 1, text };
    this.notes.push(note);
    if (key !== null) this.#byKey.set(key, note);
    return note;
  }
}

/** Serves the notes API on `stack` (see the module doc). */
export function serveNotes(
  stack: Stack,
  store: NoteStore,
  options: { port?: number; signal?: AbortSignal } = {},
): HttpServer {
  return stack.serve({ port: options.port ?? 80, ...options }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/notes" && req.method === "GET") return Response.json(store.notes);
    if (path === "/notes" && req.method === "POST") {
      let text: unknown;
      try {
        text = ((await req.json()) as { text?: unknown }).text;
      } catch {
        return Response.json({ error: "the body is not JSON" }, { status: 400 });
      }
      if (typeof text !== "string") {
        return Response.json({ error: "text must be a string" }, { status: 400 });
      }
      const note = store.add(text, req.headers.get("idempotency-key"));
      if (note === undefined) return Response.json({ error: "full" }, { status: 507 });
      return Response.json(note, { status: 201 });
    }
    const m = /^\/notes\/(\d+)$/.exec(path);
    if (m !== null && req.method === "GET") {
      const note = store.notes[Number(m[1]) - 1];
      return note === undefined
        ? Response.json({ error: "no such note" }, { status: 404 })
        : Response.json(note);
    }
    return Response.json({ error: "not found" }, { status: 404 });
  });
}

/** Options of {@linkcode fetchJson}. */
export interface FetchJsonOptions {
  /** HTTP method (default GET). */
  readonly method?: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Attempts in all (default 8). */
  readonly attempts?: number;
  /** Per attempt, ms on the stack's clock (default 1000). */
  readonly timeout?: number;
  /** First backoff, ms; it doubles each retry (default 100). */
  readonly backoff?: number;
  /** Waits `ms` milliseconds (virtual time on a VirtualNetwork). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Called before each retry, with the attempt number and why. */
  readonly onRetry?: (attempt: number, why: string) => void;
}

/**
 * Fetches JSON, retrying network errors and 502/503/504. A POST carries an
 * `Idempotency-Key`, the same on every attempt, so the server adds once.
 *
 * @throws {TypeError} The last network error, when every attempt failed.
 * @throws {Error} For a status that is not retried and not 2xx.
 */
export async function fetchJson<T>(
  stack: Stack,
  url: string,
  options: FetchJsonOptions,
): Promise<T> {
  const attempts = options.attempts ?? 8;
  let backoff = options.backoff ?? 100;
  const key = `${url}#${stack.rng.nextU32()}`;
  for (let attempt = 1;; attempt++) {
    let why: string;
    try {
      const res = await stack.fetch(url, {
        method: options.method ?? "GET",
        timeout: options.timeout ?? 1000,
        headers: { "content-type": "application/json", "idempotency-key": key },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      if (res.ok) return await res.json() as T;
      await res.body?.cancel();
      if (![502, 503, 504].includes(res.status)) throw new Error(`${url}: status ${res.status}`);
      why = `status ${res.status}`;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      if (attempt >= attempts) throw e;
      why = e.cause instanceof Error ? e.cause.name : e.message;
    }
    if (attempt >= attempts) throw new TypeError(`${url}: gave up after ${attempts} attempts`);
    options.onRetry?.(attempt, why);
    await options.sleep(backoff);
    backoff *= 2;
  }
}
