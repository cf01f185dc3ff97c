import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { shmPath } from './shm-key.js';

/** A registered region, as SystemSharedMemoryStatus reports it. */
export interface RegionStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byteSize: number;
}

interface Region extends RegionStatus {
  readonly fd: number;
  /** Requests holding it (their outputs are still to be written). */
  users: number;
  /** Unregistered while in use: the descriptor closes when the last user lets go. */
  unregistered: boolean;
}

/**
 * Part of a region held by one request for one output until the response is written;
 * the region stays open while held, even if it is unregistered meanwhile.
 */
export interface RegionLease {
  readonly byteSize: number;
  /** Writes `bytes` at the start of the leased part; too large for it is the client's error. */
  write(bytes: Uint8Array, output: string): void;
  /** Lets the region go (idempotent). */
  release(): void;
}

/**
 * Triton's system shared memory: regions clients create in /dev/shm and register by
 * name, then name in requests instead of sending tensor bytes. Nereid has no mmap, so a
 * region is an open file descriptor and tensors move with pread/pwrite (positional
 * reads and writes on that descriptor): a copy per tensor, as receiving it over gRPC
 * would take, and no way for a client that shrinks the object to crash the server
 * (an mmap'd page past the end raises SIGBUS; a pread just comes back short).
 * Every offset and size is checked against the registration and the object's real size.
 * Main thread only.
 */
export class SystemSharedMemory {
  private readonly regions = new Map<string, Region>();

  constructor(
    /** Register allowed (--allow-client-shm); status and unregister always work. */
    private readonly allowRegister: boolean,
    private readonly logger: Logger,
  ) {}

  register(name: string, key: string, offset: number, byteSize: number): void {
    if (!this.allowRegister) {
      throw new InferError('SHM_DISABLED', "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.");
    }
    if (this.regions.has(name)) throw new InferError('SHM_REGION_EXISTS', `shared memory region ${quote(name)} already in manager`);
    const invalid = (why: string) => new InferError('SHM_REGION_INVALID', `failed to register shared memory region ${quote(name)}: invalid args (${why})`);
    if (name === '') throw invalid('the region needs a name');
    if (byteSize <= 0) throw invalid('byte_size must be above 0');
    const file = shmPath(key);
    if ('problem' in file) throw new InferError('SHM_REGION_INVALID', `Unable to open shared memory region: ${quote(key)}: ${file.problem}`);
    let fd: number;
    try {
      // O_NOFOLLOW: a link placed in /dev/shm cannot point the server at another file.
      fd = openSync(file.path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (err) {
      throw new InferError('SHM_REGION_INVALID', `Unable to open shared memory region: ${quote(key)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw invalid(`${quote(key)} is not a shared memory object`);
      if (offset + byteSize > info.size) throw invalid(`offset ${offset} + byte_size ${byteSize} is past the end of ${quote(key)} (${info.size} bytes)`);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.regions.set(name, { name, key, offset, byteSize, fd, users: 0, unregistered: false });
    this.logger.debug({ region: name, key, offset, byteSize }, 'system shared memory region registered');
  }

  /** Every region, or the one named (NOT_FOUND when it is not registered). */
  status(name: string): RegionStatus[] {
    const status = (r: Region): RegionStatus => ({ name: r.name, key: r.key, offset: r.offset, byteSize: r.byteSize });
    if (name === '') return [...this.regions.values()].map(status);
    const region = this.regions.get(name);
    if (region === undefined) throw new InferError('SHM_REGION_NOT_FOUND', `Unable to find system shared memory region: ${quote(name)}`);
    return [status(region)];
  }

  /**
   * Unregisters one region ('' for all); an unknown name is not an error (as in Triton).
   * A region that requests still hold closes only after the last of them is answered.
   */
  unregister(name: string): void {
    const names = name === '' ? [...this.regions.keys()] : [name];
    for (const n of names) {
      const region = this.regions.get(n);
      if (region === undefined) continue;
      this.regions.delete(n);
      region.unregistered = true;
      if (region.users === 0) closeSync(region.fd);
    }
  }

  /** Registered regions (tests and shutdown). */
  get size(): number {
    return this.regions.size;
  }

  /** Reads `byteSize` bytes at `offset` of a region into a new buffer (an input tensor). */
  read(name: string, offset: number, byteSize: number): Uint8Array {
    const region = this.checked(name, offset, byteSize);
    const bytes = Buffer.allocUnsafe(byteSize);
    const got = byteSize === 0 ? 0 : readSync(region.fd, bytes, 0, byteSize, region.offset + offset);
    if (got !== byteSize) throw shrank(region);
    return bytes;
  }

  /** Holds part of a region for an output that will be written when the response is ready. */
  lease(name: string, offset: number, byteSize: number): RegionLease {
    const region = this.checked(name, offset, byteSize);
    region.users += 1;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      region.users -= 1;
      if (region.users === 0 && region.unregistered) closeSync(region.fd);
    };
    return {
      byteSize,
      write(bytes: Uint8Array, output: string) {
        if (bytes.byteLength > byteSize) {
          throw new InferError(
            'SHM_OUTPUT_TOO_SMALL',
            `shared memory size specified with the request for output ${quote(output)} (${byteSize} bytes) should be at least ${bytes.byteLength} bytes to hold the results`,
          );
        }
        // The registration was checked against the object's size; if the client has shrunk it since, a write would grow it back behind its back.
        if (fstatSync(region.fd).size < region.offset + offset + bytes.byteLength) throw shrank(region);
        let written = 0;
        while (written < bytes.byteLength) {
          written += writeSync(region.fd, bytes, written, bytes.byteLength - written, region.offset + offset + written);
        }
      },
      release,
    };
  }

  /** Closes every region (shutdown). */
  close(): void {
    for (const region of this.regions.values()) if (region.users === 0) closeSync(region.fd);
    this.regions.clear();
  }

  /** Triton's checks of a request's offset and size against the registered region. */
  private checked(name: string, offset: number, byteSize: number): Region {
    const region = this.regions.get(name);
    if (region === undefined) throw new InferError('SHM_REGION_NOT_FOUND', `Unable to find shared memory region: ${quote(name)}`);
    if (offset < 0 || offset >= region.byteSize) throw new InferError('SHM_BOUNDS', `Invalid offset for shared memory region: ${quote(name)}`);
    if (byteSize < 0 || offset + byteSize > region.byteSize) throw new InferError('SHM_BOUNDS', `Invalid offset + byte size for shared memory region: ${quote(name)}`);
    return region;
  }
}

function shrank(region: Region): InferError {
  return new InferError('SHM_BOUNDS', `shared memory region ${quote(region.name)} is smaller than registered: ${quote(region.key)} was truncated`);
}
