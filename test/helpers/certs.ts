// SPDX-License-Identifier: MIT
//
// A throwaway certificate authority made with openssl in a test's directory:
// its CA certificate, and a server certificate for 127.0.0.1 / localhost
// signed by it (also usable as a client certificate).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  /** PEM files. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes DIR/NAME/{ca,cert,key}.pem (P-256 keys, valid two days). */
export function makeCa(dir: string, name: string): TestCa {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: at, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl([
    'req', '-x509', ...EC, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=exec-tracer test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(['req', ...EC, '-keyout', 'key.pem', '-out', 'cert.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(at, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl([
    'x509', '-req', '-in', 'cert.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '2',
    '-extfile', 'ext.cnf',
  ]);
  return { caFile: join(at, 'ca.pem'), certFile: join(at, 'cert.pem'), keyFile: join(at, 'key.pem') };
}
