/**
 * A Linux kernel-socket peer for TCP transfers over TUN (the offload tests,
 * `bench/tun_tcp_bench.ts`): a Python program run inside a namespace, either
 * a sender (`send HOST PORT N [SEED]`) or a counting receiver (`recv BIND
 * PORT`, which prints `listening` once it listens), in 256 KiB writes and
 * reads. With `--sha256` it also hashes what it moves (the sender sends
 * `random.Random(SEED)` bytes) and gives up after 60 s without progress;
 * without, it moves zeros and only counts, so that a benchmark times a bare
 * peer. Its last line is JSON: bytes, sha256, CPU seconds.
 *
 * @module
 */

const KERNEL_PEER_PY = `
import socket, sys, json, hashlib, random, resource
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
check = "--sha256" in sys.argv
args = [a for a in sys.argv[4:] if a != "--sha256"]
timeout = 60 if check else None
h = hashlib.sha256()
buf = bytearray(262144)
if mode == "send":
    n = int(args[0])
    rng = random.Random(int(args[1])) if check else None
    s = socket.create_connection((host, port), timeout=timeout)
    mv = memoryview(buf)
    left = n
    while left > 0:
        k = min(left, len(buf))
        if rng is None:
            s.sendall(mv[:k])
        else:
            chunk = rng.randbytes(k)
            h.update(chunk)
            s.sendall(chunk)
        left -= k
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    got = n
else:
    l = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port))
    l.listen(1)
    print("listening", flush=True)
    l.settimeout(timeout)
    s, _ = l.accept()
    s.settimeout(timeout)
    got = 0
    while True:
        k = s.recv_into(buf)
        if k == 0:
            break
        if check:
            h.update(memoryview(buf)[:k])
        got += k
s.close()
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"bytes": got, "sha256": h.hexdigest(), "cpu": r.ru_utime + r.ru_stime}), flush=True)
`;

/** What the peer reports when it is done. */
export interface KernelPeerReport {
  /** Bytes sent or received. */
  readonly bytes: number;
  /** SHA-256 (hex) of those bytes with `--sha256`; of nothing without. */
  readonly sha256: string;
  /** The peer's CPU time, user + system, seconds. */
  readonly cpu: number;
}

/** A running peer: its process and its standard output as lines of text. */
export interface KernelPeer {
  /** The process (`ip netns exec … timeout … python3`). */
  readonly child: Deno.ChildProcess;
  /** Its standard output. */
  readonly lines: ReadableStreamDefaultReader<string>;
}

/** Starts the peer in `netns` with `args` (see the module doc), killed after `seconds` anyway. */
export function startKernelPeer(
  netns: string,
  args: readonly string[],
  seconds: number,
): KernelPeer {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      netns,
      "timeout",
      String(seconds),
      "/usr/bin/python3",
      "-c",
      KERNEL_PEER_PY,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, lines: child.stdout.pipeThrough(new TextDecoderStream()).getReader() };
}

/**
 * Waits for a receiver's `listening` line.
 *
 * @throws {Error} When the peer ends first.
 */
export async function kernelPeerListening(peer: KernelPeer): Promise<void> {
  const first = await peer.lines.read();
  if (first.done || first.value.trim() !== "listening") {
    throw new Error(`the python receiver did not listen: ${await stderrOf(peer)}`);
  }
}

/**
 * Waits for the peer to exit and returns its report.
 *
 * @throws {Error} When it exits with an error.
 */
export async function kernelPeerReport(peer: KernelPeer): Promise<KernelPeerReport> {
  let out = "";
  for (;;) {
    const { value, done } = await peer.lines.read();
    if (done) break;
    out += value;
  }
  const status = await peer.child.status;
  const err = await stderrOf(peer);
  if (!status.success) throw new Error(`python peer exited with ${status.code}: ${err}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "");
}

async function stderrOf(peer: KernelPeer): Promise<string> {
  return new TextDecoder().decode(await new Response(peer.child.stderr).arrayBuffer()).trim();
}
