import path from 'node:path';

/** Where Linux keeps POSIX shared memory objects (shm_open(3) names map to files here). */
export const SHM_DIR = '/dev/shm';

/** Longest name of a file in /dev/shm (NAME_MAX). */
const NAME_MAX = 255;

/**
 * The file in /dev/shm behind a POSIX shared memory name, or why the key is not one:
 * a key is `/` followed by 1 to 255 characters, none of them `/` or NUL, and not `.` or
 * `..` (shm_open(3)). So a key can only ever name a file directly inside /dev/shm.
 */
export function shmPath(key: string): { path: string } | { problem: string } {
  const name = key.slice(1);
  if (!key.startsWith('/') || name.length === 0 || name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
    return { problem: "a POSIX shared memory key is '/' followed by a name without '/' (such as '/input_simple')" };
  }
  if (Buffer.byteLength(name) > NAME_MAX) return { problem: `the name is longer than ${NAME_MAX} bytes` };
  return { path: path.join(SHM_DIR, name) };
}
