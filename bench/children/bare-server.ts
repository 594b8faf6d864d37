/**
 * The payment-options baseline: a bare Fastify server (same Fastify version as the API, no
 * logger, no auth, no schema) whose one route answers GET /v1/payment-options with a constant
 * JSON body read from a file: a real answer of the API, so the bytes on the wire are the same.
 * Input (argv[2], JSON): { port, bodyFile }.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

async function main(): Promise<void> {
  const { port, bodyFile } = JSON.parse(process.argv[2] ?? '{}') as { port: number; bodyFile: string };
  const body = readFileSync(bodyFile, 'utf8');
  const app = Fastify({ logger: false });
  app.get('/v1/payment-options', async (_req, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8');
    return body;
  });
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await app.listen({ port, host: '127.0.0.1' });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
