/** Starts a real jobwait server on 127.0.0.1 port 0 for a test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, type ServerDeps, type ServerOptions } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';

/** A listening test server. */
export interface TestServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds and listens; `sqlite` stores go to a fresh temp folder removed on close. */
export async function startTestServer(options: ServerOptions = {}, deps: ServerDeps = {}): Promise<TestServer> {
  const dir = options.store === 'sqlite' && !options.dataDir ? mkdtempSync(join(tmpdir(), 'jobwait-test-')) : undefined;
  const app = await buildServer({ store: 'memory', logLevel: 'silent', ...options, ...(dir ? { dataDir: dir } : {}) }, deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    close: async () => {
      await app.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
