export { QuestionsNavBadge } from './components/QuestionsNavBadge';
