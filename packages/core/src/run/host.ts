import { hostname } from 'node:os';

/** This machine's name, as recorded in summaries and locks. */
export const HOST = hostname();

/** Whether process `pid` on this machine is alive (EPERM: alive, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
