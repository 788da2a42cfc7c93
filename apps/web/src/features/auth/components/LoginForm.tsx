import '../auth.css';
import { useState, type FormEvent } from 'react';
import { ErrorText } from '../../../components/ui/ErrorText';
import { useLogin } from '../hooks/useAuth';

/** Username + password login; errors (bad credentials, rate limit) are shown under the form. */
export function LoginForm() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useLogin();
  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ username: username.trim(), password });
  };
  return (
    <form className="login" onSubmit={handleSubmit} data-testid="login-form">
      <h1>
        <span className="logo" aria-hidden="true">
          ◎
        </span>{' '}
        Mission Control
      </h1>
      <label className="field">
        <span>Username</span>
        <input
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          data-testid="login-username"
        />
      </label>
      <label className="field">
        <span>Password</span>
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          enterKeyHint="go"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="login-password"
        />
      </label>
      <button type="submit" className="btn btn--primary btn--block" disabled={login.isPending} data-testid="login-submit">
        {login.isPending ? 'Signing in…' : 'Sign in'}
      </button>
      <ErrorText error={login.error} testId="login-error" />
    </form>
  );
}
