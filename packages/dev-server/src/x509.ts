// @peculiar/x509 needs a Reflect polyfill loaded before it (tsyringe); importing it through this
// module keeps that ordering in one place.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };
