/**
 * The decoders against the capture fixtures (tests/fixtures/pcaps and its
 * linux-probes/): every packet decodes without throwing, and the
 * structured decode agrees with tshark on every address, port, protocol and
 * length field, frame by frame; the one-line form agrees with `tcpdump -n -S`
 * except where tcpdump decodes application protocols we do not.
 */
import assert from "node:assert/strict";
import { type CaptureRecord, parseCapture } from "../../drivers/pcapfile/mod.ts";
import { decodeFrame, formatDecodedLayers } from "../../stack/wire/decode.ts";
import { describeFrame } from "../../stack/wire/pretty.ts";
import { SHARED_PCAPS, sharedCaptures } from "../_harness.ts";
import { tsharkFields } from "./_tshark_fields.ts";
import { gated } from "../_require.ts";

const FILES = sharedCaptures();

function records(path: string): CaptureRecord[] {
  const r = parseCapture(Deno.readFileSync(path));
  assert.equal(r.error, null, `${path}: ${r.error?.message}`);
  return r.records;
}

function short(path: string): string {
  return path.slice(SHARED_PCAPS.length + 1);
}

Deno.test({
  name: "decoders never throw on any packet of the corpus",
  fn() {
    let n = 0;
    for (const path of FILES) {
      for (const r of records(path)) {
        for (const link of [false, true]) {
          const line = describeFrame(r.data, r.linkType, {
            link,
            originalLength: r.originalLength,
          });
          assert.ok(line.length > 0 && !line.includes("\n"), `${short(path)} #${r.index}`);
        }
        describeFrame(r.data, r.linkType);
        const f = decodeFrame(r.data, r.linkType);
        assert.ok(f.layers.length > 0, `${short(path)} #${r.index}: no layers`);
        formatDecodedLayers(f);
        n++;
      }
    }
    assert.ok(n >= 500, `only ${n} packets in the corpus`);
  },
});

// The fields compared, in tshark's names. Several occurrences (an ICMP error
// and the datagram it quotes) are joined with "," by tshark; ours are the
// layers of that name in order, quoted ones included, so they line up.
const FIELDS = [
  "frame.number",
  "ip.src",
  "ip.dst",
  "ipv6.src",
  "ipv6.dst",
  "tcp.srcport",
  "tcp.dstport",
  "udp.srcport",
  "udp.dstport",
  "ip.proto",
  "frame.len",
  "ip.len",
  "ipv6.plen",
  "udp.length",
  "tcp.len",
] as const;

/**
 * Frames where our decode and tshark's are expected to differ, by
 * `file#frame`, with the reason. Empty: with reassembly off (see
 * `_tshark_fields.ts`) the two agree on every frame of the corpus, including
 * the malformed ones (ip4-trunc #1: both read the 6 header bytes present;
 * tcp-malformed #1-2: both give the ports of a header whose data offset runs
 * past the segment; retransmit-fast009: both take TCP lengths from the IP
 * header of frames cut to 54 bytes) and ICMP errors, whose quoted TCP
 * header has no `tcp.len` in either. Add an entry only with a reason.
 */
const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {};

function ours(r: CaptureRecord): string[] {
  const f = decodeFrame(r.data, r.linkType);
  const of = (name: string, field: string) =>
    f.layers.filter((l) => l.name === name).map((l) => l.fields[field])
      .filter((v) => v !== undefined).join(",");
  return [
    String(r.index),
    of("ipv4", "src"),
    of("ipv4", "dst"),
    of("ipv6", "src"),
    of("ipv6", "dst"),
    of("tcp", "srcPort"),
    of("tcp", "dstPort"),
    of("udp", "srcPort"),
    of("udp", "dstPort"),
    of("ipv4", "protocol"),
    String(r.originalLength),
    of("ipv4", "totalLength"),
    of("ipv6", "payloadLength"),
    of("udp", "length"),
    of("tcp", "payloadLength"),
  ];
}

Deno.test(gated(["tshark"], {
  name: "decodeFrame() agrees with tshark on addresses, ports, protocol and lengths",
  async fn(t) {
    for (const path of FILES) {
      await t.step(short(path), async () => {
        const theirs = await tsharkFields(path, FIELDS);
        assert.equal(theirs.skipped, undefined, "tshark did not run");
        const recs = records(path);
        assert.equal(theirs.rows.length, recs.length, "frame count");
        const diffs: string[] = [];
        for (const r of recs) {
          const key = `${short(path)}#${r.index}`;
          const a = ours(r).join("\t");
          const b = theirs.rows[r.index - 1]!.join("\t");
          if (a !== b && KNOWN_DISAGREEMENTS[key] === undefined) {
            diffs.push(`${key}\n  ours   ${a}\n  tshark ${b}`);
          }
        }
        assert.deepEqual(diffs, [], `fields differ (${FIELDS.join(" ")}):\n${diffs.join("\n")}`);
      });
    }
  },
}));

