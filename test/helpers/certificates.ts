/** Certificates made at test time with the openssl command line: a CA, and leaves it signs. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A certificate and its key, as PEM text and as the files they were written to. */
export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function read(certFile: string, keyFile: string): Pem {
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A self-signed CA (P-256, valid one day) named `name`, in `dir`. */
export function makeCa(dir: string, name: string): Pem {
  const [cert, key] = [path.join(dir, `${name}.crt`), path.join(dir, `${name}.key`)];
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '1'], dir);
  return read(cert, key);
}

/** A leaf certificate for 127.0.0.1 and localhost, usable by a server or a client, signed by `ca`. */
export function makeLeaf(dir: string, ca: Pem, name: string): Pem {
  const [cert, key, csr, ext] = ['crt', 'key', 'csr', 'ext'].map((e) => path.join(dir, `${name}.${e}`)) as [string, string, string, string];
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext], dir);
  return read(cert, key);
}
