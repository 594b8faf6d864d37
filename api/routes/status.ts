/** The public status: `GET /v1/status` (JSON) and `GET /status` (the HTML page). No key needed. */
import type { FastifyInstance } from 'fastify';
import { StatusPage } from '../status-page';

export async function statusRoutes(app: FastifyInstance): Promise<void> {
  const { snapshot, now } = app.deps;
  const page = new StatusPage(snapshot, now);

  app.get('/v1/status', {
    schema: {
      tags: ['status'],
      description: 'Per gateway, mode and method: operational, degraded, partial_outage or major_outage, with 90 days of uptime; open and recent incidents.',
    },
  }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=5');
    return page.view();
  });

  app.get('/status', { schema: { tags: ['status'], description: 'The public status page (HTML).' } }, async (_req, reply) => {
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'public, max-age=5')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff');
    return page.html();
  });
}
