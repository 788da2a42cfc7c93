export * from './events';
export * from './channels';
export * from './auth';
export * from './swarm';
export * from './api';
export * from './realtime';
export * from './router';
export * from './upgrades';
