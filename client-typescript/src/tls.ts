// TLS channel credentials from PEM files, with a client certificate for mutual TLS.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";

/** Where tlsCredentials reads its PEM files. */
export interface TlsFiles {
  /** Certificates to trust (e.g. a private CA); absent: Node's default roots. */
  caFile?: string;
  /** Mutual TLS (a server started with --tls-client-ca): the client certificate chain. */
  certFile?: string;
  /** The client certificate's private key; with certFile, never alone. */
  keyFile?: string;
}

/**
 * Channel credentials for `new Client(address, credentials)`. The files are read now, so a
 * missing one throws here rather than at the first call; certFile without keyFile (or the
 * reverse) throws.
 */
export function tlsCredentials(files: TlsFiles = {}): grpc.ChannelCredentials {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new Error("certFile and keyFile go together");
  }
  const read = (path?: string) => (path === undefined ? null : readFileSync(path));
  return grpc.credentials.createSsl(read(files.caFile), read(files.keyFile), read(files.certFile));
}
