/**
 * The Worker that runs one partition for `runPartitioned` (partition.ts):
 * gets a `PartitionInit`, answers `{ ok, out }` or `{ ok: false, error }`.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { runPartition } from "./_partition_run.ts";
import type { PartitionInit } from "./_partition_run.ts";

self.onmessage = async (e: MessageEvent<PartitionInit>) => {
  try {
    const out = await runPartition(e.data);
    self.postMessage({ ok: true, out });
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    self.postMessage({ ok: false, error });
  }
};
