/** Memory feature: search with score breakdown, entry detail, facts with validity timeline, stats and re-embedding. */
export { MemorySearchPanel } from './components/MemorySearchPanel';
export { MemoryEntryDetail } from './components/MemoryEntryDetail';
export { FactsPanel } from './components/FactsPanel';
export { MemoryStatsPanel } from './components/MemoryStatsPanel';
export { useMemoryLiveUpdates } from './hooks/useMemory';
