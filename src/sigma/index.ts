/**
 * Sigma rule engine (specification 2.0, all value modifiers, correlation rules).
 *
 *   loadSigmaRules(paths, opts?)   → { rules, unsupported: {path,title,reason}[] , files }
 *   new SigmaEngine(rules, {minLevel, prefilter}) .match(event, emit) / .finish(emit)
 *                                   (prefilter: necessary-literal prefilter, default on)
 *   sigmaDetectorModule(rules, opts?)  DetectorModule 'sigma' for investigate()
 *   mapLogsource(logsource)         logsource → channel/provider/event-id variants
 *
 * SigmaHQ rules are under the Detection Rule License 1.1: every view of a match
 * shows the rule's author (RuleMeta.author) and a link (RuleMeta.link).
 */
export { loadSigmaRules, parseSigmaYaml, levelRank, levelToSeverity, parseTimespan, ruleLink } from './rules.js';
export type { SigmaRule, DetectionRule, CorrelationRule, RuleMeta, Unsupported, LoadResult, LoadOptions, SigmaLevel } from './rules.js';
export { SigmaEngine } from './engine.js';
export type { SigmaHit, EngineOptions } from './engine.js';
export { sigmaDetectorModule, sigmaSourceNote } from './detector.js';
export type { SigmaDetectorOptions } from './detector.js';
export { mapLogsource, logsourceTable, FIELDS_4688 } from './logsource.js';
export type { LogsourceVariant } from './logsource.js';
export { compileDetection, SigmaUnsupported, EventView, KEYWORD_FIELD } from './compile.js';
export type { NeedLit, CompiledDetection } from './compile.js';
export { LiteralIndex } from './prefilter.js';
