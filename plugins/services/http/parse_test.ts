import assert from "node:assert/strict";
import {
  acceptQuality,
  earlyReject,
  fieldValue,
  findHeadEnd,
  type HttpParseError,
  type HttpRequest,
  MAX_HEAD_BYTES,
  parseRequestHead,
  skipEmptyLines,
} from "./parse.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function parse(s: string): HttpRequest | HttpParseError {
  return parseRequestHead(enc(s));
}

function ok(s: string): HttpRequest {
  const r = parse(s);
  assert.ok("method" in r, `expected a request, got ${JSON.stringify(r)}`);
  return r;
}

function status(s: string): number {
  const r = parse(s);
  assert.ok(!("method" in r), `expected an error for ${JSON.stringify(s)}`);
  return r.status;
}

const CURL = "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

Deno.test("parseRequestHead() parses curl's request", () => {
  const r = ok(CURL);
  assert.equal(r.method, "GET");
  assert.equal(r.target, "/");
  assert.equal(r.path, "/");
  assert.equal(r.minor, 1);
  assert.equal(r.keepAlive, true);
  assert.equal(r.contentLength, 0);
  assert.equal(r.chunked, false);
  assert.deepEqual(r.fields, [
    ["host", "10.0.0.2"],
    ["user-agent", "curl/7.88.1"],
    ["accept", "*/*"],
  ]);
});

Deno.test("parseRequestHead() accepts bare LF line ends (RFC 9112 §2.2)", () => {
  assert.equal(ok("GET /x HTTP/1.1\nHost: a\n\n").path, "/x");
});

