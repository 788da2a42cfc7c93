import type { PersonaDto, PersonaId } from '@app/contracts';

/**
 * Static definition of a built-in persona (the prototype's `PERSONAS` table): the wire `PersonaDto` without the
 * running agent. Amounts in sats; `preferredKeywords` are lowercase (a description containing one is "on spec").
 */
export type PersonaDefinition = Omit<PersonaDto, 'agentId'>;

/** Agent id of a spawned persona. */
export const personaAgentId = (id: PersonaId): string => `persona-${id}`;

/** The nine personas of the prototype with their rate/base/jitter (timmy-original.md section 2). */
export const PERSONAS: readonly PersonaDefinition[] = [
  {
    id: 'echo',
    name: 'Echo',
    role: 'Research Analyst',
    description: 'Finds, reads and summarises sources; checks facts and cites where they came from.',
    capabilities: ['research', 'summarization', 'fact-checking'],
    preferredKeywords: ['research', 'summarize', 'summary', 'find', 'search', 'explain', 'investigate', 'fact', 'source', 'citation', 'compare', 'overview', 'report'],
    rateSats: 50,
    baseBidSats: 35,
    jitterSats: 15,
  },
  {
    id: 'mace',
    name: 'Mace',
    role: 'Security Sentinel',
    description: 'Audits code and systems for vulnerabilities, watches for threats and analyses incidents.',
    capabilities: ['security', 'monitoring', 'threat-analysis'],
    preferredKeywords: ['security', 'vulnerability', 'threat', 'audit', 'firewall', 'scan', 'attack', 'breach', 'intrusion', 'encrypt', 'password', 'exploit', 'incident', 'malware'],
    rateSats: 75,
    baseBidSats: 55,
    jitterSats: 20,
  },
  {
    id: 'helm',
    name: 'Helm',
    role: 'DevOps Navigator',
    description: 'Deploys, configures and automates infrastructure: containers, pipelines and servers.',
    capabilities: ['devops', 'automation', 'configuration'],
    preferredKeywords: ['deploy', 'infrastructure', 'config', 'docker', 'kubernetes', 'server', 'automate', 'automation', 'pipeline', 'terraform', 'ansible', 'provision', 'nginx', 'systemd'],
    rateSats: 60,
    baseBidSats: 40,
    jitterSats: 20,
  },
  {
    id: 'seer',
    name: 'Seer',
    role: 'Data Oracle',
    description: 'Analyses data, spots trends, builds charts and forecasts what comes next.',
    capabilities: ['analytics', 'visualization', 'prediction'],
    preferredKeywords: ['predict', 'forecast', 'trend', 'analytics', 'data', 'chart', 'graph', 'statistic', 'pattern', 'dashboard', 'metric', 'visualize', 'regression'],
    rateSats: 65,
    baseBidSats: 45,
    jitterSats: 20,
  },
  {
    id: 'forge',
    name: 'Forge',
    role: 'Code Smith',
    description: 'Writes, fixes, refactors and tests code.',
    capabilities: ['coding', 'debugging', 'testing'],
    preferredKeywords: ['code', 'function', 'bug', 'fix', 'refactor', 'test', 'implement', 'class', 'script', 'debug', 'compile', 'program', 'typescript', 'python'],
    rateSats: 55,
    baseBidSats: 38,
    jitterSats: 17,
  },
  {
    id: 'quill',
    name: 'Quill',
    role: 'Content Scribe',
    description: 'Writes and edits prose: documentation, articles, guides and release notes.',
    capabilities: ['writing', 'editing', 'documentation'],
    preferredKeywords: ['write', 'draft', 'document', 'edit', 'blog', 'article', 'readme', 'proofread', 'essay', 'guide', 'changelog', 'prose', 'copywriting', 'tutorial'],
    rateSats: 45,
    baseBidSats: 30,
    jitterSats: 15,
  },
  {
    id: 'pixel',
    name: 'Pixel',
    role: 'Visual Architect',
    description: 'Generates images, designs layouts and draws storyboards.',
    capabilities: ['image-generation', 'storyboard', 'design'],
    preferredKeywords: ['image', 'picture', 'design', 'illustration', 'logo', 'storyboard', 'sketch', 'visual', 'graphic', 'icon', 'mockup', 'poster', 'artwork'],
    rateSats: 80,
    baseBidSats: 60,
    jitterSats: 20,
  },
  {
    id: 'lyra',
    name: 'Lyra',
    role: 'Sound Weaver',
    description: 'Composes music, writes lyrics and produces vocals.',
    capabilities: ['music-generation', 'vocals', 'composition'],
    preferredKeywords: ['music', 'song', 'melody', 'compose', 'lyrics', 'vocals', 'beat', 'track', 'audio', 'chord', 'harmony', 'instrument', 'jingle'],
    rateSats: 90,
    baseBidSats: 70,
    jitterSats: 20,
  },
  {
    id: 'reel',
    name: 'Reel',
    role: 'Motion Director',
    description: 'Produces video and animation: clips, trailers and motion graphics.',
    capabilities: ['video-generation', 'animation', 'motion'],
    preferredKeywords: ['video', 'animation', 'animate', 'motion', 'clip', 'film', 'scene', 'trailer', 'camera', 'footage', 'cinematic', 'montage'],
    rateSats: 100,
    baseBidSats: 80,
    jitterSats: 20,
  },
];

/** The persona definition for `id`, or undefined. */
export function findPersona(id: string): PersonaDefinition | undefined {
  return PERSONAS.find((p) => p.id === id);
}
