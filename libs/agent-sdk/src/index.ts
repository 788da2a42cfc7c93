/**
 * @app/agent-sdk: the client an external agent process uses to join the swarm (REST + Socket.IO), and the
 * helpers behind the `pnpm agent` CLI.
 */
export { AgentClient, type AgentClientOptions, type TaskOffer } from './client';
export { AgentSdkError, RestClient, queryString, type RestClientOptions } from './rest';
export { SeqTracker } from './seq-tracker';
export { planFrame, isUpgradeEvent, AUCTION_OVER_TYPES, type FramePlan, type EndedQuestion } from './dispatch';
export { resolveAgentKey, type ResolvedAgentKey } from './enroll';
export { runCommand, killGroup, failureReason, type RunOptions, type RunResult } from './exec';
export { parseCliArgs, matchesKeywords, USAGE, type CliOptions, type CliParseResult } from './cli-args';
export { proposeUpgrade, getUpgrade, waitForUpgrade, JSON_DIFF_MAX_BYTES, type ProposeUpgradeRequest } from './upgrades';
export { parseProposeArgs, runProposeUpgrade, PROPOSE_USAGE, type ProposeUpgradeCliOptions } from './upgrade-cli';
export { remember, recall, memoryContext, setFact, facts, type RememberRequest } from './memory';
export { runMemoryCommand, MEMORY_COMMANDS, MEMORY_USAGE, type MemoryCommand } from './memory-cli';
export { balance, withdraw, msatToSats, type WithdrawOptions } from './ledger';
export { parseLedgerArgs, runLedgerCommand, LEDGER_COMMANDS, LEDGER_USAGE, type LedgerCommand, type LedgerCliOptions, type LedgerParseResult } from './ledger-cli';
