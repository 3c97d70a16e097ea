import assert from "node:assert/strict";
import { HttpParser, type ParserEvent } from "./llhttp.ts";
import { CHUNK_GAP_ALLOWANCE } from "./_chunk_framing.ts";

const enc = new TextEncoder();
const LIMITS = { maxHeadBytes: 16384, maxFields: 100 };
const POST = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

/** Feeds `parts` one after another (resuming at message ends); the events and the first error. */
function parse(
  type: "request" | "response",
  parts: (string | Uint8Array)[],
  limits: { maxHeadBytes: number; maxFields: number; maxChunkExtensionBytes?: number } = LIMITS,
): { events: ParserEvent[]; error?: { status: number; reason: string }; consumed: number } {
  const p = new HttpParser(type, limits);
  const events: ParserEvent[] = [];
  let consumed = 0;
  try {
    for (const part of parts) {
      let bytes = typeof part === "string" ? enc.encode(part) : part;
      while (bytes.length > 0) {
        const r = p.feed(bytes);
        events.push(...p.take());
        consumed += r.consumed;
        if (r.error !== undefined) return { events, error: r.error, consumed };
        if (!r.paused) break;
        p.resume();
        bytes = bytes.subarray(r.consumed);
      }
    }
    return { events, consumed };
  } finally {
    p.free();
  }
}

function bodyText(events: ParserEvent[]): string {
  return events.map((e) => e.kind === "body" ? new TextDecoder().decode(e.bytes) : "").join("");
}

Deno.test("HttpParser refuses 16 KiB + 1 of chunk extension on one chunk with 413", () => {
  const over = ";a=" + "x".repeat(16384 + CHUNK_GAP_ALLOWANCE);
  const r = parse("request", [POST + "5" + over + "\r\nhello\r\n0\r\n\r\n"]);
  assert.equal(r.error?.status, 413);
  assert.match(r.error!.reason, /chunk extensions are over 16384 bytes/);
  assert.equal(r.events.some((e) => e.kind === "end"), false);
  const under = ";a=" + "x".repeat(16000);
  const ok = parse("request", [POST + "5" + under + "\r\nhello\r\n0\r\n\r\n"]);
  assert.equal(ok.error, undefined);
  assert.equal(bodyText(ok.events), "hello");
});

Deno.test("HttpParser stops a megabyte chunk-size line within a read of the limit, fed in pieces", () => {
  const piece = "x".repeat(4096);
  const parts: string[] = [POST + "5;a="];
  for (let i = 0; i < 256; i++) parts.push(piece); // 1 MiB, never a CRLF
  const r = parse("request", parts);
  assert.equal(r.error?.status, 413);
  // Cut off at the piece that crossed 16 KiB, not after the megabyte.
  assert.ok(r.consumed < POST.length + 16384 + 2 * 4096, `consumed ${r.consumed}`);
});

Deno.test("HttpParser counts chunk extensions per message: many small ones add up", () => {
  const ext = ";e=" + "y".repeat(1000 + CHUNK_GAP_ALLOWANCE);
  const chunks = Array.from({ length: 17 }, () => "1" + ext + "\r\nz\r\n").join("");
  const r = parse("request", [POST + chunks + "0\r\n\r\n"]);
  assert.equal(r.error?.status, 413);
  const fewer = Array.from({ length: 15 }, () => "1" + ext + "\r\nz\r\n").join("");
  const ok = parse("request", [POST + fewer + "0\r\n\r\n"]);
  assert.equal(ok.error, undefined);
  assert.equal(bodyText(ok.events), "z".repeat(15));
});

Deno.test("HttpParser refuses an over-long extension on the last chunk (no end event)", () => {
  const r = parse("request", [POST, "5\r\nhello\r\n0;last=" + "q".repeat(20000) + "\r\n\r\n"]);
  assert.equal(r.error?.status, 413);
  assert.equal(r.events.some((e) => e.kind === "end"), false);
  assert.equal(bodyText(r.events), "hello");
});

