/**
 * The browser example in one command: a jobwait server (API keys on, CORS for the page's origin)
 * and the product's backend serving the page from another origin.
 *
 *   npm run example:browser     # then open http://localhost:3000 and press the button
 *
 * JOBWAIT_PORT (default 8080) and PORT (default 3000) move them.
 */
import { buildServer, generateApiKey } from '@jobwait/server';
import { startBackend } from './backend.js';

const apiKey = generateApiKey();
// The page is on localhost, jobwait on 127.0.0.1: two origins, as a product and its jobwait would be.
const backend = await startBackend({ jobwaitUrl: () => jobwaitUrl, apiKey: apiKey.key, port: Number(process.env.PORT ?? 3000) });
const jobwait = await buildServer({ store: 'memory', apiKeys: [apiKey.key], corsOrigin: [backend.origin], logLevel: 'warn' });
const jobwaitUrl = await jobwait.listen({ port: Number(process.env.JOBWAIT_PORT ?? 8080), host: '127.0.0.1' });
process.stdout.write(`jobwait on ${jobwaitUrl} (CORS for ${backend.origin} only)\nopen ${backend.origin} in a browser\n`);

const stop = async (): Promise<void> => {
  await backend.close();
  await jobwait.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
