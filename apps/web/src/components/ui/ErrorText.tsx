import { errorMessage } from '../../lib/api-client';

type ErrorTextProps = { error: unknown; testId?: string };

/** An error line (nothing when there is no error). */
export function ErrorText({ error, testId }: ErrorTextProps) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {errorMessage(error)}
    </p>
  );
}