Deno.test("HttpParser takes many tiny chunks and a short extension on each", () => {
  const chunks = Array.from({ length: 5000 }, (_, i) => `1;n=${i}\r\n${i % 10}\r\n`).join("");
  const r = parse("request", [POST + chunks + "0\r\nTrailer-A: 1\r\n\r\n"]);
  assert.equal(r.error, undefined);
  assert.equal(bodyText(r.events).length, 5000);
  const end = r.events.at(-1);
  assert.deepEqual(end?.kind === "end" && end.trailers, [["Trailer-A", "1"]]);
});

Deno.test("HttpParser: trailers are bounded by the head limits, not the extension limit", () => {
  const trailers = Array.from({ length: 40 }, (_, i) => `T${i}: ${"v".repeat(900)}\r\n`).join("");
  const limits = { maxHeadBytes: 65536, maxFields: 100 };
  const r = parse("request", [POST + "1\r\na\r\n0\r\n" + trailers + "\r\n"], limits);
  assert.equal(r.error, undefined);
  assert.equal(r.events.at(-1)?.kind, "end");
});

Deno.test("HttpParser: maxChunkExtensionBytes sets the limit; a Content-Length body is never counted", () => {
  const limits = { ...LIMITS, maxChunkExtensionBytes: 10 };
  const r = parse("request", [
    POST + "1;" + "k".repeat(CHUNK_GAP_ALLOWANCE + 10) + "\r\na\r\n0\r\n\r\n",
  ], limits);
  assert.equal(r.error?.status, 413);
  const big = "b".repeat(200000);
  const cl = parse("request", [
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n`,
    big,
  ], limits);
  assert.equal(cl.error, undefined);
  assert.equal(bodyText(cl.events).length, big.length);
});

Deno.test("HttpParser refuses a response whose chunk extensions pass the limit", () => {
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const r = parse("response", [head + "3;" + "r".repeat(17000) + "\r\nabc\r\n0\r\n\r\n"]);
  assert.equal(r.error?.status, 413);
});

Deno.test("HttpParser refuses RTSP/1.0 and ICE/1.0 request lines with 400 (llhttp reports them as 1.0)", () => {
  for (const line of ["OPTIONS * RTSP/1.0", "GET / RTSP/1.0", "SOURCE /mount ICE/1.0"]) {
    const r = parse("request", [`${line}\r\nCSeq: 1\r\n\r\n`]);
    assert.equal(r.error?.status, 400, line);
    assert.match(r.error!.reason, /names (RTSP|ICE)\/1\.0, not HTTP/);
    assert.equal(r.events.length, 0);
  }
});

Deno.test("HttpParser finds the protocol however the request line is split, after empty lines", () => {
  const text = "\r\n\r\nGET /" + "p".repeat(300) + " RTSP/1.0\r\nHost: x\r\n\r\n";
  for (const cut of [1, 3, 5, 200, text.indexOf("RTSP") + 2, text.indexOf("\r\nHost") + 1]) {
    const r = parse("request", [text.slice(0, cut), text.slice(cut)]);
    assert.equal(r.error?.status, 400, `cut at ${cut}`);
  }
  const ok = "\r\nGET /" + "p".repeat(300) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const cut of [1, 5, ok.indexOf("HTTP") + 3]) {
    const r = parse("request", [ok.slice(0, cut), ok.slice(cut)]);
    assert.equal(r.error, undefined, `cut at ${cut}`);
    assert.equal(r.events[0]?.kind, "head");
  }
});

Deno.test("HttpParser refuses an RTSP request pipelined after an HTTP one, and an RTSP status line", () => {
  const r = parse("request", [
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b RTSP/1.0\r\nHost: x\r\n\r\n",
  ]);
  assert.deepEqual(r.events.map((e) => e.kind), ["head", "end"]);
  assert.equal(r.error?.status, 400);
  const s = parse("response", ["RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 0\r\n\r\n"]);
  assert.equal(s.error?.status, 400);
  const h = parse("response", [
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
  ]);
  assert.equal(h.error, undefined);
  assert.deepEqual(h.events.map((e) => e.kind), ["head", "end", "head", "end"]);
});
