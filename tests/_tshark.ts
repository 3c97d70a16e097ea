/**
 * Runs `tshark` on a capture and reports what Wireshark thinks is wrong with
 * it. A test fails on:
 *
 * - a malformed packet (`_ws.malformed`, or expert group "malformed");
 * - a bad checksum (expert group "checksum" at warning or above), with IPv4,
 *   TCP and UDP checksum validation switched on (ICMP is always checked);
 * - any expert item of severity "error";
 * - any expert item of severity "warning", unless its message matches one of
 *   the allowed patterns ({@linkcode DEFAULT_ALLOWED_WARNINGS}: an echo
 *   request nobody answered is what a lossy link produces, and a D-SACK is
 *   a duplicate reported on purpose (RFC 2883), not a bad packet).
 *
 * When `tshark` is not installed, {@linkcode tsharkProblems} (and so
 * {@linkcode assertTsharkClean}) throws under CI (`CI=true`: a check that
 * cannot run is a failure) and elsewhere prints why once and reports the
 * check as `skipped`. Tests whose point is the tshark check should also
 * declare it with `gated(["tshark"], ...)` from `_require.ts`, so that
 * outside CI they are ignored rather than passing without it.
 *
 * @example
 * ```ts
 * import { tsharkProblems } from "./_tshark.ts";
 * import { PcapWriter } from "../drivers/pcapfile/mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * const r = await tsharkProblems(w.bytes());
 * if (!r.skipped) assert.deepEqual(r.problems, []);
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { cannotCheck } from "./_require.ts";

/** Expert severities as tshark prints them (`_ws.expert.severity`). */
export const EXPERT_SEVERITY = {
  chat: 0x00200000,
  note: 0x00400000,
  warning: 0x00600000,
  error: 0x00800000,
} as const;

/** Expert groups (`_ws.expert.group`) this helper looks at. */
export const EXPERT_GROUP = {
  checksum: 0x01000000,
  malformed: 0x07000000,
} as const;

/**
 * Warnings that do not fail a check: replies lost on a faulty link, and
 * D-SACK blocks (RFC 2883: the receiver reports a duplicate it got, which
 * TCP does by default since RACK-TLP landed).
 *
 * @example
 * ```ts
 * import { DEFAULT_ALLOWED_WARNINGS } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * assert.ok(DEFAULT_ALLOWED_WARNINGS.some((r) => r.test("No response seen to ICMP request")));
 * assert.ok(DEFAULT_ALLOWED_WARNINGS.some((r) => r.test("D-SACK Sequence")));
 * ```
 */
export const DEFAULT_ALLOWED_WARNINGS: readonly RegExp[] = [
  /^No response seen to ICMP request/,
  /^D-SACK Sequence$/,
];

/** One thing tshark found wrong. */
export interface TsharkProblem {
  /** Frame number, 1-based. */
  readonly frame: number;
  /** `malformed`, `checksum`, `error` or `warning`. */
  readonly kind: "malformed" | "checksum" | "error" | "warning";
  /** The expert message. */
  readonly message: string;
  /** tshark's Info column of the frame. */
  readonly info: string;
}

/** What {@linkcode tsharkProblems} found. */
export interface TsharkResult {
  /** Why tshark did not run (not installed), or undefined when it did. */
  readonly skipped?: string;
  /** Frames tshark read. */
  readonly frames: number;
  /** The problems, in frame order. */
  readonly problems: readonly TsharkProblem[];
}

/** Options of {@linkcode tsharkProblems}. */
export interface TsharkOptions {
  /** Warnings to ignore besides (or, with `replaceAllowed`, instead of) the defaults. */
  readonly allowWarnings?: readonly RegExp[];
  /** Use only `allowWarnings`, not {@linkcode DEFAULT_ALLOWED_WARNINGS}. */
  readonly replaceAllowed?: boolean;
}

