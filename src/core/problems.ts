/** A problem met while reading evidence: reported with file and offset, then skipped. */
export interface ParseProblem {
  /** Evidence id. */
  evidence: string;
  /** Byte offset in the (decompressed) file, when known. */
  offset?: number;
  /** Record / frame / line number, when known. */
  record?: number;
  reason: string;
  /** `warning`: read anyway (e.g. checksum mismatch); `error`: a part was skipped. */
  severity: 'warning' | 'error';
}

export type ProblemSink = (p: ParseProblem) => void;
