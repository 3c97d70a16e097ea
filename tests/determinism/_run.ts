/**
 * Runs a determinism scenario in a fresh `deno run` process and returns the
 * SHA-256 of the capture file it wrote.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** `run.ts`, resolved relative to this module. */
const RUN = new URL("./run.ts", import.meta.url);

/**
 * Runs scenario `name` in its own process (read and write permissions only)
 * and hashes the capture it writes.
 *
 * @throws {Error} When the process fails (its stderr is in the message).
 */
export async function scenarioHash(name: string): Promise<{ sha256: string; bytes: number }> {
  const out = await Deno.makeTempFile({
    prefix: `netstack-det-${Deno.pid}-${name}-`,
    suffix: ".pcap",
  });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", "--allow-write", RUN.pathname, name, out],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!r.success) {
      throw new Error(
        `Cannot run scenario ${name} (exit ${r.code}): ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
    const bytes = await Deno.readFile(out);
    return { sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
  } finally {
    await Deno.remove(out);
  }
}

/** One entry of `hashes.json`. */
export interface StoredHash {
  /** SHA-256 of the capture bytes, hex. */
  readonly sha256: string;
  /** What the scenario is and why this hash (last change) is right. */
  readonly why: string;
}

/** `hashes.json`, resolved relative to this module. */
export const HASHES: URL = new URL("./hashes.json", import.meta.url);