Deno.test("parseRequestHead() takes the path of absolute-form targets and drops the query", () => {
  assert.equal(
    ok("GET http://10.0.0.2/counters.json?a=b HTTP/1.1\r\nHost: x\r\n\r\n").path,
    "/counters.json",
  );
  assert.equal(ok("GET http://10.0.0.2 HTTP/1.1\r\nHost: x\r\n\r\n").path, "/");
  assert.equal(ok("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").path, "*");
  assert.equal(status("GET index.html HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
});

Deno.test("parseRequestHead() trims field values and keeps empty ones", () => {
  const r = ok("GET / HTTP/1.1\r\nHost:   a b \t\r\nX-Empty:\r\n\r\n");
  assert.deepEqual(r.fields, [["host", "a b"], ["x-empty", ""]]);
});

Deno.test("parseRequestHead() keep-alive: 1.1 by default, close wins, 1.0 only with keep-alive", () => {
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keepAlive, false);
  assert.equal(
    ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, Close\r\n\r\n").keepAlive,
    false,
  );
  assert.equal(ok("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assert.equal(ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").keepAlive, true);
});

Deno.test("parseRequestHead() Host: exactly one in HTTP/1.1 (RFC 9112 §3.2), at most one in 1.0", () => {
  assert.equal(status("GET / HTTP/1.1\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  ok("GET / HTTP/1.0\r\n\r\n");
});

Deno.test("parseRequestHead() Content-Length: digits, equal duplicates, conflicts → 400 (RFC 9112 §6.3)", () => {
  assert.equal(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").contentLength, 7);
  assert.equal(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n").contentLength, 5);
  assert.equal(
    status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
    400,
  );
  assert.equal(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  assert.equal(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400);
  assert.equal(
    ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n").contentLength,
    Number.MAX_SAFE_INTEGER,
  );
});

Deno.test("parseRequestHead() Transfer-Encoding: a body of unknown length; never with Content-Length or in 1.0", () => {
  assert.equal(
    ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").chunked,
    true,
  );
  assert.equal(
    status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
    400,
  );
  assert.equal(status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
});

Deno.test("parseRequestHead() refuses smuggling-prone and malformed heads with 400", () => {
  for (
    const head of [
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n", // whitespace before the colon (RFC 9112 §5.1)
      "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", // obs-fold (§5.2)
      "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", // bare CR (§2.2)
      "GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n", // NUL in a value
      "GET / HTTP/1.1\r\nNoColon\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\n: empty-name\r\nHost: a\r\n\r\n",
      "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", // method not a token
      "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
      "GET /\r\n\r\n", // HTTP/0.9
      "GET / http/1.1\r\nHost: a\r\n\r\n", // the version is case-sensitive
      "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
      "",
    ]
  ) {
    assert.equal(status(head), 400, JSON.stringify(head));
  }
});

Deno.test("parseRequestHead() HTTP/2.0 and HTTP/3.0 → 505; HTTP/1.9 is taken as 1.1", () => {
  assert.equal(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  assert.equal(status("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
  assert.equal(ok("GET / HTTP/1.9\r\nHost: a\r\n\r\n").minor, 9);
});

Deno.test("parseRequestHead() more than 100 header fields → 431", () => {
  const many = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join("");
  assert.equal(status(`GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`), 431);
});

Deno.test("findHeadEnd() finds CRLFCRLF, LFLF and mixes; resumes without missing a split end", () => {
  for (
    const s of [
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.0\n\n",
      "GET / HTTP/1.0\n\r\n",
      "GET / HTTP/1.0\r\n\n",
    ]
  ) {
    const b = enc(s + "rest");
    assert.equal(findHeadEnd(b, b.length), s.length, JSON.stringify(s));
    // Every split point: scan the first part, then resume where a previous call left off.
    for (let cut = 0; cut <= b.length; cut++) {
      const first = findHeadEnd(b, cut);
      const end = first >= 0 ? first : findHeadEnd(b, b.length, cut - 2);
      assert.equal(end, s.length, `${JSON.stringify(s)} cut at ${cut}`);
    }
  }
});

Deno.test("findHeadEnd() and earlyReject() on every prefix of a valid head: wait, never reject", () => {
  const b = enc(CURL);
  for (let n = 0; n < b.length; n++) {
    assert.equal(findHeadEnd(b, n), -1, `prefix ${n}`);
    assert.equal(earlyReject(b, n), undefined, `prefix ${n}`);
  }
  assert.equal(findHeadEnd(b, b.length), b.length);
});

Deno.test("earlyReject() refuses binary, over-long methods and a request line over 16 KiB", () => {
  assert.equal(earlyReject(new Uint8Array([0x47, 0x45, 0x00]), 3)?.status, 400);
  assert.equal(earlyReject(enc("GET /\x01"), 6)?.status, 400);
  assert.equal(earlyReject(enc("\x80GET"), 4)?.status, 400);
  assert.equal(earlyReject(enc("A".repeat(40)), 40)?.status, 400);
  assert.equal(earlyReject(enc("A".repeat(32)), 32), undefined);
  const long = enc("GET /" + "a".repeat(MAX_HEAD_BYTES));
  assert.equal(earlyReject(long, MAX_HEAD_BYTES)?.status, 414);
  assert.equal(earlyReject(long, MAX_HEAD_BYTES - 1), undefined);
});

Deno.test("skipEmptyLines() skips CR and LF before a request line only", () => {
  assert.equal(skipEmptyLines(enc("\r\n\nGET"), 6), 3);
  assert.equal(skipEmptyLines(enc("GET\r\n"), 5), 0);
  assert.equal(skipEmptyLines(enc("\r\n"), 2), 2);
});

Deno.test("fieldValue() joins repeated fields with a comma", () => {
  assert.equal(fieldValue([["a", "1"], ["b", "2"], ["a", "3"]], "a"), "1, 3");
  assert.equal(fieldValue([], "a"), undefined);
});

Deno.test("acceptQuality(): most specific range wins; q parsed; no Accept accepts all", () => {
  assert.equal(acceptQuality("*/*", "text/html"), 1);
  assert.equal(acceptQuality("text/plain", "text/html"), 0);
  assert.equal(acceptQuality("text/plain;q=0.9, */*;q=1", "text/plain"), 0.9);
  assert.equal(acceptQuality("TEXT/PLAIN", "text/plain"), 1);
  assert.equal(acceptQuality("text/*;q=0.3;level=1", "text/html"), 0.3);
  assert.equal(acceptQuality("text/plain;q=bogus", "text/plain"), 1);
  assert.equal(acceptQuality("", "text/html"), 1);
  // A browser: HTML preferred.
  const firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  assert.ok(acceptQuality(firefox, "text/html") > acceptQuality(firefox, "text/plain"));
});
