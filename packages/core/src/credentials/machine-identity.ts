import type { PemInput } from "../mint/x509-signer.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import type { MachineCertificate, MachinePrivateKey } from "./token-refresher-options.js";

/** The refresher's certificate and key inputs: files read at every refresh, or PEM given. */
export interface MachineIdentityInputs {
  cert: PemInput;
  key: PemInput;
}

/**
 * Checks the certificate and key options once, when the refresher starts: each given one way
 * (a path, PEM, or the deprecated `certPem`/`keyPem` path), no PEM where a path belongs and a PEM
 * block where PEM belongs. Messages name the option and never quote its value (a key).
 *
 * @throws TypeError for options no refresh could use.
 */
export function machineIdentityInputs(
  options: MachineCertificate & MachinePrivateKey,
  caller = "startTokenRefresher",
): MachineIdentityInputs {
  return {
    cert: pemInput(options, caller, {
      file: "certFile",
      pem: "cert",
      deprecated: "certPem",
      what: "certificate",
    }),
    key: pemInput(options, caller, {
      file: "keyFile",
      pem: "key",
      deprecated: "keyPem",
      what: "private key",
    }),
  };
}

interface Names {
  file: "certFile" | "keyFile";
  pem: "cert" | "key";
  deprecated: "certPem" | "keyPem";
  what: string;
}

function pemInput(options: Record<string, unknown>, caller: string, names: Names): PemInput {
  const given = [names.file, names.pem, names.deprecated].filter((n) => options[n] !== undefined);
  const [name] = given;
  if (name === undefined || given.length > 1) {
    const how = `give ${names.file} (a path) or ${names.pem} (PEM text or bytes)`;
    const problem = name === undefined ? `no ${names.what}` : `the ${names.what} given ${given.length} ways`;
    throw new TypeError(`${caller}: ${problem}: ${how}`);
  }
  const value = options[name];
  if (name === names.pem) {
    const pem =
      typeof value === "string"
        ? new TextEncoder().encode(value)
        : value instanceof Uint8Array
          ? new Uint8Array(value) // a copy: the caller may reuse its buffer
          : undefined;
    if (pem === undefined) {
      throw new TypeError(`${caller}: ${name} must be PEM text or bytes, not ${typeof value}`);
    }
    if (!Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).includes("-----BEGIN ")) {
      throw new TypeError(`${caller}: ${name} holds no PEM block (not shown); a path goes in ${names.file}`);
    }
    return { name, pem };
  }
  const problem = filePathProblem(value);
  if (problem !== undefined) {
    throw new TypeError(`${caller}: ${name} is ${problem}; PEM goes in ${names.pem}`);
  }
  return { path: value as string };
}
