// Mutual TLS against a server started with --tls-client-ca; exits non-zero on a mismatch.
//
//   (cd client-typescript && npm run build) && node client-typescript/dist/examples/mtls.js 127.0.0.1:50443 tls/
//
// DIR holds ca.pem, client.pem and client.key (README: "Client certificates"). The client
// certificate lets listPipelines in; without one the call fails (UNAVAILABLE: the handshake is
// refused); a certificate without its key throws before any call. With DEAD (an address nobody
// listens on) as a third argument, also TLS with several targets: new Client([DEAD, target]) gets
// in through the second, checking the certificate for the first target's host, or for
// `serverName`; a serverName the certificate lacks fails the handshake.
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

async function severalTargets(target: string, dir: string, dead: string): Promise<void> {
  const creds = tlsCredentials({ caFile: `${dir}/ca.pem`, certFile: `${dir}/client.pem`, keyFile: `${dir}/client.key` });
  for (const serverName of [undefined, "localhost"]) {
    const client = new Client([dead, target], creds, serverName === undefined ? {} : { serverName });
    try {
      const names = (await client.listPipelines({}, { deadline: 20_000 })).pipelines.map((p) => p.name);
      if (!names.includes("orders")) throw new Error(`pipeline orders not listed: ${names}`);
    } finally {
      client.close();
    }
    console.log(`ok   mTLS, targets [DEAD, server], serverName ${serverName}: the second one answers`);
  }
  const wrong = new Client([dead, target], creds, { serverName: "wrong.example" });
  try {
    await wrong.listPipelines({}, { deadline: 20_000 });
    throw new Error("a certificate without the server name was accepted");
  } catch (err) {
    const ok = err instanceof OrchestratorError
      && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED);
    if (!ok) throw err;
  } finally {
    wrong.close();
  }
  console.log("ok   mTLS, several targets: a serverName the certificate lacks fails the handshake");
}

main(process.argv[2], process.argv[3])
  .then(() => (process.argv[4] ? severalTargets(process.argv[2], process.argv[3], process.argv[4]) : undefined))
  .catch((err) => {
  console.error("FAIL", err);
  process.exit(1);
});
