import { Redis } from 'ioredis';

/** A checked `--queue` address: redis://[user:password@]host[:port][/db] (rediss:// for TLS). */
export interface RedisAddress {
  url: string;
  host: string;
  port: number;
  db: number;
  /** The address without its password, for messages. */
  display: string;
}

/** Bad `--queue` value: exit code 2 like any invalid input. */
export class QueueAddressError extends Error {
  readonly exitCode = 2;
}

export function parseRedisUrl(text: string, flag = '--queue'): RedisAddress {
  const allowed = 'allowed: redis://host[:port][/db] or rediss://… (user and password as redis://user:password@host)';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueAddressError(`${flag}: found "${text}", not a URL; ${allowed}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new QueueAddressError(`${flag}: found scheme "${url.protocol}" in "${text}"; ${allowed}`);
  if (!url.hostname) throw new QueueAddressError(`${flag}: found "${text}" without a host; ${allowed}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new QueueAddressError(`${flag}: found database "${path}" in "${text}"; allowed: a database number such as /0`);
  if (url.search || url.hash) throw new QueueAddressError(`${flag}: found "${url.search}${url.hash}" in "${text}"; ${allowed}`);
  const display = `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${path ? `/${path}` : ''}`;
  return { url: text, host: url.hostname, port, db: path === '' ? 0 : Number(path), display };
}

/**
 * A connection for BullMQ: retries forever once up (a restarted Redis is waited for, not fatal) and never times
 * out blocking commands, as BullMQ's workers require.
 */
export function openRedis(address: RedisAddress, name: string): Redis {
  return new Redis(address.url, { maxRetriesPerRequest: null, connectionName: name });
}

/** Fails fast, naming the address, when Redis is not reachable (instead of retrying forever before the first job). */
export async function checkRedis(address: RedisAddress, timeoutMs = 5000): Promise<void> {
  const probe = new Redis(address.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | null = null;
  probe.on('error', (error: Error) => (cause ??= error)); // the socket's own error says more than connect()'s
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new Error(`cannot reach Redis at ${address.display}: ${(cause ?? (error as Error)).message}`);
  } finally {
    probe.disconnect();
  }
}
