/** Every evidence reader, in the order their sniffers are asked. */
import type { EvidenceReader } from './types.js';
import { evtxReader } from './evtx/index.js';
import { pcapReader, pcapngReader } from './pcap/index.js';
import { zeekReader } from './zeek/index.js';
import { eveReader } from './eve/index.js';
import { weblogReader } from './weblog/index.js';

export const readers: readonly EvidenceReader[] = [evtxReader, pcapReader, pcapngReader, eveReader, zeekReader, weblogReader];