/** tcpdump -n -S lines without the timestamp, or why not. */
async function tcpdump(path: string): Promise<string[]> {
  const out = await new Deno.Command("tcpdump", {
    args: ["-n", "-S", "-r", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `tcpdump -r ${path} exited with ${out.code}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((l) => l.replace(/^\S+ /, ""));
}

/**
 * Where our one-line form differs from tcpdump's on purpose, by
 * `file#frame`: tcpdump prints two spaces before `[|ip]`; our IPv4 fragment
 * lines carry `(frag id:length@offset+)` and name a later fragment's
 * protocol as `proto N, length L` (tcpdump: `ip-proto-N`).
 */
const TCPDUMP_DIFFERENCES: Readonly<Record<string, string>> = {
  "ip4-trunc.pcap#1": "tcpdump: `IP  [|ip]` (two spaces)",
  "ip_frag_source.pcapng#1": "our fragment suffix",
  "ip_frag_source.pcapng#2": "our fragment suffix; tcpdump ip-proto-1",
  "ip_frag_source.pcapng#3": "our fragment suffix; tcpdump ip-proto-1",
  "ip_frag_source.pcapng#4": "our fragment suffix",
  "ip_frag_source.pcapng#5": "our fragment suffix; tcpdump ip-proto-1",
  "ip_frag_source.pcapng#6": "our fragment suffix; tcpdump ip-proto-1",
  "ipv4-fragmented-4-overlap.pcap#2": "our fragment suffix",
  "ipv4-fragmented-4-overlap.pcap#3": "our fragment suffix; tcpdump ip-proto-6",
  "ipv4-fragmented-4-overlap.pcap#4": "our fragment suffix; tcpdump ip-proto-6",
  "ipv4-fragmented-4-overlap.pcap#5": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#1": "our fragment suffix",
  "linux-probes/tun-hping_frag.pcap#2": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#3": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#4": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#5": "our fragment suffix",
  "linux-probes/tun-hping_frag.pcap#6": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#7": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-hping_frag.pcap#8": "our fragment suffix; tcpdump ip-proto-6",
  "linux-probes/tun-scapy_overlap.pcap#1": "our fragment suffix",
  "linux-probes/tun-scapy_overlap.pcap#2": "our fragment suffix; tcpdump ip-proto-1",
  "linux-probes/tun-scapy_overlap.pcap#3": "our fragment suffix; tcpdump ip-proto-1",
};

/**
 * Whether tcpdump's line is ours plus an application-layer decode: tcpdump
 * appends `: HTTP…`/`: SMTP…` to TCP lines, and replaces `UDP, length N`
 * with a DNS, NTP, SNMP, BOOTP or NetBIOS summary after the same endpoints.
 */
function applicationDecode(our: string, their: string): boolean {
  if (their.startsWith(`${our}:`)) return true;
  const m = /^(.* > [^:]+: )UDP, length \d+$/.exec(our);
  if (m !== null && their.startsWith(m[1]!)) return true;
  // A cut-off IP header claims more than there is: tcpdump goes on into DNS.
  const t = /^(IP truncated-ip - \d+ bytes missing! .* > [^:]+: )/.exec(our);
  return t !== null && their.startsWith(t[1]!);
}

Deno.test(gated(["tcpdump"], {
  name: "describeFrame() agrees with tcpdump -n -S, bar application-layer decodes",
  async fn(t) {
    for (const path of FILES) {
      await t.step(short(path), async () => {
        const lines = await tcpdump(path);
        const recs = records(path);
        assert.equal(lines.length, recs.length, "line count");
        const diffs: string[] = [];
        for (const r of recs) {
          const key = `${short(path)}#${r.index}`;
          const our = describeFrame(r.data, r.linkType, { originalLength: r.originalLength });
          const their = lines[r.index - 1]!;
          const same = our === their || applicationDecode(our, their);
          if (same && TCPDUMP_DIFFERENCES[key] !== undefined) {
            diffs.push(`${key} is listed as a difference but agrees: remove it`);
          }
          if (same || TCPDUMP_DIFFERENCES[key] !== undefined) continue;
          diffs.push(`${key}\n  ours    ${our}\n  tcpdump ${their}`);
        }
        assert.deepEqual(diffs, [], `lines differ:\n${diffs.join("\n")}`);
      });
    }
  },
}));
