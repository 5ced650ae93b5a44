/**
 * The analyzer registry read by the flow engine (src/network/flows.ts).
 * Order matters only among analyzers whose probe accepts the same bytes:
 * port hints are tried first, then this order. Catch-all analyzers
 * (`payload`) go last.
 *
 * HTTP and DNS: flows/HTTP/DNS owner. The rest: protocol-analyzer owner.
 */
import type { AnalyzerFactory } from '../analyzer.js';
import { dnsTcpAnalyzer, dnsUdpAnalyzer } from '../dns.js';
import { httpAnalyzer } from '../http.js';
import { dceRpcAnalyzer } from './dcerpc.js';
import { krbTcpAnalyzer, krbUdpAnalyzer } from './kerberos.js';
import { payloadAnalyzer } from './payload.js';
import { rdpAnalyzer } from './rdp.js';
import { smbAnalyzer } from './smb.js';
import { sshAnalyzer } from './ssh.js';
import { stratumAnalyzer } from './stratum.js';
import { tlsAnalyzer } from './tls.js';

export const analyzers: AnalyzerFactory[] = [
  httpAnalyzer,
  dnsUdpAnalyzer,
  dnsTcpAnalyzer,
  smbAnalyzer,
  dceRpcAnalyzer,
  rdpAnalyzer,
  tlsAnalyzer,
  sshAnalyzer,
  krbUdpAnalyzer,
  krbTcpAnalyzer,
  stratumAnalyzer,
  payloadAnalyzer,
];

export { parseNtlmMessage, NtlmTracker } from './ntlm.js';
export { payloadAnalyzer };
