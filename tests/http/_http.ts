/**
 * What the `stack.serve()` / `stack.fetch()` tests share: a server stack
 * serving on port 80 for the length of a test body (shut down afterwards),
 * and a raw HTTP exchange on a fresh client connection.
 *
 * @module
 */
import {
  bytes,
  makeServiceEnv,
  readAllText,
  SERVER,
  type ServiceEnv,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";
import type { HttpServer, ServeHandler, ServeOptions } from "../../mod.ts";

/** A test body run while the server serves. */
export type ServerBody = (env: ServiceEnv, server: HttpServer) => Promise<void>;

/**
 * Runs `body` on a fresh client/server pair while the server stack serves
 * port 80 (plus `options`) with the handler `handler(env)` makes; shuts the
 * server down afterwards, whatever happened.
 */
export async function withHttpServer(
  handler: (env: ServiceEnv) => ServeHandler,
  body: ServerBody,
  options: ServeOptions = {},
): Promise<void> {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const server = env.server.serve({ port: 80, ...options }, handler(env));
    try {
      await body(env, server);
    } finally {
      await env.run(() => server.shutdown());
    }
  });
}

/** Sends `text` on a new connection to the server's port 80 and reads until the server closes. */
export function exchange(env: ServiceEnv, text: string | Uint8Array): Promise<string> {
  return env.run(async () => {
    const conn = await env.client.connect({ hostname: SERVER, port: 80 });
    try {
      await writeAll(conn, typeof text === "string" ? bytes(text) : text);
      return await readAllText(conn);
    } finally {
      conn.close();
    }
  });
}
