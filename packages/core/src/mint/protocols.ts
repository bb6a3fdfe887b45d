/** Wire protocols a TokenMinter client can speak. The LUCI Token Server on App Engine speaks only pRPC. */
export const PROTOCOLS = ["prpc", "connect", "grpc", "grpc-web"] as const;

/** One of {@link PROTOCOLS}. */
export type Protocol = (typeof PROTOCOLS)[number];