/**
 * tshark preferences that switch on IPv4, TCP and UDP checksum validation
 * (off by default; ICMP is always checked).
 *
 * @example
 * ```ts
 * import { CHECKSUM_PREFERENCES } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * assert.ok(CHECKSUM_PREFERENCES.includes("tcp.check_checksum:TRUE"));
 * ```
 */
export const CHECKSUM_PREFERENCES: readonly string[] = [
  "-o",
  "ip.check_checksum:TRUE",
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
];

let available: Promise<string | undefined> | undefined;

/**
 * Undefined when tshark can run here, else the reason it cannot.
 *
 * @example
 * ```ts
 * import { tsharkUnavailable } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * const why = await tsharkUnavailable();
 * assert.ok(why === undefined || typeof why === "string");
 * ```
 */
export function tsharkUnavailable(): Promise<string | undefined> {
  available ??= (async () => {
    try {
      const out = await new Deno.Command("tshark", {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).output();
      return out.success ? undefined : `tshark --version exited with ${out.code}`;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return "tshark is not installed";
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return "running tshark needs --allow-run";
      }
      throw e;
    }
  })();
  return available;
}

type Layers = Record<string, string[] | undefined>;

/**
 * Runs tshark on a capture (a path, or the bytes of a pcap/pcapng file) and
 * lists the problems. Never throws on what the capture contains; throws if
 * tshark itself fails (cannot read the file).
 *
 * @example
 * ```ts
 * import { tsharkProblems } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * const r = await tsharkProblems(new URL("./fixtures/pcaps/ip4-tcp-bad-chksum.pcap", import.meta.url).pathname);
 * if (!r.skipped) assert.deepEqual(r.problems.map((p) => p.kind), ["checksum"]);
 * ```
 */
export async function tsharkProblems(
  capture: string | Uint8Array,
  options: TsharkOptions = {},
): Promise<TsharkResult> {
  const why = await tsharkUnavailable();
  if (why !== undefined) {
    cannotCheck("a capture with tshark", why); // throws under CI
    return { skipped: why, frames: 0, problems: [] };
  }
  const text = (await runTshark(capture, [
    ...CHECKSUM_PREFERENCES,
    "-T",
    "json",
    "-e",
    "frame.number",
    "-e",
    "_ws.col.Info",
    "-e",
    "_ws.malformed",
    "-e",
    "_ws.expert.message",
    "-e",
    "_ws.expert.severity",
    "-e",
    "_ws.expert.group",
    "-e",
    "icmp.checksum.status",
    "-e",
    "tcp.checksum",
    "-e",
    "udp.checksum",
  ])).trim();
  const packets = (text === "" ? [] : JSON.parse(text)) as {
    _source: { layers: Layers };
  }[];
  const allowed = [
    ...(options.replaceAllowed ? [] : DEFAULT_ALLOWED_WARNINGS),
    ...(options.allowWarnings ?? []),
  ];
  const problems: TsharkProblem[] = [];
  for (const p of packets) {
    const l = p._source.layers;
    const frame = Number(l["frame.number"]?.[0] ?? 0);
    const info = l["_ws.col.Info"]?.[0] ?? "";
    const messages = l["_ws.expert.message"] ?? [];
    const severities = l["_ws.expert.severity"] ?? [];
    const groups = l["_ws.expert.group"] ?? [];
    let malformedReported = false;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const severity = Number(severities[i] ?? 0);
      const group = Number(groups[i] ?? 0);
      let kind: TsharkProblem["kind"] | undefined;
      if (group === EXPERT_GROUP.malformed) kind = "malformed";
      else if (group === EXPERT_GROUP.checksum && severity >= EXPERT_SEVERITY.warning) {
        // tshark verifies the checksum of a TCP segment quoted (cut at 576
        // bytes, RFC 1812) inside an ICMP error as if it were whole: real
        // routers' errors fail the same way (fixture smtp-icmp-fragneeded.pcap,
        // frames 26-30). Only the quote's checksum is exempt, not the ICMP one.
        if (
          QUOTING_ERROR.test(info) && l["icmp.checksum.status"]?.[0] === "1" &&
          /^Bad checksum/.test(message)
        ) continue;
        if (isZeroChecksumAsFfff(message, l)) continue;
        kind = "checksum";
      } else if (severity >= EXPERT_SEVERITY.error) kind = "error";
      else if (severity >= EXPERT_SEVERITY.warning && !allowed.some((r) => r.test(message))) {
        kind = "warning";
      }
      if (kind === "malformed") malformedReported = true;
      if (kind !== undefined) problems.push({ frame, kind, message, info });
    }
    if (!malformedReported && l["_ws.malformed"] !== undefined) {
      problems.push({ frame, kind: "malformed", message: "Malformed Packet", info });
    }
  }
  return { frames: packets.length, problems };
}

/**
 * Whether a checksum complaint says only "0xffff where 0x0000 is correct":
 * 0xffff and 0x0000 are the two one's-complement zeros (RFC 1071, RFC 1624),
 * Linux sometimes sends 0xffff where the sum is zero, a receiver's
 * verification passes either way, and tshark insists on 0x0000. tshark words
 * it as `Bad checksum [should be 0x0000]` or as `TCP Checksum 0xffff instead
 * of 0x0000 (see RFC 1624)`; either way the exemption holds only when the
 * correct value is 0x0000 and the field of that protocol really is 0xffff.
 *
 * @example
 * ```ts
 * import { isZeroChecksumAsFfff } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * const msg = "TCP Checksum 0xffff instead of 0x0000 (see RFC 1624)";
 * assert.equal(isZeroChecksumAsFfff(msg, { "tcp.checksum": ["0xffff"] }), true);
 * assert.equal(isZeroChecksumAsFfff(msg, { "tcp.checksum": ["0x1234"] }), false);
 * assert.equal(isZeroChecksumAsFfff(msg, { "udp.checksum": ["0xffff"] }), false);
 * const other = "TCP Checksum 0xffff instead of 0x0001 (see RFC 1624)";
 * assert.equal(isZeroChecksumAsFfff(other, { "tcp.checksum": ["0xffff"] }), false);
 * ```
 */
export function isZeroChecksumAsFfff(
  message: string,
  layers: Readonly<Record<string, readonly string[] | undefined>>,
): boolean {
  const rfc1624 = /^(TCP|UDP) Checksum 0xffff instead of 0x0000 \(see RFC 1624\)$/.exec(message);
  if (rfc1624 !== null) {
    return layers[`${rfc1624[1]!.toLowerCase()}.checksum`]?.includes("0xffff") === true;
  }
  if (/^Bad checksum \[should be 0x0000\]$/.test(message)) {
    return layers["tcp.checksum"]?.includes("0xffff") === true ||
      layers["udp.checksum"]?.includes("0xffff") === true;
  }
  return false;
}

/** Info column of an ICMP error, whose payload quotes a cut datagram. */
const QUOTING_ERROR = /^(Destination unreachable|Time-to-live exceeded|Parameter problem)/;

/**
 * Runs tshark on `capture` (a path, or bytes written to a temporary file)
 * with `args` after `-r FILE -n`, and returns its standard output.
 *
 * @throws {Error} When tshark exits with an error.
 */
