/** A small JSON client over keep-alive sockets: the simulated checkout and operator talking to the real API. */
import { Agent, request } from 'node:http';

export interface JsonReply<T> {
  status: number;
  body: T;
}

export class ApiClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly url: URL;

  constructor(base: string) {
    this.url = new URL(base);
  }

  call<T>(method: string, path: string, key: string, payload?: unknown, timeoutMs = 30_000): Promise<JsonReply<T>> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get<T>(path: string, key: string): Promise<JsonReply<T>> {
    return this.call<T>('GET', path, key);
  }

  post<T>(path: string, key: string, payload: unknown): Promise<JsonReply<T>> {
    return this.call<T>('POST', path, key, payload);
  }

  put<T>(path: string, key: string, payload: unknown): Promise<JsonReply<T>> {
    return this.call<T>('PUT', path, key, payload);
  }

  close(): void {
    this.agent.destroy();
  }
}
