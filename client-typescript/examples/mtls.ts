// Mutual TLS against a server started with --tls-client-ca; exits non-zero on a mismatch.
//
//   (cd client-typescript && npm run build) && node client-typescript/dist/examples/mtls.js 127.0.0.1:50443 tls/
//
// DIR holds ca.pem, client.pem and client.key (README: "Client certificates"). The client
// certificate lets listPipelines in; without one the call fails (UNAVAILABLE: the handshake is
// refused); a certificate without its key throws before any call.
import * as grpc from "@grpc/grpc-js";
import { Client, OrchestratorError, tlsCredentials } from "../src";

async function main(target: string, dir: string): Promise<void> {
  const ca = `${dir}/ca.pem`;
  const client = new Client(target, tlsCredentials({ caFile: ca, certFile: `${dir}/client.pem`, keyFile: `${dir}/client.key` }));
  try {
    const reply = await client.listPipelines({}, { deadline: 10_000 });
    const names = reply.pipelines.map((p) => p.name);
    if (!names.includes("orders")) throw new Error(`pipeline orders not listed: ${names}`);
  } finally {
    client.close();
  }
  console.log("ok   mTLS: the client certificate lets listPipelines in");

  const stranger = new Client(target, tlsCredentials({ caFile: ca }));
  try {
    await stranger.listPipelines({}, { deadline: 10_000 });
    throw new Error("a call without a client certificate succeeded");
  } catch (err) {
    if (!(err instanceof OrchestratorError) || err.code !== grpc.status.UNAVAILABLE) throw err;
  } finally {
    stranger.close();
  }
  console.log("ok   mTLS: without a client certificate the call fails (UNAVAILABLE)");

  let refused = false;
  try {
    tlsCredentials({ caFile: ca, certFile: `${dir}/client.pem` });
  } catch {
    refused = true;
  }
  if (!refused) throw new Error("a certificate without its key was accepted");
  console.log("ok   mTLS: a certificate without its key is refused at once");
}

main(process.argv[2], process.argv[3]).catch((err) => {
  console.error("FAIL", err);
  process.exit(1);
});