export async function runTshark(
  capture: string | Uint8Array,
  args: readonly string[],
): Promise<string> {
  let path: string;
  let temp: string | undefined;
  if (typeof capture === "string") path = capture;
  else {
    path = temp = await Deno.makeTempFile({ prefix: "netstack-", suffix: ".pcapng" });
    await Deno.writeFile(temp, capture);
  }
  try {
    const out = await new Deno.Command("tshark", {
      // Thrift's heuristic dissector claims random TCP payload (bulk tests)
      // and reports "varint too large": an application protocol we never send.
      // iperf3 (port 5201) sends one random buffer over and over: once a run's
      // buffer holds bytes some heuristic dissector takes for its protocol,
      // every pass of it is a "[Malformed Packet]" in a header-only capture
      // (session 9's CI: 31 such frames at a fixed spacing); its payload is
      // plain data to us.
      args: [
        "-r",
        path,
        "-n",
        "--disable-protocol",
        "thrift",
        "-d",
        "tcp.port==5201,data",
        "-d",
        "udp.port==5201,data",
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `Cannot read ${path} with tshark (exit ${out.code}): ` +
          new TextDecoder().decode(out.stderr).trim(),
      );
    }
    return new TextDecoder().decode(out.stdout);
  } finally {
    if (temp !== undefined) await Deno.remove(temp);
  }
}

/**
 * Fails (AssertionError listing every problem) unless tshark finds the
 * capture clean. When tshark is unavailable it throws under CI, and
 * elsewhere prints the reason once and returns the `skipped` result.
 *
 * @returns The result, for further assertions.
 * @example
 * ```ts
 * import { assertTsharkClean } from "./_tshark.ts";
 * await assertTsharkClean(new URL("./fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname);
 * ```
 */
export async function assertTsharkClean(
  capture: string | Uint8Array,
  options: TsharkOptions = {},
): Promise<TsharkResult> {
  const r = await tsharkProblems(capture, options);
  if (r.skipped !== undefined) return r; // outside CI only; the reason was printed
  const lines = r.problems.map((p) => `frame ${p.frame} (${p.info}): ${p.kind}: ${p.message}`);
  let detail = "";
  const malformed = r.problems.find((p) => p.kind === "malformed");
  if (malformed !== undefined) {
    // The capture is usually deleted afterwards: the first malformed frame's
    // dissection and bytes go into the message for whoever reads the CI log.
    const v = await runTshark(capture, ["-Y", `frame.number == ${malformed.frame}`, "-V", "-x"]);
    detail = `\nframe ${malformed.frame} in full:\n${v.split("\n").slice(0, 150).join("\n")}`;
  }
  assert.deepEqual(lines, [], `tshark found problems:\n${lines.join("\n")}${detail}`);
  return r;
}

/**
 * The `fields` of the packets `filter` selects (`tshark -Y filter -T fields
 * -e …`, after `options` such as `-o` preferences), one row of strings per
 * packet, an empty field as ""; blank lines are dropped.
 *
 * @example
 * ```ts
 * import { tsharkRows } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * const pcap = new URL("./fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname;
 * const rows = await tsharkRows(pcap, "icmp.type == 8", ["ip.src", "ip.dst"]);
 * assert.deepEqual(rows, Array(3).fill(["10.77.0.1", "10.77.0.2"]));
 * ```
 */
export async function tsharkRows(
  capture: string | Uint8Array,
  filter: string,
  fields: readonly string[],
  options: readonly string[] = [],
): Promise<string[][]> {
  const out = await runTshark(capture, [
    ...options,
    "-Y",
    filter,
    "-T",
    "fields",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  return out.split("\n").filter((l) => l.trim() !== "").map((l) => l.split("\t"));
}

/**
 * Whether a tshark boolean field (a flag) is set: tshark prints `1` or `True`, by version.
 *
 * @example
 * ```ts
 * import { tsharkTrue } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(["1", "True", "0", "False", ""].map(tsharkTrue), [true, true, false, false, false]);
 * ```
 */
export function tsharkTrue(value: string | undefined): boolean {
  return value === "1" || value === "True";
}

/**
 * Wireshark's notes on segments tcpdump missed (a loaded machine drops some
 * of a burst): capture gaps, not faults of the stack.
 *
 * @example
 * ```ts
 * import { CAPTURE_GAP_WARNINGS } from "./_tshark.ts";
 * import assert from "node:assert/strict";
 * assert.ok(CAPTURE_GAP_WARNINGS.some((r) => r.test("Previous segment(s) not captured (common at capture start)")));
 * ```
 */
export const CAPTURE_GAP_WARNINGS: readonly RegExp[] = [
  /^ACKed segment that wasn't captured/,
  /^Previous segment.* not captured/,
];
