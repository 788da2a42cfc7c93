type StatusBadgeProps = { status: string; testId?: string };

/** A coloured pill for agent/task/question statuses (class `badge--<status>`). */
export function StatusBadge({ status, testId }: StatusBadgeProps) {
  return (
    <span className={`badge badge--${status.replace(/[^a-z_-]/gi, '')}`} data-testid={testId}>
      {status}
    </span>
  );
}
