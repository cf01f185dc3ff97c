import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../../core/logger.js';

/** Where the endpoint's certificates are (Triton's --grpc-server-cert/-key/--grpc-root-cert). */
export interface TlsFiles {
  /** Require and verify a client certificate chaining to rootCertFile. */
  readonly mutual: boolean;
  readonly certFile: string;
  readonly keyFile: string;
  readonly rootCertFile: string | undefined;
  /** Seconds between reads of the files; 0 = read once. */
  readonly refreshSecs: number;
}

/** One certificate set as read from disk. */
interface CertificateSet {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/**
 * grpc-js server credentials whose certificates can change while serving. grpc-js passes
 * every update to its HTTP/2 servers' setSecureContext: connections accepted afterwards use
 * the new certificates, and connections already open keep the ones they were made with.
 */
class ReloadableServerCredentials extends ServerCredentials {
  constructor(mutual: boolean, initial: SecureContextOptions) {
    // As Triton: mutual TLS requests and verifies a client certificate; plain TLS asks for none.
    super({ requestCert: mutual, rejectUnauthorized: mutual }, initial);
  }

  replace(options: SecureContextOptions): void {
    this.updateSecureContextOptions(options);
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * TLS for the gRPC endpoint, with certificate rotation. The files are read at start-up (a
 * missing, unreadable or mismatched set fails start-up, naming the file) and then every
 * `refreshSecs`. cert-manager and the kubelet replace mounted Secrets by swapping a symlink,
 * and the certificate, key and CA are read one after another, so a read can catch half a
 * swap: every set is checked whole (key matches certificate, PEM parses) before it is used,
 * and a set that fails is logged and skipped, keeping the one that serves; the next read
 * normally finds the finished swap.
 */
export class TlsCertificates {
  private current: CertificateSet;
  private timer: NodeJS.Timeout | undefined;
  private lastProblem = '';
  private readonly reloadable: ReloadableServerCredentials;

  private constructor(
    private readonly files: TlsFiles,
    initial: CertificateSet,
    private readonly logger: Logger,
  ) {
    this.current = initial;
    this.reloadable = new ReloadableServerCredentials(files.mutual, contextOptions(initial));
  }

  /** Reads and checks the files; throws an Error naming the file or the mismatch. */
  static async load(files: TlsFiles, logger: Logger): Promise<TlsCertificates> {
    let set: CertificateSet;
    try {
      set = await readSet(files);
    } catch (err) {
      throw new Error(`TLS certificate files rejected: ${(err as Error).message}`);
    }
    const problem = check(set);
    if (problem !== undefined) throw new Error(`TLS certificate files rejected: ${problem}`);
    const certificates = new TlsCertificates(files, set, logger);
    logger.info({ ...describe(set), mutual: files.mutual, refreshSecs: files.refreshSecs }, 'TLS certificate loaded');
    return certificates;
  }

  /** Credentials for bindAsync; they follow every rotation. */
  get credentials(): ServerCredentials {
    return this.reloadable;
  }

  /** Starts re-reading the files every refreshSecs (nothing when 0). */
  watch(): void {
    if (this.files.refreshSecs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.refresh(), this.files.refreshSecs * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files once; a changed, valid set replaces the one serving new connections. */
  async refresh(): Promise<void> {
    let set: CertificateSet;
    try {
      set = await readSet(this.files);
    } catch (err) {
      this.problem((err as Error).message);
      return;
    }
    if (same(set, this.current)) return;
    const problem = check(set);
    if (problem !== undefined) {
      this.problem(problem);
      return;
    }
    this.current = set;
    this.lastProblem = '';
    this.reloadable.replace(contextOptions(set));
    this.logger.info(describe(set), 'TLS certificate rotated: new connections use it, open ones keep theirs');
  }

  /** Logs a failed read once per distinct problem, so a broken mount does not flood the log. */
  private problem(text: string): void {
    if (text === this.lastProblem) return;
    this.lastProblem = text;
    this.logger.warn({ problem: text }, 'TLS certificate files not used; the previous certificate keeps serving');
  }
}

async function readSet(files: TlsFiles): Promise<CertificateSet> {
  const read = async (file: string, flag: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, '--grpc-server-cert'),
    read(files.keyFile, '--grpc-server-key'),
    files.rootCertFile === undefined ? undefined : read(files.rootCertFile, '--grpc-root-cert'),
  ]);
  return { cert, key, ca };
}

/** Why the set cannot serve (Node's own TLS checks), or undefined. */
function check(set: CertificateSet): string | undefined {
  try {
    createSecureContext(contextOptions(set));
    new X509Certificate(set.cert);
    if (set.ca !== undefined) new X509Certificate(set.ca);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function contextOptions(set: CertificateSet): SecureContextOptions {
  return set.ca === undefined ? { cert: set.cert, key: set.key } : { cert: set.cert, key: set.key, ca: set.ca };
}

function same(a: CertificateSet, b: CertificateSet): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

/** What the log says about a certificate: whose it is and until when. */
function describe(set: CertificateSet): Record<string, unknown> {
  const cert = new X509Certificate(set.cert);
  return { subject: cert.subject.replace(/\n/g, ', '), validTo: cert.validTo, fingerprint256: cert.fingerprint256 };
}
