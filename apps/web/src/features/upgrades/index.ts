/** Upgrades feature: the upgrade queue's page parts, the nav badge and the phone view's pending approvals. */
export { UpgradesNavBadge } from './components/UpgradesNavBadge';
export { PendingUpgrades } from './components/PendingUpgrades';
export { UpgradeList } from './components/UpgradeList';
export { UpgradeDetail } from './components/UpgradeDetail';
export { useUpgrades, useUpgrade, useUpgradesLiveUpdates } from './hooks/useUpgrades';
